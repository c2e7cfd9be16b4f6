"""What a setting's value may be. One rule both checks a value given in Python and parses one typed on the
command line, so `nnlab.train(lr=-1)` and `nnlab train --lr -1` are refused with the same words."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Number:
    """An int or a float within bounds: `ok(value)` says whether it is, `says` what it must be."""

    kind: type
    ok: Callable[[Any], bool]
    says: str

    def parse(self, text: str):
        try:
            value = self.kind(text)
        except ValueError:
            raise ValueError(f"{text!r} is not {'a whole number' if self.kind is int else 'a number'}") from None
        if self.kind is float and not math.isfinite(value):
            raise ValueError(f"{text!r} is not a finite number")
        return self.check(value)

    def check(self, value):
        """The value (an int given for a float becomes a float), or ValueError saying what is wrong."""
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not (whole or (self.kind is float and isinstance(value, float))):
            raise ValueError(f"must be {'a whole number' if self.kind is int else 'a number'}, got {value!r}")
        if self.kind is float and not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {value}")
        if not self.ok(value):
            raise ValueError(f"{self.says}, got {value}")
        return self.kind(value)


@dataclass(frozen=True)
class Sizes:
    """Layer sizes: `256,128` on the command line, (256, 128) in Python; empty means no hidden layer."""

    def parse(self, text: str) -> tuple[int, ...]:
        if text.strip() == "":
            return ()
        try:
            values = [int(t) for t in text.split(",")]
        except ValueError:
            raise ValueError(f"{text!r} is not a comma-separated list of whole numbers") from None
        return self.check(values)

    def check(self, value) -> tuple[int, ...]:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise ValueError(f"must be a list of sizes such as (256, 128), got {value!r}")
        values = tuple(value)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values) or any(v < 1 for v in values):
            raise ValueError(f"sizes must be whole numbers of at least 1, got {list(values)}")
        return values


@dataclass(frozen=True)
class Names:
    """Class names or indices: `0,6` or `Shirt,Coat` on the command line, a list in Python."""

    def parse(self, text: str) -> tuple[str, ...]:
        items = [t.strip() for t in text.split(",")]
        if not all(items):
            raise ValueError(f"cannot read the list {text!r}; give values like 0,6")
        return tuple(items)

    def check(self, value) -> tuple[str, ...]:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise ValueError(f"must be a list of class names or indices such as ['0', '6'], got {value!r}")
        return tuple(str(v) for v in value)


@dataclass(frozen=True)
class Switch:
    """On or off: `--augment` / `--no-augment`, True or False."""

    def check(self, value) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"must be True or False, got {value!r}")
        return value


positive_int = Number(int, lambda v: v >= 1, "must be at least 1")
nonnegative_int = Number(int, lambda v: v >= 0, "must be 0 or more")
positive_float = Number(float, lambda v: v > 0, "must be greater than 0")
nonnegative_float = Number(float, lambda v: v >= 0, "must be 0 or more")
fraction = Number(float, lambda v: 0 < v < 1, "must be between 0 and 1 (exclusive)")
fraction_or_zero = Number(float, lambda v: 0 <= v < 1, "must be at least 0 and below 1")
sizes, names, switch = Sizes(), Names(), Switch()
