"""The real ``sanad serve`` as a subprocess on a free loopback port, always stopped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx

from bench import cpu
from bench.backends import SANAD, Deployment, development_pki, subprocess_env

START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """``with Server(deployment, workers=2) as server:`` serves on ``server.base_url``."""

    def __init__(self, deployment: Deployment, *, workers: int) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.env = deployment.env | {"SANAD_PUBLIC_BASE_URL": self.base_url}
        self.workdir = deployment.workdir
        self.log_path: Path = deployment.workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._pki = contextlib.ExitStack()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """uvicorn's worker processes (the server process itself when it has none)."""
        workers = [pid for pid in cpu.children(self.pid) if "spawn_main" in cpu.command_line(pid)]
        return workers or [self.pid]

    def __enter__(self) -> Server:
        # Signing at the default level (B-LTA) needs the development PKI's TSA and CRLs
        # where its certificates name them: served from this process, as an external
        # TSA would be (its CPU is not the server's).
        self._pki.enter_context(development_pki(self.env))
        command = [str(SANAD), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log_path.open("wb") as log:
            # Its own session, so the whole tree (uvicorn's workers too) can be stopped.
            self.process = subprocess.Popen(
                command,
                cwd=self.workdir,
                env=subprocess_env(self.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            self._pki.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        try:
            self.stop()
        finally:
            self._pki.close()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start-up:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/ready", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        raise RuntimeError(f"the server was not ready after {START_TIMEOUT:.0f} s:\n{self.log()}")

    def log(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # uvicorn stops its workers, then itself
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the group this class created: workers left behind
        process.wait(timeout=STOP_TIMEOUT)
