"""The one error type users see: the CLI prints it as a single `error: ...` line and exits 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")


class NNLabError(Exception):
    """A problem with the user's input or environment, with a message that says how to fix it."""


class Interrupted(NNLabError):
    """Ctrl-C during training: the last finished epoch is saved; the CLI exits 130."""


class UnknownName(NNLabError, ValueError):
    """A name that a table does not hold. Also a ValueError, as scikit-learn's InvalidParameterError is: a
    bad name is a bad value, so code that follows scikit-learn's conventions (ScratchClassifier) or catches
    ValueError keeps working."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'fashion-mnist'?)` for the closest of `choices` to a mistyped `word`, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def pick(table: Mapping[str, T], name: str, what: str) -> T:
    """`table[name]`; for a name it does not hold, an `UnknownName` that offers the closest name and lists
    them all: "unknown optimizer 'adm' (did you mean 'adam'?); choose one of sgd, momentum, adam"."""
    try:
        return table[name]
    except KeyError:
        guess = did_you_mean(name, table) if isinstance(name, str) else ""  # (None is no typo of a name)
        raise UnknownName(f"unknown {what} {name!r}{guess}; choose one of {', '.join(table)}") from None
