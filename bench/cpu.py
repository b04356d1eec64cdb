"""CPU time of process trees (a server and its workers, PostgreSQL, MinIO), from /proc."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Mapping
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may hold spaces
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS


def _all_stats() -> dict[int, tuple[int, float]]:
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            stats[int(entry.name)] = found
    return stats


def children(pid: int) -> list[int]:
    return sorted(child for child, (parent, _) in _all_stats().items() if parent == pid)


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def listener_pid(port: int) -> int | None:
    """The process listening on TCP ``port`` of the loopback (or any) address."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except OSError:
            continue
    return None


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used so far by ``root`` and its live descendants."""
    stats = _all_stats()
    total, pending, seen = 0.0, [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        total += stats[pid][1]
        pending.extend(child for child, (parent, _) in stats.items() if parent == pid)
    return total


def peak_rss_bytes(pid: int) -> int:
    """The most resident memory ``pid`` has had (``VmHWM``); 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def finished_children_cpu_seconds() -> float:
    """User + system CPU of this process's children that have been waited for (a load
    generator run with ``subprocess.run``, for one: the difference around the run)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    found = _stat(pid)
    return found[1] if found is not None else 0.0


def snapshot(roots: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds per named process tree, plus this process as ``bench client``."""
    return {**{name: tree_cpu_seconds(pid) for name, pid in roots.items()}, "bench client": own_cpu_seconds()}


def difference(after: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def _machine_seconds() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq) / _TICKS, steal / _TICKS


class OtherLoad:
    """CPU that processes outside the benchmark used while a phase ran (noisy neighbours).

    ``roots`` are the process trees that belong to the benchmark besides this process.
    """

    def __init__(self, roots: Mapping[str, int]) -> None:
        self.roots = dict(roots)
        self.started = time.monotonic()
        self.machine = _machine_seconds()
        self.ours = self._ours()

    def _ours(self) -> float:
        # This process's children that finished meanwhile (a `sanad batch submit`) are ours.
        mine = own_cpu_seconds() + finished_children_cpu_seconds()
        return mine + sum(tree_cpu_seconds(pid) for pid in self.roots.values())

    def finish(self) -> tuple[float, float]:
        """(cores used by other processes, cores lost to hypervisor steal), on average."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        busy, steal = _machine_seconds()
        others = busy - self.machine[0] - (self._ours() - self.ours)
        return max(others, 0.0) / elapsed, (steal - self.machine[1]) / elapsed


def wait_until_idle(pid: int, *, below: float = 0.05, window: float = 1.0, timeout: float = 180.0) -> float:
    """Wait until process ``pid`` uses less than ``below`` of a core over ``window``
    seconds, or ``timeout`` passes (or it ends); returns the seconds waited."""
    started = time.monotonic()
    last = cpu_seconds(pid)
    while time.monotonic() - started < timeout:
        time.sleep(window)
        now = cpu_seconds(pid)
        if now - last < below * window:
            break
        last = now
    return time.monotonic() - started


MINIO_TRASH_VARIABLE = "MINIO_API_DELETE_CLEANUP_INTERVAL"


def minio_trash_seconds(pid: int) -> float | None:
    """How often MinIO (process ``pid``) empties its trash, if its environment says
    (``scripts/services.sh`` sets 10 s); None for MinIO's default, every 5 minutes."""
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    prefix = MINIO_TRASH_VARIABLE.encode() + b"="
    value = next((v[len(prefix) :].decode() for v in environment if v.startswith(prefix)), "")
    units = {"s": 1, "m": 60}
    if value[-1:] in units and value[:-1].isdigit():
        return int(value[:-1]) * units[value[-1]]
    return None


RECENTLY_DELETED_SECONDS = 400.0
"""How long after files are deleted creating others costs more: ext4 without a journal
(this machine's root file system) skips, for each new inode, those deleted in the last
60 s, or 360 s while their inode table block is not yet written. MinIO creates a
directory or two per object: 2.9 ms of MinIO CPU a pair of puts 5.5 minutes after 6,400
objects were removed, 3.5-4.2 ms within 3 minutes (``bench/RESULTS.md``)."""


def wait_until_minio_idle(pid: int, *, removed_at: float | None = None, timeout: float = 300.0) -> float:
    """Wait until MinIO has been idle for longer than it takes to start emptying its
    trash, and until :data:`RECENTLY_DELETED_SECONDS` have passed since a bench last
    removed objects (``removed_at``, seconds since the epoch); returns the seconds waited.
    A deleted object is moved to the trash, which a timer empties (a tenth of a core for
    minutes after a bench's clean-up): idle for a moment is not enough, the next tick may
    come in the middle of a round and bill the previous run's removals to this one's puts."""
    started = time.monotonic()
    interval = minio_trash_seconds(pid)
    if interval is None or interval > 60:
        print(
            f"bench: MinIO (pid {pid}) empties its trash every {interval or 300:.0f} s, so a round may pay "
            f"for an earlier run's removals: restart it with 'scripts/services.sh restart' "
            f"(which sets {MINIO_TRASH_VARIABLE})",
            flush=True,
        )
        wait_until_idle(pid, timeout=timeout)
    else:
        wait_until_idle(pid, window=interval + 2, timeout=timeout)
    if removed_at is not None and (left := removed_at + RECENTLY_DELETED_SECONDS - time.time()) > 0:
        print(f"bench: waiting {left:.0f} s more: files deleted lately make new ones dearer", flush=True)
        time.sleep(left)
    return time.monotonic() - started
