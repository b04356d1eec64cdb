"""The traffic a fault drill runs under: a department issuing documents (each with its
own Idempotency-Key, retried on 503 after the Retry-After it was given, as a client
should), a citizen applying for a service, and that citizen downloading documents from
the locker. Light (a few requests a second): it is there to meet the fault, not to load
the machine.

Every answer is kept, with when it came, so a drill can say what was answered while a
part was down and after it came back."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from tests.conftest import income_certificate
from tests.intake.helpers import INCOME_FORM, income_files

TIMEOUT = 30.0
"""Longest a request may take: an answer that needs longer counts as a hang."""
MOST_RETRY_WAIT = 3.0
"""The stream honours Retry-After, up to this, so a drill stays short."""


@dataclass(frozen=True)
class Answer:
    kind: str
    """issue, apply, download (the service's answer) or object (MinIO's, for a download
    the service redirected there)."""
    status: int | None
    """None: no answer (refused connection, timeout)."""
    at: float
    retry_after: str | None = None
    problem: str = ""


@dataclass(frozen=True)
class Held:
    """A document in the citizen's locker before the drill."""

    id: str
    sha256: str


@dataclass
class Stream:
    base: str
    api_key: str
    mobile: str
    citizen: dict[str, str]
    """The citizen's Authorization header."""
    held: list[Held]
    prefix: str
    """Of the idempotency keys this stream sends."""
    answers: list[Answer] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)
    issued: dict[str, str] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Stream:
        for loop in (self._issue, self._apply, self._download):
            thread = threading.Thread(target=self._run, args=(loop,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *_: object) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def _run(self, loop: Callable[[httpx.Client], None]) -> None:
        with httpx.Client(base_url=self.base, timeout=TIMEOUT) as client:
            while not self._stopping.is_set():
                loop(client)

    def _keep(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def _send(self, kind: str, call: Callable[[], httpx.Response]) -> httpx.Response | None:
        try:
            response = call()
        except httpx.HTTPError as e:
            self._keep(Answer(kind, None, time.monotonic(), problem=f"{type(e).__name__}: {e}"))
            return None
        problem = "" if response.status_code < 500 else response.text[:300]
        self._keep(Answer(kind, response.status_code, time.monotonic(), response.headers.get("Retry-After"), problem))
        return response

    # --- the three clients ----------------------------------------------------------------

    def _issue(self, client: httpx.Client) -> None:
        """One document, retried with its key until it is issued (the drill's end waits for
        the last one too: a request is never abandoned)."""
        key = f"{self.prefix}{len(self.requested) + 1}"
        self.requested.append(key)
        body = {**income_certificate(), "citizen_mobile": self.mobile}
        headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": key}
        give_up = None
        while True:
            if self._stopping.is_set() and give_up is None:
                give_up = time.monotonic() + 90
            if give_up is not None and time.monotonic() > give_up:
                return
            response = self._send("issue", lambda: client.post("/api/v1/documents", json=body, headers=headers))
            if response is not None and response.status_code in (200, 201):
                self.issued[key] = str(response.json()["id"])
                time.sleep(0.3)
                return
            if response is not None and response.status_code != 503:
                return  # kept as an unexpected answer
            wait = _retry_after(response) if response is not None else 1.0
            time.sleep(min(wait, MOST_RETRY_WAIT))

    def _apply(self, client: httpx.Client) -> None:
        response = self._send(
            "apply",
            lambda: client.post(
                "/api/v1/applications?lang=en",
                data={
                    "service": "rev-income",
                    "office": "TEH-SMR",
                    "form": json.dumps({**INCOME_FORM, "mobile": self.mobile}, ensure_ascii=False),
                },
                files=income_files(),
                headers=self.citizen,
            ),
        )
        if response is not None and response.status_code == 201:
            self.applied.append(str(response.json()["number"]))
        time.sleep(1.0)

    def _download(self, client: httpx.Client) -> None:
        for held in self.held:
            if self._stopping.is_set():
                return
            self._download_one(client, held)
            time.sleep(0.3)

    def _download_one(self, client: httpx.Client, held: Held) -> None:
        path = f"/api/v1/locker/documents/{held.id}/content"
        response = self._send("download", lambda: client.get(path, headers=self.citizen))
        if response is not None and response.status_code == 307:
            location = response.headers["location"]
            response = self._send("object", lambda: httpx.get(location, timeout=TIMEOUT))
        if response is None or response.status_code != 200:
            return
        if hashlib.sha256(response.content).hexdigest() != held.sha256:
            self._keep(Answer("download", 200, time.monotonic(), problem=f"{held.id}: other bytes"))

    # --- what a drill reads ----------------------------------------------------------------

    def between(self, start: float, end: float, *kinds: str) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if start <= a.at <= end and (not kinds or a.kind in kinds)]

    def wait_for_issue_after(self, moment: float, timeout: float) -> bool:
        """Whether a document was issued after ``moment`` (within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(a.status in (200, 201) for a in self.between(moment, time.monotonic(), "issue")):
                return True
            time.sleep(0.2)
        return False


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else 1.0


def faults(answers: list[Answer], allowed: dict[str, set[int | None]]) -> list[Answer]:
    """The answers a drill must never see: a status not allowed for its kind (a 500, a
    4xx the request did not deserve), a 503 without Retry-After, no answer at all, or a
    download of other bytes than were issued."""
    seen = []
    for answer in answers:
        if (
            (answer.problem and answer.status in (200, 201))
            or answer.status not in allowed.get(answer.kind, set())
            or (answer.status == 503 and not (answer.retry_after or "").isdigit())
        ):
            seen.append(answer)
    return seen
