"""Waiting for a process to go idle before a round: MinIO's background clean-up of
deleted buckets must not be measured as the next round's work."""

from __future__ import annotations

import subprocess
import sys
import time

from bench import cpu

BUSY_THEN_IDLE = "import time\nend = time.monotonic() + {busy}\nwhile time.monotonic() < end: pass\ntime.sleep(60)"


def _process(busy: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", BUSY_THEN_IDLE.format(busy=busy)])


def test_an_idle_process_is_waited_for_one_window() -> None:
    process = _process(busy=0)
    try:
        time.sleep(0.5)  # past the interpreter's start
        waited = cpu.wait_until_idle(process.pid, window=0.3, timeout=10)
    finally:
        process.kill()
        process.wait()
    assert waited < 1.0


def test_a_busy_process_is_waited_for_until_it_goes_idle() -> None:
    process = _process(busy=2.0)
    try:
        waited = cpu.wait_until_idle(process.pid, window=0.3, timeout=10)
    finally:
        process.kill()
        process.wait()
    assert 1.5 < waited < 4.0


def test_the_wait_ends_at_the_timeout() -> None:
    process = _process(busy=30)
    try:
        waited = cpu.wait_until_idle(process.pid, window=0.3, timeout=1.0)
    finally:
        process.kill()
        process.wait()
    assert 0.9 < waited < 2.0


def test_peak_rss_is_the_most_a_process_held() -> None:
    # 200 MB held once, then freed: the peak stays, the current RSS falls.
    code = "b = bytearray(200 * 2**20)\nfor i in range(0, len(b), 4096): b[i] = 1\ndel b\nimport time\ntime.sleep(60)"
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 10
        while cpu.peak_rss_bytes(process.pid) < 200 * 2**20 and time.monotonic() < deadline:
            time.sleep(0.05)
        peak = cpu.peak_rss_bytes(process.pid)
    finally:
        process.kill()
        process.wait()
    assert 200 * 2**20 <= peak < 300 * 2**20
    assert cpu.peak_rss_bytes(process.pid) == 0  # gone


def _sleeping(environment: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sleep", "30"], env=environment)


def test_the_trash_interval_is_read_from_the_environment_minio_was_started_with() -> None:
    intervals = {}
    for value in ("10s", "2m", "", "1h30m"):
        environment = {cpu.MINIO_TRASH_VARIABLE: value} if value else {}
        process = _sleeping(environment)
        try:
            time.sleep(0.2)  # past the exec, which gives the process its environment
            intervals[value] = cpu.minio_trash_seconds(process.pid)
        finally:
            process.kill()
            process.wait()
    # Unset, or in a form not read here: MinIO's default (5 minutes), too long to wait out.
    assert intervals == {"10s": 10, "2m": 120, "": None, "1h30m": None}


def test_minio_is_waited_for_over_longer_than_its_trash_interval() -> None:
    process = _sleeping({cpu.MINIO_TRASH_VARIABLE: "1s"})
    try:
        time.sleep(0.2)
        waited = cpu.wait_until_minio_idle(process.pid, timeout=10)
    finally:
        process.kill()
        process.wait()
    # One quiet window of the interval and two seconds more: a tick of the timer in it.
    assert 3.0 <= waited < 4.5


def test_minio_is_waited_for_until_files_deleted_lately_are_forgotten() -> None:
    process = _sleeping({cpu.MINIO_TRASH_VARIABLE: "1s"})
    removed_at = time.time() - cpu.RECENTLY_DELETED_SECONDS + 5.0  # 5 s left of the window
    try:
        time.sleep(0.2)
        waited = cpu.wait_until_minio_idle(process.pid, removed_at=removed_at, timeout=10)
    finally:
        process.kill()
        process.wait()
    assert 4.5 <= waited < 7.0
