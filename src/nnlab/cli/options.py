"""Option types shared by the commands: each refuses a bad value with a message that says why."""

from __future__ import annotations

import argparse
import math


def _number(text: str, kind, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _bounded(kind, what: str, ok, rule: str):
    """An argparse type: parse `kind`, then refuse values for which `ok` is false, saying `rule`."""

    def parse(text: str):
        value = _number(text, kind, what)
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{rule}, got {value}")
        return value

    return parse


positive_int = _bounded(int, "a whole number", lambda v: v >= 1, "must be at least 1")
nonnegative_int = _bounded(int, "a whole number", lambda v: v >= 0, "must be 0 or more")
positive_float = _bounded(float, "a number", lambda v: v > 0, "must be greater than 0")
nonnegative_float = _bounded(float, "a number", lambda v: v >= 0, "must be 0 or more")
fraction = _bounded(float, "a number", lambda v: 0 < v < 1, "must be between 0 and 1 (exclusive)")
fraction_or_zero = _bounded(float, "a number", lambda v: 0 <= v < 1, "must be at least 0 and below 1")


def int_list(text: str) -> list[int]:
    """`256,128` -> [256, 128]; an empty string means no hidden layer."""
    if text.strip() == "":
        return []
    try:
        values = [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of whole numbers") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"sizes must be at least 1, got {text!r}")
    return values


def name_list(text: str) -> list[str]:
    """`0,6` or `Shirt,Coat` -> a list of class indices or names."""
    items = [t.strip() for t in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(f"cannot read the list {text!r}; give values like 0,6")
    return items
