"""The one error type users see: the CLI prints it as a single `error: ...` line and exits 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class NNLabError(Exception):
    """A problem with the user's input or environment, with a message that says how to fix it."""


class Interrupted(NNLabError):
    """Ctrl-C during training: the last finished epoch is saved; the CLI exits 130."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'fashion-mnist'?)` for the closest of `choices` to a mistyped `word`, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
