"""What a user sees of an epoch while it runs: a tqdm bar over its samples, on a terminal only."""

from __future__ import annotations

import sys
from collections.abc import Callable


class progress_bar:
    """A tqdm bar over the samples of an epoch, on a terminal only (quiet in logs and pipes); `tick()`, if
    given, is called at every update, bar or not (the thread policy measures the machine there)."""

    def __init__(self, total: int, desc: str, quiet: bool, tick: Callable[[], None] | None = None):
        self.bar, self.tick = None, tick
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="sample", leave=False, dynamic_ncols=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()

    def update(self, n: int, loss: float, accuracy: float) -> None:
        if self.tick is not None:
            self.tick()
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{loss:.4f}", acc=f"{accuracy:.4f}", refresh=False)
            self.bar.update(n)
