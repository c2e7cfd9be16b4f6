"""nnlab from Python: train as `nnlab train` does, reopen a run, predict with it, look at it.

    run = nnlab.train("cnn", data="fashion-mnist", epochs=5)
    run.summary["test_accuracy"], run.predict(X), run.report()
    run = nnlab.load_run("runs/cnn-fashion-mnist-20261128-120000")

In Jupyter a Run shows its test metrics and key pictures inline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nnlab import runs


class Run:
    """A run directory, read back: its settings (`settings`, typed; `record` adds the facts of the run: device
    used, data, arithmetic, versions), test summary and history, and its model on demand."""

    def __init__(self, path: str | Path):
        from nnlab.training.record import read_record

        self.path = Path(path)
        self.record = read_record(self.path)
        self.settings = self.record.settings
        self.summary: dict[str, Any] = (runs.read_json(self.path / runs.SUMMARY, what="run summary")
                                        if (self.path / runs.SUMMARY).is_file() else {})
        self.history: list[dict] = runs.read_metrics(self.path)
        self._engine = None

    def __repr__(self) -> str:
        accuracy = self.summary.get("test_accuracy")
        return (f"Run({str(self.path)!r}, model={self.settings.model!r}, data={self.settings.data_label!r}"
                + (f", test_accuracy={accuracy:.4f})" if accuracy is not None else ")"))

    @property
    def engine(self):
        """The trained model behind the run (loaded once)."""
        if self._engine is None:
            from nnlab.training import job

            self._engine = job.load_run(self.path)[1]
        return self._engine

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities for raw samples (rows, or images of the run's shape), scaled as in training."""
        from nnlab.training.job import scaler_of

        X = np.asarray(X, dtype=np.float32)
        return self.engine.predict_proba(scaler_of(self.record).transform(X.reshape(len(X), -1)))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The index of the most probable class for each sample (names: `self.classes`)."""
        return self.predict_proba(X).argmax(axis=1)

    @property
    def sanity(self) -> list:
        """The run's sanity checks (training/sanity.py's Notes: `.check`, `.ok`, `.text`), as its report lists them;
        `nnlab.train` prints none of them (quiet), so look here or at `nnlab.doctor(run)`."""
        from nnlab.training.sanity import Note

        return [Note.from_json(n) for n in self.summary.get("sanity", [])]

    @property
    def classes(self) -> list[str]:
        return list(self.record.dataset["classes"])

    def to_scratch(self):
        """The NumPy network computing the same probabilities (the scratch model itself, or an MLP's twin)."""
        if self.settings.model == "scratch":
            return self.engine.net
        if self.settings.model == "mlp":
            from nnlab.models.bridge import to_scratch

            return to_scratch(self.engine.model.eval())
        raise ValueError("a CNN has no NumPy twin: the NumPy network is dense layers only")

    def report(self):
        """Draw the figures and report.html again (as `nnlab viz` does); returns the Report."""
        from nnlab.viz.any_model import Report
        from nnlab.viz.render import render_run

        return Report(render_run(self.path), self.summary, self._figures())

    def _figures(self) -> list:
        from nnlab.viz.render import Figure

        return [Figure(p.name, "", "") for p in sorted((self.path / "figures").glob("*.png"))]

    def _repr_html_(self) -> str:
        from nnlab.viz.any_model import summary_html

        shown = self._figures()
        title = f"<p><b>{self.settings.model} on {self.settings.data_label}</b> · {self.path}</p>"
        if not self.summary:
            return title + "<p>not finished: no test results yet</p>"
        from html import escape

        doubts = "".join(f"<li>⚠ {escape(n.text)}</li>" for n in self.sanity if not n.ok)
        return (title + summary_html(self.path, self.summary, shown, link=self.path / "report.html")
                + (f"<ul>{doubts}</ul><p>Try the fixes on forks: <code>nnlab.doctor(run)</code></p>" if doubts else ""))


def train(model: str, data: str, *, out: str | Path = "runs", name: str | None = None, quiet: bool = True,
          **settings: Any) -> Run:
    """Train `model` ("scratch", "mlp" or "cnn") on `data` as `nnlab train` does, with the same defaults
    (`nnlab.TrainConfig` lists the settings: epochs, lr, batch_size, hidden, seed, ...); returns the Run,
    whose directory holds the report."""
    from nnlab.training import job
    from nnlab.training.config import TrainConfig
    from nnlab.viz.render import render_run

    return Run(job.train(TrainConfig.create(model, data, **settings), out, name, quiet=quiet, report=render_run))


def load_run(path: str | Path) -> Run:
    """Reopen a run directory written by `nnlab train` or `nnlab.train`."""
    return Run(path)


def explain(run: Run | str | Path | None = None, samples: int = 4, weights: str = "trained", lr: float | None = None,
            compare: bool = True, *, net: dict | str | Path | None = None, answers: dict | str | Path | None = None,
            steps: int = 1):
    """One SGD step of backprop, equation by equation (as `nnlab explain`).

    Of a scratch run's network (`run`, on `samples` of its training samples from its `weights`, lr 0.1 unless
    given): returns an Explanation that shows itself in Jupyter, holds the numbers (`.walk`) and writes the page
    (`.write("step.html")`).
    Of a network written by hand (`net`: a spec dict or a JSON file, see examples/homework.json), for `steps`
    steps, with the student's `answers` (a dict or a JSON file) marked: returns a HandExplanation with `.walk`,
    `.marking`, `.to_json()`, `.markdown()` and `.write("page.html" | "out.json" | "sheet.md")`."""
    from nnlab.errors import NNLabError

    if (run is None) == (net is None):
        raise NNLabError("give a scratch run, or net= a network spec (one of the two)")
    if net is not None:
        from nnlab.viz.homework import explain_net

        return explain_net(net, steps, answers, lr)
    if answers is not None or steps != 1:
        raise NNLabError("answers= and steps= go with net=, not with a run")
    from nnlab.viz.explain import explain as explain_run

    return explain_run(run, samples, weights, 0.1 if lr is None else lr, compare)


class Diagnosis:
    """What `nnlab.doctor` found and tried (RUN/doctor.json's content as `result`): printed, the lines
    `nnlab doctor RUN` prints; `page` is RUN/doctor.html."""

    def __init__(self, result: dict[str, Any], page: Path):
        self.result, self.page = result, page

    @property
    def forks(self) -> list[dict[str, Any]]:
        return self.result["forks"]

    def __str__(self) -> str:
        from nnlab.training.doctor import lines

        return "\n".join(lines(self.result))

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from nnlab.viz.explain_page import framed

        return framed(self.page.read_text(encoding="utf-8"))


def doctor(run: Run | str | Path, budget_epochs: int | None = None, fixes: list[str] | None = None,
           lr_find: bool = False) -> Diagnosis:
    """Try on forks of `run` the fixes its fired checks suggest (or the `fixes` named: nnlab.training.doctor's
    FIXES), each for `budget_epochs`, and measure what each changed, as `nnlab doctor RUN` does; `lr_find`: also
    the learning-rate finder, its suggestion checked by forks. Writes RUN/doctor.json and RUN/doctor.html."""
    from nnlab.training.doctor import diagnose
    from nnlab.viz.doctor_page import write_doctor_page

    path = run.path if isinstance(run, Run) else Path(run)
    result = diagnose(path, budget_epochs, fixes, lr_find=lr_find)
    return Diagnosis(result, write_doctor_page(path, result))


def overfit_batch(model, X=None, y=None, *, data: str | None = None, steps: int = 200, samples: int = 32,
                  lr: float | None = None, optimizer: str = "adam", seed: int = 0, **settings: Any):
    """Overfit one small batch (Karpathy's check): train on `samples` samples alone for `steps` steps and say
    whether the training loss falls toward zero. `model` is a torch.nn.Module of yours with (X, y) as it takes
    them (a copy trains: yours stays as it is; `lr` default 1e-3), or a model nnlab trains ("scratch", "mlp",
    "cnn") with `data=` and `nnlab.train`'s settings. Returns an Overfit: `.ok`, `.line`, `.losses`, `.notes`."""
    from nnlab.errors import NNLabError
    from nnlab.training.overfit import overfit_config, overfit_module

    if isinstance(model, str):
        if data is None or X is not None or y is not None:
            raise NNLabError(f"overfit_batch({model!r}) takes data= a dataset name or path, not arrays")
        from nnlab.training.config import TrainConfig

        cfg = TrainConfig.create(model, data, lr=lr, optimizer=optimizer, seed=seed, **settings)
        return overfit_config(cfg, samples, steps)
    if X is None or y is None or data is not None or settings:
        raise NNLabError("overfit_batch(your_model, X, y): give the samples and labels; data= and settings are "
                         "for nnlab's own models")
    return overfit_module(model, X, y, steps, 1e-3 if lr is None else lr, optimizer, samples, seed)
