"""Fault drills: one part of a running deployment fails while a department issues, a
citizen applies and downloads (tests/ops/drill_stream.py), and comes back.

Each drill asserts the same things: while the part is down every answer is the usual
one or 503 with Retry-After (never a 500, never a hang past 30 s); the service recovers
without being restarted; every idempotency key the department sent has exactly one
document; every application answered 201 exists once; ``sanad fsck`` (the real command)
finds no object without its row; and downloads of documents issued before the drill
keep working whenever the object store itself is up.

One deployment serves every drill (tests/ops/drill_site.py): starting it costs more
than a drill."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from intake.models import Application
from issuer.models import Document
from issuer.service import find_orphans
from sanad.storage import MinioStore
from tests.conftest import Backend, income_certificate
from tests.ops.drill_site import WORKER_JOBS, Site, running_site
from tests.ops.drill_stream import Answer, Held, Stream, faults
from tests.private_services import MINIO_PASSWORD, MINIO_USER

HEALTHY_SECONDS = 3.0
"""Traffic before the fault, so each drill starts from a working service."""
DOWN_SECONDS = 8.0
"""How long a part stays down. The issue asks for MinIO stopped 30 s; 8 s gives the same
answers (every request meanwhile meets the outage and is answered 503 at once) and
keeps the file within its few minutes."""
AFTER_SECONDS = 4.0
"""Traffic after recovery: what works again must keep working."""

Citizen = tuple[str, dict[str, str], list[Held]]
"""A citizen's mobile number, Authorization header and the documents they held before."""

ISSUE_UP = {200, 201}
APPLY_UP = {201}
DOWNLOAD_UP = {200, 307}
OBJECT_UP = {200}


@pytest.fixture(scope="module")
def site(backend: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if backend.name != "postgres-minio":
        pytest.skip("the drills stop PostgreSQL and MinIO servers of their own")
    with running_site(tmp_path_factory.mktemp("drills")) as running:
        yield running


@pytest.fixture(scope="module")
def citizen(site: Site) -> Citizen:
    """A signed-in citizen holding three documents issued before any drill."""
    mobile = "9" + "".join(secrets.choice("0123456789") for _ in range(9))
    department = {"Authorization": f"Bearer {site.api_key}"}
    held = []
    for n in range(3):
        body = {**income_certificate(), "citizen_mobile": mobile}
        response = httpx.post(
            f"{site.base}/api/v1/documents",
            json=body,
            headers={**department, "Idempotency-Key": f"held-{mobile}-{n}"},
            timeout=60,
        )
        assert response.status_code == 201, response.text
        held.append(_once_long_term(site, department, response.json()["id"]))
    assert httpx.post(f"{site.base}/api/v1/locker/otp", json={"mobile": mobile}, timeout=30).status_code == 202
    signed_in = httpx.post(
        f"{site.base}/api/v1/locker/session", json={"mobile": mobile, "code": site.latest_code(mobile)}, timeout=30
    )
    assert signed_in.status_code == 200, signed_in.text
    return mobile, {"Authorization": f"Bearer {signed_in.json()['access_token']}"}, held


def _once_long_term(site: Site, department: dict[str, str], document_id: str) -> Held:
    """The document once the worker has added its long-term revision (which changes its
    bytes), so the drills compare downloads with their final digest."""
    deadline = time.monotonic() + 120
    while True:
        record = httpx.get(f"{site.base}/api/v1/documents/{document_id}", headers=department, timeout=30).json()
        if not record["long_term_pending"]:
            return Held(document_id, record["sha256"])
        assert time.monotonic() < deadline, "the long-term revision was never added: " + site.log_tail()
        time.sleep(0.5)


def _stream(site: Site, citizen: Citizen, drill: str) -> Stream:
    mobile, headers, held = citizen
    return Stream(site.base, site.api_key, mobile, headers, held, prefix=f"{drill}-{secrets.token_hex(3)}-")


def _drill(
    site: Site, stream: Stream, fault: str, down: Callable[[], object], up: Callable[[], object]
) -> tuple[float, float]:
    """Healthy traffic, the fault (``down``), ``DOWN_SECONDS`` of it, the repair (``up``),
    and traffic until a document is issued again; returns when the fault started and
    when it was repaired."""
    server_pid = site.server.pid if site.server else None
    time.sleep(HEALTHY_SECONDS)
    assert stream.wait_for_issue_after(0, timeout=60), "nothing was issued before the fault: " + site.log_tail()
    start = time.monotonic()
    down()
    time.sleep(DOWN_SECONDS)
    up()
    repaired = time.monotonic()
    assert stream.wait_for_issue_after(repaired, timeout=90), f"no recovery after {fault}: " + site.log_tail()
    time.sleep(AFTER_SECONDS)
    assert site.server is not None
    assert site.server.pid == server_pid, "the server was restarted"
    assert site.server.poll() is None, site.log_tail()
    return start, repaired


def _assert_books_balance(site: Site, stream: Stream, *, unfinished_writes: int = 0) -> None:
    """Issued = requested, no duplicate, every accepted application exists, no orphan.

    ``unfinished_writes``: how many objects the fault may have left without their row in
    the last hour, which ``sanad fsck`` does not report yet (an issuance may be between
    storing its object and committing its row) and ``--fix`` removes after it."""
    assert set(stream.issued) == set(stream.requested), "keys never issued: " + str(
        set(stream.requested) - set(stream.issued)
    )
    per_key = site.documents_per_key(stream.prefix)
    assert sorted(per_key) == sorted(stream.requested)
    assert set(per_key.values()) == {1}, {k: n for k, n in per_key.items() if n != 1}
    with site.engine.connect() as connection:
        numbers = set(
            connection.scalars(select(Application.number).where(Application.number.in_(stream.applied))).all()
        )
    assert numbers == set(stream.applied)
    fsck = site.sanad("fsck")
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert fsck.stdout.strip().endswith("0 unreferenced object(s)"), fsck.stdout
    young = _young_orphans(site)
    assert len(young) <= unfinished_writes, young
    store = MinioStore.connect(site.minio.endpoint, MINIO_USER, MINIO_PASSWORD, "drill")
    for key in young:  # as `sanad fsck --fix` will in an hour, so the next drill starts clean
        store.delete(key)


def _young_orphans(site: Site) -> list[str]:
    """Objects without a row, those of the last hour included."""
    from sqlalchemy.orm import Session

    store = MinioStore.connect(site.minio.endpoint, MINIO_USER, MINIO_PASSWORD, "drill")
    with Session(site.engine) as session:
        return find_orphans(session, store, now=datetime.now(UTC) + timedelta(hours=1))


def _shown(answers: list[Answer]) -> str:
    return "\n".join(f"{a.kind} {a.status} retry-after={a.retry_after} {a.problem[:200]}" for a in answers[:10])


def _assert_answers(stream: Stream, start: float, repaired: float, down_kinds: dict[str, set[int | None]]) -> None:
    """Before the fault and after the repair everything works; during it, each kind
    answers as ``down_kinds`` allows (plus everything that works)."""
    up: dict[str, set[int | None]] = {
        "issue": {*ISSUE_UP},
        "apply": {*APPLY_UP},
        "download": {*DOWNLOAD_UP},
        "object": {*OBJECT_UP},
    }
    during = {kind: up[kind] | down_kinds.get(kind, set()) for kind in up}
    # A request sent just before the fault may be answered during it, and one sent during
    # it may be answered just after the repair: a second's margin each way.
    wrong = faults(stream.between(0, start - 1, *up), up)
    wrong += faults(stream.between(start - 1, repaired + 1), during)
    settled = repaired + 5
    wrong += faults(stream.between(settled, time.monotonic()), up)
    assert not wrong, _shown(wrong)


def _assert_outage_answered_503(stream: Stream, start: float, repaired: float, kind: str) -> None:
    seen = [a for a in stream.between(start + 1, repaired, kind) if a.status == 503]
    assert seen, f"no {kind} met the outage: the drill did not bite"


def test_a_worker_killed_with_kill_9(site: Site, citizen: Citizen) -> None:
    """Requests do not need the job worker: nothing is refused; its interrupted jobs (the
    long-term revision added after issue) are handed to its replacement."""
    assert site.worker is not None
    stream = _stream(site, citizen, "worker")

    def kill() -> None:
        assert site.worker is not None
        site.worker.send_signal(signal.SIGKILL)
        site.worker.wait(timeout=30)

    with stream:
        start, repaired = _drill(site, stream, "a killed worker", kill, site.start_worker)
    _assert_answers(stream, start, repaired, {})
    # Killed between storing a document's long-term revision and committing its row, each
    # job it was running leaves that new object behind.
    _assert_books_balance(site, stream, unfinished_writes=WORKER_JOBS)
    # The replacement finishes what the killed worker had taken (Procrastinate hands out
    # a dead worker's jobs after 30 s without a heartbeat).
    deadline = time.monotonic() + 120
    while True:
        with site.engine.connect() as connection:
            pending = connection.scalar(
                select(func.count())
                .select_from(Document)
                .where(Document.idempotency_key.like(f"{stream.prefix}%"), Document.long_term_pending)
            )
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert pending == 0, site.log_tail()


def test_the_server_processes_killed_with_kill_9(site: Site, citizen: Citizen) -> None:
    """Both at once, so every client's connection is cut: the supervisor starts others in
    their place. Requests they were answering get no answer; the department's client
    retries with the same key and gets the one document, whether or not the killed
    process had committed it."""
    before = site.server_processes()
    assert len(before) == 2, before
    stream = _stream(site, citizen, "server")

    def kill() -> None:
        for pid in before:
            os.kill(pid, signal.SIGKILL)

    with stream:
        start, repaired = _drill(site, stream, "killed server processes", kill, lambda: None)
    after = site.server_processes()
    assert len(after) == 2, after
    assert not set(before) & set(after)
    _assert_answers(stream, start, repaired, {"issue": {None}, "apply": {None}, "download": {None}})
    cut = [a for a in stream.between(start - 1, repaired + 1) if a.status is None]
    assert cut, "no request met the kill: the drill did not bite"
    # Killed between storing a document and committing its row, an issuance leaves that
    # object behind: one at most per issuing request that got no answer.
    _assert_books_balance(site, stream, unfinished_writes=len([a for a in cut if a.kind == "issue"]))


def test_minio_stopped(site: Site, citizen: Citizen) -> None:
    stream = _stream(site, citizen, "minio")
    with stream:
        start, repaired = _drill(site, stream, "MinIO stopped", site.minio.stop, site.minio.start)
    _assert_answers(stream, start, repaired, {"issue": {503}, "apply": {503}, "download": {503}, "object": {None, 503}})
    _assert_outage_answered_503(stream, start, repaired, "issue")
    # MinIO may finish an upload as it stops and its answer never arrive: the issuance (or
    # the worker's long-term revision) fails and its object stays, one at most per request
    # that met the stop and per job the worker was running.
    met_the_stop = [a for a in stream.between(start - 1, repaired + 1, "issue") if a.status not in ISSUE_UP]
    _assert_books_balance(site, stream, unfinished_writes=len(met_the_stop) + WORKER_JOBS)


def test_postgresql_restarted(site: Site, citizen: Citizen) -> None:
    stream = _stream(site, citizen, "postgres")
    with stream:
        start, repaired = _drill(site, stream, "PostgreSQL restarted", site.cluster.stop, site.cluster.start)
    _assert_answers(stream, start, repaired, {"issue": {503}, "apply": {503}, "download": {503}})
    _assert_outage_answered_503(stream, start, repaired, "issue")
    _assert_books_balance(site, stream)


def test_minio_disk_full(site: Site, citizen: Citizen) -> None:
    if site.disk is None:
        pytest.skip("MinIO's small disk is a tmpfs, and only root may mount one")
    disk = site.disk
    ballast = disk / "ballast"

    def fill() -> None:
        # Unbuffered: a buffered file keeps the block that did not fit and raises ENOSPC
        # again when it is closed, which left the disk full for the drills after this one.
        block = bytes(1024 * 1024)
        with ballast.open("wb", buffering=0) as out:
            while shutil.disk_usage(disk).free > 0:
                try:
                    out.write(block)
                except OSError:
                    break

    stream = _stream(site, citizen, "disk")
    try:
        with stream:
            start, repaired = _drill(site, stream, "MinIO's disk full", fill, ballast.unlink)
    finally:  # whatever failed, the drills after this one get their disk back
        ballast.unlink(missing_ok=True)
    # Reading is unaffected by a full disk; writing is refused.
    _assert_answers(stream, start, repaired, {"issue": {503}, "apply": {503}})
    _assert_outage_answered_503(stream, start, repaired, "issue")
    _assert_books_balance(site, stream)


def test_the_timestamp_authority_unreachable(site: Site, citizen: Citizen) -> None:
    """No signature without its timestamp: issuing is refused with 503, and everything
    that does not sign (applying, downloading) goes on."""
    stream = _stream(site, citizen, "tsa")
    with stream:
        start, repaired = _drill(site, stream, "the TSA unreachable", site.tsa.down, site.tsa.up)
    _assert_answers(stream, start, repaired, {"issue": {503}})
    _assert_outage_answered_503(stream, start, repaired, "issue")
    _assert_books_balance(site, stream)
