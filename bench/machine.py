"""Facts about the machine and the checkout a run measured, for the results file."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_LIBRARIES = ("typst", "pyHanko", "cryptography", "segno", "SQLAlchemy", "psycopg", "minio", "uvicorn")


@dataclass(frozen=True)
class Machine:
    cores: int
    """Cores this process may run on (what ``nproc`` prints)."""
    cpu_model: str
    ram_gib: float
    python: str
    commit: str
    """Short commit id, with ``+dirty`` when tracked files differ from it."""
    libraries: str
    probe_ms: float
    """:func:`cpu_probe_ms` when the run started."""

    def describe(self) -> str:
        return (
            f"{self.cores} cores ({self.cpu_model}), {self.ram_gib:.1f} GiB RAM, "
            f"Python {self.python}, commit {self.commit}, CPU probe {self.probe_ms:.0f} ms"
        )


def cpu_probe_ms() -> float:
    """CPU milliseconds of a fixed pure-Python loop, best of three (lower is faster). The
    virtual machine's cores have run the same code ~1.5x slower at some hours than at
    others, with no steal time to show for it: this says how fast they were, so runs of
    different hours can be compared (36 ms on the 2-core machine on 2026-12-06 at 17:40,
    when a batch worker took the same CPU per document as on quiet runs the day before)."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for n in range(1_000_000):
            total += n
        best = min(best, time.process_time() - started)
    return 1000 * best


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return float("nan")


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def _commit() -> str:
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}+dirty" if dirty else commit


def _libraries() -> str:
    versions = []
    for name in _LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(versions)


def describe_machine() -> Machine:
    return Machine(
        cores=len(os.sched_getaffinity(0)),
        cpu_model=_cpu_model(),
        ram_gib=_ram_gib(),
        python=platform.python_version(),
        commit=_commit(),
        libraries=_libraries(),
        probe_ms=cpu_probe_ms(),
    )
