"""Option types shared by the commands: nnlab.checks' rules as argparse types, each refusing a bad value with
a message that says why."""

from __future__ import annotations

import argparse

from nnlab import checks


def option_type(rule):
    """An argparse type from a rule of nnlab.checks: its message becomes argparse's."""

    def parse(text: str):
        try:
            return rule.parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = type(rule).__name__.lower()  # what argparse names in "invalid ... value"
    return parse


positive_int = option_type(checks.positive_int)
nonnegative_int = option_type(checks.nonnegative_int)
positive_float = option_type(checks.positive_float)
nonnegative_float = option_type(checks.nonnegative_float)
fraction = option_type(checks.fraction)
fraction_or_zero = option_type(checks.fraction_or_zero)
int_list = option_type(checks.sizes)
name_list = option_type(checks.names)
