"""What a run's config.json holds, typed: the settings it was trained with, and apart from them the facts of
the run (what `auto` became on that machine, the data, the arithmetic, the library versions).

    {"format": "nnlab-run/2", "settings": {"model": "cnn", "lr": 0.01, ...},
     "facts": {"device_used": "cpu", "precision_used": "bf16", ...},
     "dataset": {...}, "arithmetic": {...}, "versions": {...}}

Runs written before the settings were kept apart hold all of it in one flat object; they read the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from nnlab import runs
from nnlab.errors import NNLabError
from nnlab.training.config import TrainConfig

PARTS = ("facts", "dataset", "arithmetic", "versions")


@dataclass(frozen=True)
class RunRecord:
    settings: TrainConfig
    facts: dict[str, Any] = field(default_factory=dict)       # device_used, precision_used, augment_used, ...
    dataset: dict[str, Any] = field(default_factory=dict)     # name, classes, image_shape, n_features, scaler, ...
    arithmetic: dict[str, Any] = field(default_factory=dict)  # what decides the bits (nnlab.threads)
    versions: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"settings": self.settings.to_dict(), **{part: getattr(self, part) for part in PARTS}}

    @classmethod
    def from_json(cls, stored: dict[str, Any], where: Path) -> RunRecord:
        try:
            if "settings" in stored:
                return cls(TrainConfig.from_dict(stored["settings"]), **{p: stored.get(p, {}) for p in PARTS})
            # Written before settings and facts were kept apart: one flat object of both.
            settings = TrainConfig.from_dict(stored)
            named = {f.name for f in fields(settings)} | {"model", "format", *PARTS}
            return cls(settings, facts={k: v for k, v in stored.items() if k not in named},
                       **{p: stored.get(p, {}) for p in PARTS[1:]})
        except (NNLabError, TypeError, AttributeError) as e:
            raise NNLabError(f"{where / runs.CONFIG} {e}; it was edited or written by another nnlab version: "
                             "restore it or train the run again") from None

    def table(self) -> dict[str, Any]:
        """Settings and facts side by side, named as config.json names them: the rows a report shows."""
        return {**self.settings.to_dict(), **self.facts, "dataset": self.dataset}


def read_record(run: str | Path) -> RunRecord:
    """The record of an existing run; a clear error for a missing, foreign or damaged directory."""
    return RunRecord.from_json(runs.read_config(run), Path(run))


def write_record(run: Path, record: RunRecord) -> None:
    runs.write_config(run, record.to_json())
