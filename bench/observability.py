"""``python -m bench.observability``: what metrics and structured logs cost an issue and a
verification, in process, on the embedded deployment.

Two measurements:

- **The instrumentation alone**, per operation: the request middleware (request id,
  latency histogram, one JSON access line written to a null stream) around an ASGI app
  that answers at once, against that app alone; and the issuing stages' three timers,
  one counter, and the verifier's counter.
- **Issuing and verifying through the app**, with the instrumentation and without it
  (middleware removed, stage timers replaced by a no-op), in interleaved rounds so a
  busy machine's drift touches both alike.

The first gives the cost; the second checks it against the operations it is paid on.
The same certificate is verified each time, as banks upload the same few: after the first
check the verifier's cache answers (``verifier/cache.py``), the cheapest verification, so
the instrumentation's share of it is the largest it can be.
All times are CPU time of the process (every thread), not wall time: on a shared
machine wall time mostly measures the neighbours.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import statistics
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.context import AppContext
from app.factory import create_app
from bench.backends import deploy, development_pki
from bench.machine import describe_machine
from bench.stages import example_request
from sanad import metrics
from sanad.logs import JsonFormatter
from web.observe import Observe


def _null_json_log() -> logging.Handler:
    """JSON lines formatted as in production, written nowhere (the cost is the formatting)."""
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    handler.stream = _Discard()
    return handler


class _Discard(io.StringIO):
    def write(self, text: str) -> int:
        return len(text)


def _per_call(run: Callable[[], object], calls: int) -> float:
    # CPU time of this process (all its threads): the machine is shared, and what others
    # run would otherwise land in whichever variant was running at the time.
    started = time.process_time()
    for _ in range(calls):
        run()
    return (time.process_time() - started) / calls


def _interleaved(variants: dict[str, Callable[[], object]], calls: int, rounds: int) -> dict[str, float]:
    """Median seconds per call of each variant over ``rounds`` interleaved rounds."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    for _ in range(rounds):
        for name in order:
            times[name].append(_per_call(variants[name], calls))
        order.reverse()  # neither variant always runs first (after a cache was emptied, say)
    return {name: statistics.median(values) for name, values in times.items()}


def _without_instrumentation(app: FastAPI) -> FastAPI:
    app.user_middleware = [m for m in app.user_middleware if getattr(m, "cls", None) is not Observe]
    return app


@contextlib.contextmanager
def _untimed(stage: str) -> Iterator[None]:
    yield


@contextlib.contextmanager
def _stage_timers_off() -> Iterator[None]:
    original = metrics.issue_stage
    setattr(metrics, "issue_stage", _untimed)  # noqa: B010 (the bench swaps the timer out)
    try:
        yield
    finally:
        setattr(metrics, "issue_stage", original)  # noqa: B010


class _Route:
    path_format = "/v/{document_id}"


async def _handler(scope: Scope, receive: Receive, send: Send) -> None:
    """An app that routes (as the router does, into the scope) and answers at once."""
    scope["route"] = _Route
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> Message:
    return {"type": "http.request", "body": b""}


async def _send(message: Message) -> None:
    pass


def middleware_cost(calls: int, rounds: int) -> float:
    """CPU seconds the middleware adds to one request, called as the server calls it
    (ASGI, no client in between)."""

    def calling(app: ASGIApp) -> Callable[[], object]:
        async def many() -> None:
            for _ in range(calls):
                scope = {"type": "http", "method": "GET", "path": "/v/X", "headers": [(b"host", b"sanad")]}
                await app(scope, _receive, _send)

        return lambda: asyncio.run(many())

    result = _interleaved({"bare": calling(_handler), "observed": calling(Observe(_handler))}, 1, rounds)
    return (result["observed"] - result["bare"]) / calls


def recording_cost(calls: int) -> tuple[float, float]:
    """Seconds of the issuing path's own recording (3 stage timers, 1 counter) and the
    verifier's (1 counter), per operation."""

    def issue_records() -> None:
        for stage in ("render", "sign", "store"):
            with metrics.issue_stage(stage):
                pass
        metrics.DOCUMENTS_ISSUED.labels("B-LTA").inc()

    issue = _per_call(issue_records, calls)
    verify = _per_call(lambda: metrics.VERIFICATIONS.labels("TOTAL_PASSED").inc(), calls)
    return issue, verify


def operations(issues: int, rounds: int) -> dict[str, float]:
    """Median seconds per issue and per verification, with and without instrumentation."""
    with deploy("embedded") as deployment, development_pki(deployment.env):
        context = AppContext.build(deployment.settings())
        headers = {"Authorization": f"Bearer {deployment.api_key}"}
        body = example_request()
        with (
            TestClient(create_app(context=context)) as on,
            TestClient(_without_instrumentation(create_app(context=context))) as off,
        ):
            first = on.post("/api/v1/documents", json=body, headers=headers)
            assert first.status_code == 201, first.text
            pdf = on.get(f"/api/v1/documents/{first.json()['id']}/content", headers=headers).content
            context.settings.verify_uploads_per_window = 10**9  # the bench is one address

            def expect(status: int, answer: Any) -> None:
                assert answer.status_code == status, answer.text

            def issue(client: TestClient) -> Callable[[], object]:
                return lambda: expect(201, client.post("/api/v1/documents", json=body, headers=headers))

            def verify(client: TestClient) -> Callable[[], object]:
                files = {"file": ("c.pdf", pdf, "application/pdf")}
                return lambda: expect(200, client.post("/api/v1/verify", files=files))

            def issue_off() -> None:
                with _stage_timers_off():
                    issue(off)()

            # Issuing changes what the verifier's cache may keep: the two are measured apart.
            timings = _interleaved({"issue_on": issue(on), "issue_off": issue_off}, issues, rounds)
            timings |= _interleaved({"verify_on": verify(on), "verify_off": verify(off)}, issues, rounds)
        context.close()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.observability", description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--issues", type=int, default=10, help="issues (and verifications) per round")
    args = parser.parse_args(argv)

    root = logging.getLogger()
    root.addHandler(_null_json_log())
    root.setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the bench's client, not the server

    middleware = middleware_cost(5000, args.rounds)
    issue_recording, verify_recording = recording_cost(20_000)
    timings = operations(args.issues, args.rounds)
    issue_cost = middleware + issue_recording
    verify_cost = middleware + verify_recording
    lines = [
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {_machine()} · load {_load()}",
        f"middleware per request: {middleware * 1e6:.0f} µs; issuing path's timers: {issue_recording * 1e6:.1f} µs; "
        f"verifier's counter: {verify_recording * 1e6:.1f} µs",
        f"issue: {timings['issue_on'] * 1e3:.1f} CPU ms instrumented, {timings['issue_off'] * 1e3:.1f} ms without "
        f"(median of {args.rounds} rounds × {args.issues}); instrumentation {issue_cost * 1e6:.0f} µs = "
        f"{100 * issue_cost / timings['issue_off']:.2f} %",
        f"verify: {timings['verify_on'] * 1e3:.1f} CPU ms instrumented, {timings['verify_off'] * 1e3:.1f} ms without; "
        f"instrumentation {verify_cost * 1e6:.0f} µs = {100 * verify_cost / timings['verify_off']:.2f} %",
    ]
    print("\n".join(lines))
    return 0


def _machine() -> str:
    machine = describe_machine()
    return f"{machine.cores} cores, {machine.cpu_model}, Python {machine.python}, {machine.commit}"


def _load() -> str:
    import os

    return " ".join(f"{v:.2f}" for v in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
