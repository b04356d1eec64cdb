"""What keeps a submission cheap: the caller is found in one statement, the answer comes
from the rows just written, the filing runs off the event loop, and an application number
is one statement."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select, update

from accounts.models import StaffRole, StaffSession, StaffUser
from app.factory import create_app
from intake import applications, repository
from intake.models import Notification
from sanad.db import PreparedInsert, make_engine, make_session_factory
from sanad.ids import sha256_hex
from tests.conftest import Backend, client_address
from tests.intake.helpers import INCOME_FORM, PDF, apply, ensure_department, income_files, staff_headers
from tests.issuer.test_outages import unreachable_store
from tests.locker.conftest import new_mobile, sign_in


@pytest.fixture(autouse=True)
def departments(backend: Backend) -> None:
    ensure_department(backend, "REV")


@dataclass(frozen=True)
class Sent:
    connection: Any
    statement: str


@contextmanager
def sent(engine: Engine) -> Iterator[list[Sent]]:
    """Every statement ``engine`` sends meanwhile."""
    seen: list[Sent] = []

    def remember(conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool) -> None:
        seen.append(Sent(conn, statement))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", remember)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL ``engine`` sends meanwhile (filled in once the block ends)."""
    texts: list[str] = []
    with sent(engine) as seen:
        yield texts
    texts.extend(s.statement for s in seen)


def test_the_submission_answer_is_what_reading_the_application_gives(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())

    answer = apply(client, headers)
    assert answer.status_code == 201, answer.text
    read = client.get(f"/api/v1/applications/{answer.json()['number']}", headers=headers)

    assert read.status_code == 200
    assert answer.json() == read.json()


def test_a_submission_does_not_read_back_what_it_wrote(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())

    with statements(backend.engine) as seen:
        answer = apply(client, headers)

    assert answer.status_code == 201, answer.text
    read_back = [s for s in seen if "FROM application_events" in s or "FROM application_attachments" in s]
    assert read_back == []


def test_the_filing_runs_off_the_event_loop(
    client: TestClient, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filing waits on the database and object storage; on the event loop it would hold
    up every other request the worker serves."""
    on_a_loop: list[bool] = []
    file = applications.submit

    def watched(*args: Any, **kwargs: Any) -> applications.Submitted:
        try:
            asyncio.get_running_loop()
            on_a_loop.append(True)
        except RuntimeError:
            on_a_loop.append(False)
        return file(*args, **kwargs)

    monkeypatch.setattr(applications, "submit", watched)
    headers = sign_in(client, backend, new_mobile())

    answer = apply(client, headers)

    assert answer.status_code == 201, answer.text
    assert on_a_loop == [False]


def test_a_number_is_one_statement_once_its_sequence_exists(backend: Backend) -> None:
    if backend.name == "embedded":
        pytest.skip("SQLite keeps a counter row, one writer at a time")
    prefix = "PB-T-" + secrets.token_hex(3).upper()
    with backend.context.sessions() as session:
        repository.next_serial(session, prefix, 2026)
        with statements(backend.engine) as seen:
            second = repository.next_serial(session, prefix, 2026)
        session.commit()

    assert second == 2
    assert len(seen) == 1, seen
    assert "SAVEPOINT" not in seen[0]


def test_a_sequence_made_by_a_transaction_that_rolled_back_is_made_again(backend: Backend) -> None:
    prefix = "PB-T-" + secrets.token_hex(3).upper()
    with backend.context.sessions() as session:
        repository.next_serial(session, prefix, 2026)
        session.rollback()  # takes the new sequence (or counter row) with it
        again = [repository.next_serial(session, prefix, 2026) for _ in range(2)]
        session.commit()

    assert again == [1, 2]


def _session_lookups(seen: list[str]) -> list[str]:
    return [s for s in seen if "staff_sessions" in s or "locker_sessions" in s]


def test_a_citizen_caller_is_found_in_one_statement(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())

    with statements(backend.engine) as seen:
        listed = client.get("/api/v1/applications", headers=headers)

    assert listed.status_code == 200, listed.text
    assert len(_session_lookups(seen)) == 1, seen


def test_a_staff_caller_is_found_in_the_same_statement(client: TestClient, backend: Backend) -> None:
    operator = staff_headers(client, backend, StaffRole.OPERATOR)

    mobile = new_mobile()

    with statements(backend.engine) as seen:
        answer = apply(client, operator, form={**INCOME_FORM, "mobile": mobile}, mobile=mobile)

    assert answer.status_code == 201, answer.text
    assert answer.json()["channel"] == "sewa_kendra"
    assert len(_session_lookups(seen)) == 1, seen


@pytest.mark.parametrize("whose", ["citizen", "staff"])
def test_an_ended_session_opens_nothing(client: TestClient, backend: Backend, whose: str) -> None:
    if whose == "citizen":
        headers = sign_in(client, backend, new_mobile())
        ended = client.delete("/api/v1/locker/session", headers=headers)
    else:
        headers = staff_headers(client, backend, StaffRole.OPERATOR)
        ended = client.delete("/api/v1/staff/session", headers=headers)
    assert ended.status_code == 204, ended.text

    listed = client.get("/api/v1/applications", headers=headers)

    assert listed.status_code == 401
    assert listed.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_deactivated_member_is_no_caller(client: TestClient, backend: Backend) -> None:
    headers = staff_headers(client, backend, StaffRole.OPERATOR)
    token_hash = sha256_hex(headers["Authorization"].removeprefix("Bearer "))
    with backend.context.sessions() as session:
        member = select(StaffSession.staff_id).where(StaffSession.token_hash == token_hash).scalar_subquery()
        session.execute(update(StaffUser).where(StaffUser.id == member).values(active=False))
        session.commit()

    assert client.get("/api/v1/applications", headers=headers).status_code == 401


def test_a_caller_without_a_live_session_is_refused_before_the_body_is_read(
    client: TestClient, backend: Backend
) -> None:
    # More files than any form takes: reading this body refuses it; a caller without a
    # session is refused before that.
    files = [(f"attachment.extra{k}", (f"{k}.pdf", PDF, "application/pdf")) for k in range(25)]
    signed_in = apply(client, sign_in(client, backend, new_mobile()), files=files)

    answer = apply(client, {"Authorization": "Bearer " + secrets.token_urlsafe(32)}, files=files)

    assert signed_in.status_code == 400, signed_in.text
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_storage_outage_during_a_submission_is_503_and_files_nothing(
    client: TestClient, backend: Backend, tmp_path: Path
) -> None:
    mobile = new_mobile()
    headers = sign_in(client, backend, mobile)
    store = unreachable_store(backend, tmp_path)
    broken = replace(backend.context, store=store, intake=replace(backend.context.intake, store=store))

    with TestClient(create_app(context=broken), client=client_address(), raise_server_exceptions=False) as outage:
        refused = apply(outage, headers)

    assert refused.status_code == 503
    assert refused.headers["Retry-After"].isdigit()
    with backend.context.sessions() as session:
        assert repository.of_mobile(session, mobile, 10) == []
    # Once the store is back, the same submission goes through.
    assert apply(client, headers).status_code == 201


def test_the_department_is_read_once_not_at_every_submission(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())
    assert apply(client, headers).status_code == 201

    with statements(backend.engine) as seen:
        answer = apply(client, sign_in(client, backend, new_mobile()))

    assert answer.status_code == 201, answer.text
    assert [s for s in seen if "FROM departments" in s] == []
    with backend.context.sessions() as session:
        stored = repository.by_number(session, answer.json()["number"])
        assert stored is not None
        assert stored.department_id == ensure_department(backend, "REV")


def _inserts_into(seen: list[Sent], table: str) -> list[Sent]:
    return [s for s in seen if s.statement.startswith(f"INSERT INTO {table} ")]


@contextmanager
def notices_by_sms_and_whatsapp(backend: Backend) -> Iterator[tuple[TestClient, list[Sent]]]:
    """A client of an app whose notices go by SMS and WhatsApp (two rows a notice), and
    the statements sent meanwhile."""
    both = frozenset({"sms", "whatsapp"})
    context = replace(backend.context, intake=replace(backend.context.intake, notice_channels=both))
    with TestClient(create_app(context=context), client=client_address()) as client, sent(backend.engine) as seen:
        yield client, seen


def test_a_submissions_notices_are_one_plain_insert_of_pending_rows(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    headers = sign_in(client, backend, mobile)

    with notices_by_sms_and_whatsapp(backend) as (two_channels, seen):
        answer = apply(two_channels, headers)

    assert answer.status_code == 201, answer.text
    (insert,) = _inserts_into(seen, "notifications")
    assert "RETURNING" not in insert.statement  # no unit of work reading the ids back
    with backend.context.sessions() as session:
        stored = repository.by_number(session, answer.json()["number"])
        assert stored is not None
        notices = session.scalars(select(Notification).where(Notification.application_id == stored.id)).all()
    assert sorted((n.channel, n.recipient) for n in notices) == [("sms", mobile), ("whatsapp", mobile)]
    assert {(n.purpose, n.status, n.attempts) for n in notices} == {("application_submitted", "pending", 0)}
    assert all(answer.json()["number"] in n.body for n in notices)
    assert all(n.next_attempt_at == n.created_at for n in notices)


def test_a_submission_still_documents_its_bearer_token(client: TestClient) -> None:
    """The handler reads the token itself; the document still says which one it takes."""
    document = client.get("/openapi.json").json()
    submitting = document["paths"]["/api/v1/applications"]["post"]
    listing = document["paths"]["/api/v1/applications"]["get"]

    assert submitting["security"] == listing["security"] == [{"StaffOrCitizenToken": []}]
    assert "StaffOrCitizenToken" in document["components"]["securitySchemes"]


@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer  "])
def test_a_submission_without_a_bearer_token_is_refused(client: TestClient, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    answer = apply(client, headers)

    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


#: Past the largest JSON body (1 MiB by default): such a body is read only once the caller is known.
LARGE_PADDING = ("padding", ("padding.bin", b"\0" * (1024 * 1024 + 1), "application/octet-stream"))


def _caller_and_filing_connections(seen: list[Sent]) -> tuple[Any, Any]:
    (lookup,) = [s.connection for s in seen if "locker_sessions" in s.statement]
    (filing,) = [s.connection for s in _inserts_into(seen, "applications")]
    return lookup, filing


def test_a_small_submission_finds_its_caller_in_the_filings_transaction(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())

    with sent(backend.engine) as seen:
        answer = apply(client, headers)

    assert answer.status_code == 201, answer.text
    lookup, filing = _caller_and_filing_connections(seen)
    assert lookup is filing


def test_a_large_submission_finds_its_caller_before_its_body_is_read(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())

    with sent(backend.engine) as seen:
        answer = apply(client, headers, files=[*income_files(), LARGE_PADDING])

    assert answer.status_code == 201, answer.text
    lookup, filing = _caller_and_filing_connections(seen)
    assert lookup is not filing


def test_a_caller_without_a_live_session_is_refused_before_a_large_body_is_read(
    client: TestClient, backend: Backend
) -> None:
    files = [(f"attachment.extra{k}", (f"{k}.pdf", PDF, "application/pdf")) for k in range(25)]
    files.append(LARGE_PADDING)
    signed_in = apply(client, sign_in(client, backend, new_mobile()), files=files)

    answer = apply(client, {"Authorization": "Bearer " + secrets.token_urlsafe(32)}, files=files)

    assert signed_in.status_code == 400, signed_in.text
    assert answer.status_code == 401, answer.text
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_submissions_inserts_of_several_rows_are_compiled_once(
    client: TestClient, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = sign_in(client, backend, new_mobile())
    with notices_by_sms_and_whatsapp(backend) as (two_channels, _):
        assert apply(two_channels, headers).status_code == 201
    compiled: list[str] = []
    compile_insert = PreparedInsert._compile

    def counted(self: PreparedInsert, dialect: Any, keys: tuple[str, ...]) -> Any:
        compiled.append(self.table.name)
        return compile_insert(self, dialect, keys)

    monkeypatch.setattr(PreparedInsert, "_compile", counted)

    with notices_by_sms_and_whatsapp(backend) as (two_channels, seen):
        first = apply(two_channels, headers)
        second = apply(two_channels, headers)

    assert (first.status_code, second.status_code) == (201, 201)
    assert len(_inserts_into(seen, "application_attachments")) == len(_inserts_into(seen, "notifications")) == 2
    assert compiled == []


def test_a_submissions_rows_and_notices_reach_postgresql_in_one_round_trip(backend: Backend, tmp_path: Path) -> None:
    """The application, its attachments, its timeline entry and its notices are only
    written: they go to the server together, as one statement, and are waited for once."""
    if backend.name == "embedded":
        pytest.skip("SQLite has no round trips")
    engine = make_engine(backend.settings.database_url)
    protocol = tmp_path / "protocol.txt"
    traced: list[tuple[Any, Any]] = []

    @event.listens_for(engine, "connect")
    def trace(dbapi_connection: Any, _record: Any) -> None:
        file = protocol.open("a")
        dbapi_connection.pgconn.trace(file.fileno())
        dbapi_connection.pgconn.set_trace_flags(3)  # no timestamps
        traced.append((dbapi_connection.pgconn, file))

    context = replace(backend.context, sessions=make_session_factory(engine))
    with TestClient(create_app(context=context), client=client_address()) as client:
        answer = apply(client, sign_in(client, backend, new_mobile()))
    for pgconn, file in traced:
        pgconn.untrace()
        file.close()
    engine.dispose()

    assert answer.status_code == 201, answer.text
    messages = protocol.read_text().splitlines()
    first = next(i for i, m in enumerate(messages) if "INSERT INTO applications " in m)
    waited = next(i for i, m in enumerate(messages[first:]) if "ReadyForQuery" in m)
    sent_together = messages[first : first + waited]
    (statement,) = [m for m in sent_together if m.split("\t")[2:3] == ["Parse"]]
    for table in ("applications", "application_attachments", "application_events", "notifications"):
        assert f"INSERT INTO {table} " in statement, table
