"""The QR target's kept answers (verifier/lookup_cache.py): fresh across processes by
PostgreSQL's NOTIFY, never served while changes could go unheard, bounded, and honest
about the clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
import time_machine
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, text

from issuer import events
from issuer.public_records import CHANNEL, ChangeListener, libpq_conninfo
from sanad.clock import today_in_india
from sanad.db import make_engine
from sanad.ids import new_document_id
from tests.conftest import Backend, IssuingDepartment
from tests.verifier.helpers import DECODE, counted_work, kept_here, raw_get
from tests.verifier.test_api import issue
from verifier.lookup_cache import LookupCache
from web.conditional import weak_etag

JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}


def _eventually(condition: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def elsewhere(backend: Backend) -> Iterator[Engine]:
    """An engine of its own, standing for another server process: its changes reach this
    process only through the database."""
    engine = make_engine(backend.settings.database_url)
    yield engine
    engine.dispose()


def _change(engine: Engine, document_id: str, **values: str) -> None:
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE documents SET {assignments} WHERE id = :id"), {"id": document_id, **values})


def _require_notify(backend: Backend) -> None:
    if backend.name != "postgres-minio":
        pytest.skip("PostgreSQL's NOTIFY feeds the cache; SQLite has none (and no cache)")


def _lookup(client: TestClient, document_id: str) -> dict[str, object]:
    answer = client.get(f"/v/{document_id}", headers=JSON)
    assert answer.status_code in (200, 404)
    body: dict[str, object] = answer.json()
    return body


def _document(body: dict[str, object]) -> dict[str, object]:
    document = body["document"]
    assert isinstance(document, dict)
    return document


def test_a_revocation_in_another_process_is_seen_by_the_next_lookup_here(
    client: TestClient, backend: Backend, dept: IssuingDepartment, elsewhere: Engine
) -> None:
    record, _ = issue(client, dept)
    lookups = backend.context.lookups
    first = _lookup(client, record["id"])
    kept = record["id"] in lookups

    started = time.monotonic()
    _change(elsewhere, record["id"], status="revoked", revocation_reason="forged elsewhere")
    # The notification travels after the commit; it evicts within milliseconds.
    assert _eventually(lambda: record["id"] not in lookups, seconds=1.0)
    heard_within = time.monotonic() - started
    after = _lookup(client, record["id"])

    assert first["status"] == "valid"
    assert kept is (backend.name == "postgres-minio")  # SQLite hears nothing: keeps nothing
    assert heard_within < 1.0
    assert after["status"] == "revoked"
    assert _document(after)["revocation_reason"] == "forged elsewhere"


def test_a_change_of_the_signature_level_elsewhere_is_seen_too(
    client: TestClient, backend: Backend, dept: IssuingDepartment, elsewhere: Engine
) -> None:
    record, _ = issue(client, dept)
    _lookup(client, record["id"])

    _change(elsewhere, record["id"], signature_level="B-LT")
    assert _eventually(lambda: record["id"] not in backend.context.lookups, seconds=1.0)

    assert _document(_lookup(client, record["id"]))["signature_level"] == "B-LT"


def test_a_department_renamed_elsewhere_empties_the_cache(
    client: TestClient, backend: Backend, dept: IssuingDepartment, elsewhere: Engine
) -> None:
    record, _ = issue(client, dept)
    _lookup(client, record["id"])

    with elsewhere.begin() as connection:
        connection.execute(
            text("UPDATE departments SET name_en = :name WHERE id = :id"),
            {"name": "Renamed Department", "id": dept.department.id},
        )
    assert _eventually(lambda: len(backend.context.lookups) == 0, seconds=1.0)
    issuer = _document(_lookup(client, record["id"]))["issuer"]

    assert isinstance(issuer, dict)
    assert issuer["name"]["en"] == "Renamed Department"


def test_a_404_then_the_document_issued_with_that_id_is_found(
    client: TestClient, dept: IssuingDepartment, monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id = new_document_id()
    monkeypatch.setattr("issuer.service.new_document_id", lambda: document_id)

    before = client.get(f"/v/{document_id}", headers=JSON)
    record, _ = issue(client, dept)
    after = client.get(f"/v/{document_id}", headers=JSON)

    assert before.status_code == 404
    assert record["id"] == document_id
    assert after.status_code == 200
    assert after.json()["status"] == "valid"


def test_a_kept_answer_reads_expired_once_its_last_valid_day_has_passed(
    client: TestClient, dept: IssuingDepartment
) -> None:
    valid_until = today_in_india() + timedelta(days=3)
    record, _ = issue(client, dept, valid_until=valid_until.isoformat())

    before = _lookup(client, record["id"])
    with time_machine.travel(datetime.now(UTC) + timedelta(days=5)):
        after = _lookup(client, record["id"])
        again = _lookup(client, record["id"])
    back = _lookup(client, record["id"])

    assert before["status"] == "valid"
    assert after["status"] == again["status"] == "expired"
    assert back["status"] == "valid"


def _serving(backend: Backend, capacity: int, **options: Any) -> LookupCache:
    """A cache told it hears every change (standing in for a connected listener)."""
    cache = LookupCache(capacity, backend.context.read_sessions, **options)
    cache.connected()
    return cache


def test_the_cache_holds_at_most_its_capacity_dropping_the_least_recently_asked(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    first, second, third = (issue(client, dept)[0]["id"] for _ in range(3))
    cache = _serving(backend, capacity=2)
    today = today_in_india()

    cache.read(first)
    cache.read(second)
    cache.get(first, today)  # asked again: now the most recent
    cache.read(third)

    assert len(cache) == 2
    assert first in cache
    assert second not in cache
    assert third in cache
    assert cache.get(third, today) is not None


def test_unknown_ids_are_kept_apart_and_cannot_push_real_answers_out(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, _ = issue(client, dept)
    cache = _serving(backend, capacity=2, unknown_capacity=3)
    today = today_in_india()
    made_up = [new_document_id() for _ in range(6)]

    cache.read(record["id"])
    answers = [cache.read(document_id) for document_id in made_up]

    assert not any(answer.found for answer in answers)
    assert record["id"] in cache
    assert cache.unknown_kept == 3
    assert made_up[0] not in cache  # the least recently asked went
    kept = cache.get(made_up[-1], today)
    assert kept is not None
    assert not kept.found


def test_an_id_kept_as_unknown_is_found_once_another_process_adds_its_document(
    client: TestClient, backend: Backend, dept: IssuingDepartment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the insert's notification can tell this process: the issue below does not
    drop the answer here on its own (as an issue in another process would not)."""
    _require_notify(backend)
    lookups = backend.context.lookups
    monkeypatch.setattr(events, "_listeners", [f for f in events._listeners if f != lookups.evict_after_commit])
    document_id = new_document_id()
    monkeypatch.setattr("issuer.service.new_document_id", lambda: document_id)
    assert _eventually(lambda: lookups.serving)

    assert client.get(f"/v/{document_id}", headers=JSON).status_code == 404
    assert document_id in lookups  # kept as unknown
    issue(client, dept)

    assert _eventually(lambda: client.get(f"/v/{document_id}", headers=JSON).status_code == 200)


def test_a_read_that_began_before_a_change_is_not_kept(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, _ = issue(client, dept)
    cache = _serving(backend, capacity=10)
    ticket = cache.ticket()
    answer = cache.read(record["id"])
    cache.changed(record["id"])  # heard after the read began, before it is kept

    assert answer.found
    assert cache.put(record["id"], answer, ticket) is False
    assert record["id"] not in cache


def test_nothing_is_served_nor_kept_once_the_listener_has_been_silent_too_long(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, _ = issue(client, dept)
    cache = _serving(backend, capacity=10, silence_seconds=0.2)
    cache.read(record["id"])
    served = cache.get(record["id"], today_in_india())

    time.sleep(0.3)

    assert served is not None
    assert cache.get(record["id"], today_in_india()) is None
    assert cache.ticket() is None
    cache.heard()
    assert cache.serving


def test_without_a_listener_nothing_is_kept(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    record, _ = issue(client, dept)
    cache = LookupCache(10, backend.context.read_sessions)

    answer = cache.read(record["id"])

    assert answer.found
    assert len(cache) == 0
    assert cache.get(record["id"], date.today()) is None


def test_a_killed_listener_stops_the_cache_until_it_reconnects_and_a_change_meanwhile_shows(
    client: TestClient, backend: Backend, dept: IssuingDepartment, elsewhere: Engine
) -> None:
    _require_notify(backend)
    record, _ = issue(client, dept)
    cache = LookupCache(10, backend.context.read_sessions)
    listener = ChangeListener(libpq_conninfo(backend.engine.url), cache, reconnect_seconds=1.0)
    cache.listener = listener
    cache.start()
    try:
        assert _eventually(lambda: cache.serving)
        cache.read(record["id"])
        kept = record["id"] in cache

        with elsewhere.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": listener.backend_pid})
        assert _eventually(lambda: not cache.serving, seconds=2.0)
        served_while_down = cache.get(record["id"], today_in_india())
        _change(elsewhere, record["id"], status="suspended", suspension_reason="court_order")
        while_down = cache.read(record["id"])
        kept_while_down = record["id"] in cache

        assert _eventually(lambda: cache.serving, seconds=5.0)
        after = cache.get(record["id"], today_in_india()) or cache.read(record["id"])
    finally:
        cache.stop()

    assert kept
    assert served_while_down is None
    assert while_down.result.status == "suspended"
    assert not kept_while_down
    assert after.result.status == "suspended"


def test_only_a_change_of_what_the_record_shows_is_announced(
    client: TestClient, backend: Backend, dept: IssuingDepartment, elsewhere: Engine
) -> None:
    _require_notify(backend)
    record, _ = issue(client, dept)
    with psycopg.connect(libpq_conninfo(backend.engine.url), autocommit=True) as listening:
        listening.execute(f"LISTEN {CHANNEL}")
        with elsewhere.begin() as connection:
            connection.execute(
                text("UPDATE documents SET archive_refreshed_at = now() WHERE id = :id"), {"id": record["id"]}
            )
        unseen = [n.payload for n in listening.notifies(timeout=0.5)]
        _change(elsewhere, record["id"], suspension_reason="court_order", status="suspended")
        # Other test runs may share the database, and its channel: wait for this one's id.
        seen = any(n.payload == record["id"] for n in listening.notifies(timeout=2.0))

    assert record["id"] not in unseen
    assert seen


def test_kept_pages_follow_the_language_and_the_address_and_go_with_a_change(
    client: TestClient, backend: Backend, dept: IssuingDepartment, elsewhere: Engine
) -> None:
    record, _ = issue(client, dept)
    url = f"/v/{record['id']}"
    english = client.get(url, headers=HTML, params={"lang": "en"})
    punjabi = client.get(url, headers=HTML, params={"lang": "pa"})
    english_again = client.get(url, headers=HTML, params={"lang": "en"})
    from_the_qr = client.get(url.upper(), headers=HTML, params={"lang": "en"})  # same language, another address

    _change(elsewhere, record["id"], status="revoked", revocation_reason="forged")
    assert _eventually(lambda: record["id"] not in backend.context.lookups, seconds=1.0)
    revoked = client.get(url, headers=HTML, params={"lang": "en"})

    assert english.text == english_again.text
    assert english.headers["content-language"] == "en"
    assert '<html lang="pa">' in punjabi.text
    assert punjabi.headers["content-language"] == "pa"
    assert f'href="/V/{record["id"].upper()}?lang=pa"' in from_the_qr.text
    assert f'href="/v/{record["id"]}?lang=pa"' in english.text
    assert 'data-status="valid"' in english.text
    assert 'data-status="revoked"' in revoked.text


def test_a_read_on_a_connection_the_database_dropped_is_made_again_on_a_new_one(
    client: TestClient, backend: Backend, dept: IssuingDepartment, elsewhere: Engine
) -> None:
    _require_notify(backend)  # only PostgreSQL's reads skip the check before each checkout
    record, _ = issue(client, dept)
    cache = LookupCache.for_engine(backend.engine, 10)
    try:
        with cache.read_sessions() as session:
            pooled = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with elsewhere.begin() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pooled})
        answer = cache.read(record["id"])
    finally:
        cache.stop()

    assert answer.found
    assert answer.result.status == "valid"


def test_a_listener_keeps_the_cache_serving_by_hearing_its_own_echo(backend: Backend) -> None:
    _require_notify(backend)
    cache = LookupCache(10, backend.context.read_sessions, silence_seconds=1.0)
    cache.listener = ChangeListener(libpq_conninfo(backend.engine.url), cache, ping_seconds=0.2)
    cache.start()
    try:
        assert _eventually(lambda: cache.serving)
        time.sleep(1.5)  # longer than the silence it tolerates: only the echoes keep it serving
        still_serving = cache.serving
    finally:
        cache.stop()

    assert still_serving
    assert not cache.serving  # stopped: told it lost the connection


def test_a_revocation_elsewhere_changes_the_kept_page_in_every_coding_at_once(
    client: TestClient, backend: Backend, dept: IssuingDepartment, elsewhere: Engine
) -> None:
    record, _ = issue(client, dept)
    url = f"/v/{record['id']}"
    before = {coding: raw_get(client, url, {**HTML, "Accept-Encoding": coding}) for coding in DECODE}
    kept = record["id"] in backend.context.lookups

    _change(elsewhere, record["id"], status="revoked", revocation_reason="forged")
    assert _eventually(lambda: record["id"] not in backend.context.lookups, seconds=1.0)
    after = {coding: raw_get(client, url, {**HTML, "Accept-Encoding": coding}) for coding in DECODE}

    assert kept is (backend.name == "postgres-minio")
    for coding, decode in DECODE.items():
        (old, old_raw), (new, new_raw) = before[coding], after[coding]
        assert b'data-status="valid"' in decode(old_raw)
        assert b'data-status="revoked"' in decode(new_raw)
        assert new.headers.get("content-encoding") == old.headers.get("content-encoding")
        assert new.headers["etag"] == weak_etag(decode(new_raw)) != old.headers["etag"]


def test_each_language_has_a_kept_page_of_its_own(
    client: TestClient, backend: Backend, dept: IssuingDepartment, monkeypatch: pytest.MonkeyPatch
) -> None:
    record, _ = issue(client, dept)
    kept = kept_here(backend)
    work = counted_work(monkeypatch)

    def page_in(language: str) -> Response:
        headers = {**HTML, "Accept-Language": language, "Accept-Encoding": "br"}
        answer: Response = client.get(f"/v/{record['id']}", headers=headers)
        return answer

    languages = ("en", "pa", "hi")
    first = {language: page_in(language) for language in languages}
    again = {language: page_in(language) for language in languages}

    for language in languages:
        assert first[language].headers["content-language"] == language
        assert first[language].headers["content-encoding"] == "br"
        assert f'<html lang="{language}">' in first[language].text
        assert again[language].content == first[language].content
        assert again[language].headers["etag"] == first[language].headers["etag"]
    assert len({answer.headers["etag"] for answer in first.values()}) == 3
    assert work.renders == work.hashes == work.compressions == (3 if kept else 6)


def _page_as_sent(client: TestClient, document_id: str) -> bytes:
    """The page a browser gets (brotli), decoded."""
    answer, raw = raw_get(client, f"/v/{document_id}", {**HTML, "Accept-Encoding": "br"})
    assert answer.headers["content-encoding"] == "br"
    return DECODE["br"](raw)


def test_a_department_renamed_elsewhere_changes_the_kept_pages(
    client: TestClient, backend: Backend, dept: IssuingDepartment, elsewhere: Engine
) -> None:
    record, _ = issue(client, dept)
    before = _page_as_sent(client, record["id"])

    with elsewhere.begin() as connection:
        connection.execute(
            text("UPDATE departments SET name_en = :name WHERE id = :id"),
            {"name": "Renamed Department", "id": dept.department.id},
        )
    assert _eventually(lambda: len(backend.context.lookups) == 0, seconds=1.0)
    after = _page_as_sent(client, record["id"])

    assert b"Renamed Department" not in before
    assert b"Renamed Department" in after


def test_a_kept_page_reads_expired_once_its_last_valid_day_has_passed(
    client: TestClient, dept: IssuingDepartment
) -> None:
    record, _ = issue(client, dept, valid_until=(today_in_india() + timedelta(days=3)).isoformat())

    before = _page_as_sent(client, record["id"])
    with time_machine.travel(datetime.now(UTC) + timedelta(days=5)):
        after = _page_as_sent(client, record["id"])
    back = _page_as_sent(client, record["id"])

    assert b'data-status="valid"' in before
    assert b'data-status="expired"' in after
    assert back == before
