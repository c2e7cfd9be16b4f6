"""The one error type users see: the CLI prints it as a single `error: ...` line and exits 2."""


class NNLabError(Exception):
    """A problem with the user's input or environment, with a message that says how to fix it."""


class Interrupted(NNLabError):
    """Ctrl-C during training: the last finished epoch is saved; the CLI exits 130."""
