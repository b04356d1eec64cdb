"""Signed-in citizens' clients against the real server: listing pages and downloads.

Each round opens new keep-alive connections (``concurrency`` of them to the API and as
many to MinIO), so uvicorn's workers share the connections afresh every round, and
sends ``requests`` requests from ``concurrency`` threads. Every answer is checked: the
status, the page size, and for downloads the SHA-256 of the bytes against the registry.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from bench import cpu
from bench.load import Round
from bench.locker_seed import HeldObject
from bench.stats import Measurement, percentile

REQUEST_TIMEOUT = 60.0
LIST_PATH = "/api/v1/locker/documents"
PAGE_SIZE = 50


@dataclass(frozen=True)
class Clients:
    """One round's connection pools: to the API (signed in) and to object storage."""

    api: httpx.Client
    storage: httpx.Client


Operation = Callable[[Clients, int], str | None]
"""Request number ``i``; returns an error message, or ``None`` when the answer was right."""


@dataclass(frozen=True)
class HttpRun:
    """One kind of request measured over several rounds."""

    name: str
    concurrency: int
    rounds: tuple[Round, ...]
    note: str = ""

    @property
    def measurement(self) -> Measurement:
        return Measurement(
            name=self.name,
            rates=tuple(len(r.latencies) / r.seconds for r in self.rounds),
            latencies=tuple(latency for r in self.rounds for latency in r.latencies),
            note=self.note,
        )

    @property
    def errors(self) -> list[str]:
        return [e for r in self.rounds for e in r.errors]

    @property
    def requests(self) -> int:
        return sum(len(r.latencies) + len(r.errors) for r in self.rounds)

    def round_p99_ms(self) -> list[float]:
        return [1000 * percentile(r.latencies, 99) for r in self.rounds]

    def cpu_ms_per_request(self) -> dict[str, float]:
        done = max(sum(len(r.latencies) for r in self.rounds), 1)
        names = self.rounds[0].cpu if self.rounds else {}
        return {name: 1000 * sum(r.cpu.get(name, 0.0) for r in self.rounds) / done for name in names}

    def busiest_worker_shares(self) -> list[float]:
        return [r.busiest_worker_share for r in self.rounds]


class LockerClient:
    """A signed-in citizen's requests, sent by ``concurrency`` clients at once."""

    def __init__(self, base_url: str, token: str, cpu_roots: Mapping[str, int], workers: Sequence[int]) -> None:
        self.base_url = base_url
        self.token = token
        self.cpu_roots = dict(cpu_roots)
        self.workers = list(workers)

    def _clients(self, concurrency: int) -> Clients:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        api = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=REQUEST_TIMEOUT,
            limits=limits,
        )
        return Clients(api=api, storage=httpx.Client(timeout=REQUEST_TIMEOUT, limits=limits))

    def round(self, operation: Operation, *, concurrency: int, requests: int, first: int = 0) -> Round:
        result = Round()
        clients = self._clients(concurrency)

        def timed(i: int) -> tuple[float, str | None]:
            started = time.perf_counter()
            try:
                error = operation(clients, i)
            except httpx.HTTPError as e:
                error = f"{type(e).__name__}: {e}"
            return time.perf_counter() - started, error

        before = cpu_snapshot(self.cpu_roots)
        workers_before = [cpu.cpu_seconds(pid) for pid in self.workers]
        started = time.perf_counter()
        with clients.api, clients.storage, ThreadPoolExecutor(max_workers=concurrency) as pool:
            for elapsed, error in pool.map(timed, range(first, first + requests)):
                if error is None:
                    result.latencies.append(elapsed)
                else:
                    result.errors.append(error)
        result.seconds = time.perf_counter() - started
        result.cpu = cpu.difference(cpu_snapshot(self.cpu_roots), before)
        result.worker_cpu = [cpu.cpu_seconds(pid) - b for pid, b in zip(self.workers, workers_before, strict=True)]
        return result

    def measure(
        self,
        name: str,
        operation: Operation,
        *,
        concurrency: int,
        rounds: int,
        requests: int,
        warmup: int,
        note: str = "",
    ) -> HttpRun:
        print(f"bench: {name}, {concurrency} client(s), {rounds} × {requests} ...", flush=True)
        self.round(operation, concurrency=concurrency, requests=warmup)
        done = []
        for number in range(rounds):
            done.append(self.round(operation, concurrency=concurrency, requests=requests, first=number * requests))
            last = done[-1]
            print(
                f"bench:   round {number + 1}: {len(last.latencies) / last.seconds:.0f}/s, "
                f"p99 {1000 * percentile(last.latencies, 99):.1f} ms, {len(last.errors)} errors",
                flush=True,
            )
        return HttpRun(name, concurrency, tuple(done), note)


# --- CPU, counting processes that exited --------------------------------------------------

_TICKS = os.sysconf("SC_CLK_TCK")


def _process_table() -> dict[int, tuple[int, float, float]]:
    """pid → (parent, own CPU seconds, CPU seconds of its exited and reaped children)."""
    table: dict[int, tuple[int, float, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        own = (int(fields[11]) + int(fields[12])) / _TICKS
        table[int(entry.name)] = (int(fields[1]), own, (int(fields[13]) + int(fields[14])) / _TICKS)
    return table


def cpu_snapshot(roots: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds per process tree, plus this process as ``bench client``.

    Unlike ``bench.cpu.snapshot`` this keeps the CPU of processes that exited: PostgreSQL
    backends of connections a pool opened and closed during a round would otherwise take
    their CPU with them (and make the difference negative).
    """
    table = _process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    totals = {}
    for name, root in roots.items():
        total, pending = 0.0, [root]
        while pending:
            pid = pending.pop()
            if pid in table:
                total += table[pid][1] + table[pid][2]
                pending.extend(children.get(pid, []))
        totals[name] = total
    return {**totals, "bench client": cpu.own_cpu_seconds()}


class OtherLoad(cpu.OtherLoad):
    """``bench.cpu.OtherLoad``, with the exited processes of the benchmark's trees counted as ours."""

    def _ours(self) -> float:
        return sum(cpu_snapshot(self.roots).values())


# --- signing in -------------------------------------------------------------------------------

_CODE = re.compile(r"(\d{6}) ")


def sign_in(base_url: str, libpq_url: str, mobile: str) -> str:
    """Sign in as a citizen would (``POST /otp``, then ``POST /session`` with the code the
    development channel recorded); returns the bearer token.

    The bench database is kept between runs, so the sign-in limits (3 codes per number per
    15 minutes, 20 per address per hour) would refuse a fourth run within the window:
    the bench's own earlier sign-in events are removed first.
    """
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        conn.execute("DELETE FROM auth_events WHERE mobile = %s OR ip = '127.0.0.1'", (mobile,))
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT) as client:
        sent = client.post("/api/v1/locker/otp", json={"mobile": mobile})
        if sent.status_code != 202:
            raise RuntimeError(f"POST /api/v1/locker/otp answered {sent.status_code}: {sent.text[:300]}")
        with psycopg.connect(libpq_url) as conn:
            row = conn.execute(
                "SELECT body FROM dev_messages WHERE recipient = %s ORDER BY id DESC LIMIT 1", (mobile,)
            ).fetchone()
        found = _CODE.match(str(row[0])) if row else None
        if found is None:
            raise RuntimeError(f"no sign-in code was recorded for {mobile} (is SANAD_NOTIFY_CHANNEL log?)")
        session = client.post("/api/v1/locker/session", json={"mobile": mobile, "code": found.group(1)})
        if session.status_code != 200:
            raise RuntimeError(f"POST /api/v1/locker/session answered {session.status_code}: {session.text[:300]}")
        token: str = session.json()["access_token"]
        return token


# --- the operations ---------------------------------------------------------------------------


def page_cursors(base_url: str, token: str) -> list[str]:
    """The cursor of every page after the first (walking the whole locker once)."""
    cursors: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT) as client:
        params: dict[str, str | int] = {"limit": PAGE_SIZE}
        while True:
            page = client.get(LIST_PATH, params=params)
            page.raise_for_status()
            cursor = page.json()["next_cursor"]
            if cursor is None:
                return cursors
            cursors.append(cursor)
            params = {"limit": PAGE_SIZE, "cursor": cursor}


def list_page(cursors: Sequence[str | None]) -> Operation:
    """``GET /api/v1/locker/documents?limit=50``, with the cursors taken in turn."""

    def operation(clients: Clients, i: int) -> str | None:
        cursor = cursors[i % len(cursors)]
        params: dict[str, str | int] = (
            {"limit": PAGE_SIZE} if cursor is None else {"limit": PAGE_SIZE, "cursor": cursor}
        )
        response = clients.api.get(LIST_PATH, params=params)
        if response.status_code != 200:
            return f"HTTP {response.status_code}: {response.text[:200]}"
        items = len(response.json()["items"])
        return None if items == PAGE_SIZE else f"{items} items instead of {PAGE_SIZE}"

    return operation


def _content_path(document: HeldObject) -> str:
    return f"/api/v1/locker/documents/{document.id}/content"


def _check_bytes(document: HeldObject, body: bytes) -> str | None:
    if len(body) != document.size or hashlib.sha256(body).hexdigest() != document.sha256:
        return f"{document.id}: {len(body)} bytes whose SHA-256 is not the registry's"
    return None


def content_redirect(held: Sequence[HeldObject]) -> Operation:
    """The API's answer only: 307 to a presigned MinIO URL (the bytes are not fetched)."""

    def operation(clients: Clients, i: int) -> str | None:
        response = clients.api.get(_content_path(held[i % len(held)]))
        if response.status_code != 307 or "location" not in response.headers:
            return f"HTTP {response.status_code} instead of 307: {response.text[:200]}"
        return None

    return operation


def content_via_redirect(held: Sequence[HeldObject]) -> Operation:
    """The whole download: the API's 307, then the PDF from MinIO; the digest is checked."""

    def operation(clients: Clients, i: int) -> str | None:
        document = held[i % len(held)]
        response = clients.api.get(_content_path(document))
        if response.status_code != 307:
            return f"HTTP {response.status_code} instead of 307: {response.text[:200]}"
        fetched = clients.storage.get(response.headers["location"])
        if fetched.status_code != 200:
            return f"MinIO answered {fetched.status_code}: {fetched.text[:200]}"
        return _check_bytes(document, fetched.content)

    return operation


def content_streamed(held: Sequence[HeldObject]) -> Operation:
    """The filesystem backend: the API answers 200 with the bytes; the digest is checked."""

    def operation(clients: Clients, i: int) -> str | None:
        document = held[i % len(held)]
        response = clients.api.get(_content_path(document))
        if response.status_code != 200:
            return f"HTTP {response.status_code} instead of 200: {response.text[:200]}"
        return _check_bytes(document, response.content)

    return operation


def storage_only(urls: Sequence[tuple[HeldObject, str]]) -> Operation:
    """MinIO alone, for comparison: presigned URLs made beforehand, no API request."""

    def operation(clients: Clients, i: int) -> str | None:
        document, url = urls[i % len(urls)]
        fetched = clients.storage.get(url)
        if fetched.status_code != 200:
            return f"MinIO answered {fetched.status_code}: {fetched.text[:200]}"
        return _check_bytes(document, fetched.content)

    return operation
