"""How many threads the math may use, and when that count may change during a run.

Two rules, one for each kind of arithmetic (measured in docs/reference.md, "Same seed, same bits"):
- PyTorch splits sums (a convolution's weight gradient, a loss's mean) between its threads, so another thread
  count gives other last bits, and training makes them grow into another model. Its count is fixed for the
  whole run from what the process may use: its cores (affinity) and cgroup CPU quota, never the load of other
  processes. Waiting threads sleep rather than spin (OMP_WAIT_POLICY=PASSIVE, set by the CLI before PyTorch
  loads), so a busy machine slows a run down without making it collapse.
- The NumPy network sums its products in fixed blocks (scratch.network.product): the same bits on any count.
  Its count follows the machine: one thread per core that other processes leave free, measured again every
  few seconds. Two BLAS threads sharing their cores with another busy process do not each slow down to a fair
  share: they meet at the end of every product, and the one that lost its core holds up the other, which
  spins meanwhile (measured: training steps ×6.4 slower on 2 threads beside one competing job on 2
  cores, ×1.4 to ×2.2 on one thread).
`--threads N` (or OMP_NUM_THREADS) fixes the count of either.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from pathlib import Path

CHECK_EVERY = 2.0    # seconds between measurements while training (a short burst elsewhere is not a job)
MIN_WINDOW = 0.05    # seconds a measurement looks at, at least (/proc/stat counts in 10 ms ticks)


def usable_cores() -> int:
    """The CPUs this process may run on, capped by a cgroup CPU quota (a container given 1.5 CPUs gets 1:
    a second thread would be throttled at the end of every quota period, stalling the first)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        cores = os.cpu_count() or 1
    quota = cgroup_quota()
    return max(1, min(cores, math.floor(quota))) if quota else cores


def cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs' worth of time the cgroup may use (cgroup v2 cpu.max, or v1 cfs quota/period); None: no limit."""
    try:
        quota, period = (root / "cpu.max").read_text().split()
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def requested_threads(threads: int | None) -> int | None:
    """--threads N, else a thread count the user set in the environment, else None (nnlab decides)."""
    if threads is not None:
        return threads
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


class CpuMeter:
    """Cores kept busy by other processes since the last reading: the busy time of the CPUs we may use
    (from /proc/stat, Linux) less our own CPU time, over the wall time between readings."""

    def __init__(self):
        try:
            self.cpus = {f"cpu{c}" for c in os.sched_getaffinity(0)}
        except AttributeError:
            self.cpus = set()
        # Time of niced processes (its own column) is theirs to give up, unless autogroup scheduling shares
        # the CPU between sessions whatever their nice (or this process is niced itself, its time in there).
        self.count_niced = _autogroup() or os.nice(0) > 0
        self.last = self._read()
        self.recent: float | None = None  # the last figure measured

    def _read(self) -> tuple[float, float, float] | None:
        try:
            lines = Path("/proc/stat").read_text().splitlines()
        except OSError:
            return None
        busy = 0
        for line in lines:
            name, *ticks = line.split()
            if name in self.cpus:  # user nice system idle iowait irq softirq steal ...
                user, nice, system, _idle, _iowait, irq, softirq, steal = (int(t) for t in ticks[:8])
                busy += user + system + irq + softirq + steal + (nice if self.count_niced else 0)
        own = os.times()
        return busy / os.sysconf("SC_CLK_TCK"), own.user + own.system, time.monotonic()

    def others(self) -> float | None:
        """Cores other processes kept busy since the last reading (None where /proc/stat is not there). Asked
        again within MIN_WINDOW (fits or partial_fit calls back to back), it gives the last figure: /proc/stat
        counts in ticks too coarse to measure less, and waiting for a window would cost each call 50 ms."""
        if self.last is not None and self.recent is not None and time.monotonic() - self.last[2] < MIN_WINDOW:
            return self.recent
        now = self._read()
        if now is None or self.last is None or now[2] - self.last[2] <= 0:
            return None
        busy, own, wall = (a - b for a, b in zip(now, self.last))
        if wall < MIN_WINDOW:  # the first reading, too soon after the meter started: one short wait, once
            time.sleep(MIN_WINDOW - wall)
            return self.others()
        self.last, self.recent = now, max(0.0, (busy - own) / wall)
        return self.recent


def _autogroup() -> bool:
    try:
        return Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1"
    except OSError:
        return False


def set_threads(n: int) -> None:
    """Use n threads in NumPy's BLAS, and in PyTorch if it is loaded (it is not imported for this)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(n, user_api="blas")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)


class ThreadPolicy:
    """The thread count of one training, as a context. Fixed if the user asked for one; else, where the
    arithmetic's bits do not depend on it (`follow_load`), one per free core, measured again by `check()`
    every CHECK_EVERY seconds (cheap enough to call after every batch); else one per core the process may
    use, for the whole run. `used` lists each count used, in order; the counts in force before are restored
    at the end (a notebook's own threads are its business)."""

    def __init__(self, threads: int | None = None, processes_here: int = 1, follow_load: bool = False):
        self.fixed = requested_threads(threads)
        self.invariant = follow_load
        self.cores = max(1, usable_cores() // max(1, processes_here))  # torchrun: the ranks share the machine
        self.meter = METER if self.fixed is None and follow_load else None
        self.threads = 0
        self.used: list[int] = []
        self.next_check = 0.0

    def __enter__(self) -> ThreadPolicy:
        from threadpoolctl import threadpool_limits

        self._blas = threadpool_limits(user_api="blas")  # no limit given: a handle on the counts as they are
        self._torch = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
        self._set(self.fixed or (self._choose() if self.meter is not None else self.cores))
        return self

    def __exit__(self, *exc) -> None:
        self._blas.restore_original_limits()
        if self._torch is not None:
            sys.modules["torch"].set_num_threads(self._torch)

    @property
    def planned(self) -> int | str:
        """The count this policy sets: a number, or that it follows the load."""
        return self.fixed or ("follows the load" if self.meter is not None else self.cores)

    def check(self) -> None:
        if self.meter is None or time.monotonic() < self.next_check:
            return
        self._set(self._choose())

    def _choose(self) -> int:
        others = self.meter.others()
        self.next_check = time.monotonic() + CHECK_EVERY
        if others is None:
            return self.cores
        return max(1, min(self.cores, round(self.cores - others)))

    def _set(self, n: int) -> None:
        if n != self.threads:
            set_threads(n)
            self.threads = n
            self.used.append(n)


def wait_passively() -> None:
    """Threads that wait sleep instead of spinning: set for this process before PyTorch (its OpenMP reads it
    once, when it loads) unless the user set it. For the `nnlab` command only: a caller's own process keeps
    its settings. CUBLAS_WORKSPACE_CONFIG lets cuBLAS give the same bits run after run on a GPU."""
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def arithmetic_record(policy: ThreadPolicy, pytorch: bool) -> dict:
    """What decides a run's last bits besides its settings and data (config.json), so that a user can tell
    why two runs differ: the thread count where it matters, the BLAS and its kernel, the CPU, and PyTorch's
    kernel set where PyTorch does the arithmetic (`pytorch`; a NumPy run does not load it)."""
    from threadpoolctl import threadpool_info

    # The BLAS that nnlab's arithmetic calls: NumPy's (and PyTorch's, where it brings one), not every library a
    # process happens to have loaded (SciPy's, once scikit-learn was imported), or the CLI and the Python API
    # would record the same run differently.
    # (A NumPy built against a system BLAS has it elsewhere: then every BLAS loaded is recorded.)
    loaded = [p for p in threadpool_info() if p["user_api"] == "blas"]
    ours = [p for p in loaded if {"numpy.libs", "numpy", "torch"} & set(Path(p["filepath"]).parts)] or loaded
    blas = sorted({f"{p['internal_api']} {p.get('version') or ''} {p.get('architecture') or ''}".strip() for p in ours})
    record = {"threads": policy.planned, "bits_depend_on_threads": not policy.invariant,
              "blas": ", ".join(blas), "cpu": cpu_model(), "cpu_flags": cpu_flags()}
    if pytorch:
        import torch

        record["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    return record


# The instruction sets that pick a BLAS's or PyTorch's kernels, hence the order of their sums.
KERNEL_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile",
                "asimd", "sve", "sve2")


def cpu_model() -> str:
    return _cpuinfo("model name") or _cpuinfo("Model") or platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    present = set((_cpuinfo("flags") or _cpuinfo("Features") or "").split())
    return [f for f in KERNEL_FLAGS if f in present]


def _cpuinfo(field: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == field:
                return value.strip()
    except OSError:
        pass
    return None


# One meter for the process, started on import: a training's first measurement covers the time since (loading
# the data, say), so that it needs no wait of its own.
METER = CpuMeter()
