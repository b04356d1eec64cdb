"""The signed status list: bit layout, snapshots served by the API, revocation showing up,
the TTL, staleness, index allocation and the migration that backfills indexes."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.migrate import upgrade
from issuer import repository
from issuer.models import Document
from sanad.db import make_engine
from sanad.jws import b64url_decode, b64url_encode, parse_compact
from tests.conftest import Backend, IssuingDepartment, _drop_postgres_schema, _fresh_postgres_schema, _services_env
from tests.conftest import income_certificate as income_request
from trust.keys import key_id
from trust.service_keys import ensure_service_key
from verifier.pdf_seal import read_seal_and_attachment
from verifier.seal_check import verify_seal
from verifier.status_list import (
    MIN_ENTRIES,
    TYP,
    StatusList,
    StatusListInvalid,
    StatusListReason,
    build_snapshot,
    list_length,
    pack,
    verify_snapshot,
)
from verifier.trust import TrustPublisher, jwks

# --- the byte layout --------------------------------------------------------------------


def test_index_zero_is_the_least_significant_bits_of_byte_zero() -> None:
    raw = pack([(0, 1), (1, 3), (5, 1), (7, 2)], 8)

    assert raw == bytes([0b00_00_11_01, 0b10_00_01_00])
    statuses = StatusList(raw)
    assert [statuses.status(i) for i in range(8)] == [1, 3, 0, 0, 0, 1, 0, 2]
    assert statuses.status(8) is None
    assert statuses.status(-1) is None


def test_lst_is_base64url_of_zlib_and_round_trips() -> None:
    statuses = StatusList(pack([(3, 1), (131_071, 3)], MIN_ENTRIES))
    lst = statuses.encode()

    assert "=" not in lst
    assert "+" not in lst
    assert "/" not in lst
    assert zlib.decompress(b64url_decode(lst)) == statuses.raw
    decoded = StatusList.decode(lst, 2)
    assert decoded == statuses
    assert len(decoded) == MIN_ENTRIES


def test_list_is_never_shorter_than_herd_privacy_asks_and_doubles_beyond() -> None:
    assert list_length(0) == MIN_ENTRIES == 131_072
    assert list_length(131_071) == 131_072
    assert list_length(131_072) == 262_144


def test_a_decompression_bomb_is_refused() -> None:
    bomb = b64url_encode(zlib.compress(bytes(64 * 1024 * 1024), 9))
    with pytest.raises(ValueError, match="too large"):
        StatusList.decode(bomb, 2)
    with pytest.raises(ValueError, match="bits"):
        StatusList.decode(StatusList(b"\0").encode(), 3)


# --- snapshots --------------------------------------------------------------------------


def _status_jwks(keys_dir: Path) -> dict[str, object]:
    ensure_service_key(keys_dir, "status")
    return jwks(keys_dir, datetime.now(UTC))


def test_snapshot_claims_follow_the_draft(keys_dir: Path) -> None:
    key = ensure_service_key(keys_dir, "status")
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    snapshot = build_snapshot(
        highest_index=10,
        entries=[(3, "revoked"), (4, "superseded"), (5, "issued")],
        public_base_url="https://sanad.example",
        key_id=key_id(key.certificate),
        private_key=key.private_key,
        now=now,
        ttl=timedelta(hours=24),
    )
    parsed = parse_compact(snapshot.token, typ=TYP)
    claims = parsed.payload_object()

    assert parsed.header == {"alg": "ES256", "kid": key_id(key.certificate), "typ": "statuslist+jwt"}
    assert claims["iss"] == "https://sanad.example"
    assert claims["sub"] == "https://sanad.example/api/v1/status-list"
    assert claims["iat"] == int(now.timestamp())
    assert claims["exp"] == claims["iat"] + 86_400
    assert claims["ttl"] == 86_400
    assert claims["status_list"]["bits"] == 2
    verified = verify_snapshot(snapshot.token, _status_jwks(keys_dir), issuer="https://sanad.example")
    assert [verified.statuses.status(i) for i in (2, 3, 4, 5)] == [0, 1, 3, 0]
    assert len(verified.statuses) == MIN_ENTRIES
    assert verified.freshness(now + timedelta(hours=23)).current
    stale = verified.freshness(now + timedelta(hours=24))
    assert not stale.current
    assert stale.expires_at == now + timedelta(hours=24)


def test_snapshot_signed_by_a_seal_key_or_tampered_is_refused(keys_dir: Path) -> None:
    key = ensure_service_key(keys_dir, "status")
    token = build_snapshot(
        highest_index=0,
        entries=[],
        public_base_url="https://sanad.example",
        key_id=key_id(key.certificate),
        private_key=key.private_key,
        now=datetime.now(UTC),
        ttl=timedelta(hours=1),
    ).token
    jwks = _status_jwks(keys_dir)
    header, payload, signature = token.split(".")
    forged_payload = b64url_encode(b64url_decode(payload).replace(b'"ttl":3600', b'"ttl":3601'))

    with pytest.raises(StatusListInvalid) as caught:
        verify_snapshot(f"{header}.{forged_payload}.{signature}", jwks)
    assert caught.value.reason == StatusListReason.STATUS_LIST_SIGNATURE_INVALID
    with pytest.raises(StatusListInvalid) as caught:
        verify_snapshot(token, jwks, issuer="https://elsewhere.example")
    assert caught.value.reason == StatusListReason.STATUS_LIST_WRONG_ISSUER
    with pytest.raises(StatusListInvalid) as caught:
        verify_snapshot(token, {"keys": []})
    assert caught.value.reason == StatusListReason.STATUS_LIST_UNKNOWN_KEY
    none_header = b64url_encode(b'{"alg":"none","typ":"statuslist+jwt"}')
    with pytest.raises(StatusListInvalid) as caught:
        verify_snapshot(f"{none_header}.{payload}.", jwks)
    assert caught.value.reason == StatusListReason.STATUS_LIST_UNSUPPORTED_ALG


def test_ttl_comes_from_the_setting(keys_dir: Path) -> None:
    publisher = TrustPublisher(keys_dir, "https://sanad.example", status_list_ttl=timedelta(hours=2))
    snapshot = publisher.status_list(lambda: (0, []))

    assert snapshot.expires_at - snapshot.issued_at == timedelta(hours=2)


def test_snapshot_is_cached_then_rebuilt(keys_dir: Path) -> None:
    calls: list[int] = []

    def entries() -> tuple[int, list[tuple[int, str]]]:
        calls.append(1)
        return 0, []

    publisher = TrustPublisher(keys_dir, "https://sanad.example", status_list_ttl=timedelta(hours=24))
    first = publisher.status_list(entries)
    assert publisher.status_list(entries) is first
    assert len(calls) == 1
    publisher.invalidate()
    publisher.status_list(entries)
    assert len(calls) == 2
    publisher.cache_seconds = 0
    publisher.status_list(entries)
    assert len(calls) == 3


# --- through the API --------------------------------------------------------------------


def issue(
    client: TestClient, dept: IssuingDepartment, body: dict[str, object] | None = None, **headers: str
) -> tuple[dict[str, str], bytes]:
    body = body or income_request()
    issued = client.post("/api/v1/documents", json=body, headers={**dept.headers, **headers})
    assert issued.status_code in (200, 201), issued.text
    record = issued.json()
    pdf = client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content
    return record, pdf


def served_list(client: TestClient, backend: Backend) -> StatusList:
    backend.context.trust_publisher.invalidate()
    response = client.get("/api/v1/status-list")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/statuslist+jwt"
    jwks = client.get("/api/v1/trust/jwks").json()
    verified = verify_snapshot(response.text, jwks, issuer=backend.settings.public_base_url)
    assert verified.subject == backend.settings.public_base_url + "/api/v1/status-list"
    assert verified.expires_at - verified.issued_at == timedelta(hours=backend.settings.status_list_ttl_hours)
    return verified.statuses


def test_revocation_sets_the_documents_bits(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    record, pdf = issue(client, dept)
    other, _ = issue(client, dept)
    with backend.context.sessions() as s:
        index = s.get(Document, record["id"]).status_index  # type: ignore[union-attr]
        other_index = s.get(Document, other["id"]).status_index  # type: ignore[union-attr]
    assert index is not None
    assert other_index is not None
    assert index != other_index
    seal, _ = read_seal_and_attachment(pdf)
    assert seal is not None
    claims = verify_seal(seal, client.get("/api/v1/trust/jwks").json()).claims
    assert claims is not None
    assert claims.status_index == index

    assert served_list(client, backend).status(index) == 0
    revoked = client.post(f"/api/v1/documents/{record['id']}/revoke", json={"reason": "forged"}, headers=dept.headers)
    assert revoked.status_code == 200
    statuses = served_list(client, backend)

    assert statuses.status(index) == 1
    assert statuses.status(other_index) == 0


def test_an_idempotent_replay_takes_no_new_index(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    body = income_request()
    first, _ = issue(client, dept, body, **{"Idempotency-Key": "replay-1"})
    with backend.context.sessions() as s:
        highest = repository.highest_status_index(s)
    again, _ = issue(client, dept, body, **{"Idempotency-Key": "replay-1"})
    with backend.context.sessions() as s:
        assert repository.highest_status_index(s) == highest
    assert again["id"] == first["id"]


# --- the migration ----------------------------------------------------------------------


def _upgrade(engine: sa.Engine, revision: str) -> None:
    upgrade(engine, revision)


def _check_backfill(url: str) -> None:
    engine = make_engine(url)
    try:
        _upgrade(engine, "0004")
        now = datetime(2026, 2, 1, tzinfo=UTC)
        with engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO departments (id, code, name_en, name_pa, name_hi, created_at) "
                    "VALUES (1, 'REV', 'Revenue', 'ਮਾਲ', 'राजस्व', :now)"
                ),
                {"now": now},
            )
            c.execute(
                sa.text("INSERT INTO citizens (ref, citizen_id, created_at) VALUES ('r1', 'C1', :now)"), {"now": now}
            )
            for n, doc_id in enumerate(["late", "early", "middle"]):
                c.execute(
                    sa.text(
                        "INSERT INTO documents (id, type, citizen_ref, department_id, issued_at, sha256, size, "
                        "storage_key, status, version, holder_name, data) VALUES (:id, 't', 'r1', 1, :at, :sha, 1, "
                        ":key, 'issued', 1, 'x', '{}')"
                    ),
                    {"id": doc_id, "at": now + timedelta(days=[3, 1, 2][n]), "sha": doc_id * 8, "key": doc_id},
                )
        _upgrade(engine, "head")
        with engine.connect() as c:
            rows = {row[0]: row[1] for row in c.execute(sa.text("SELECT id, status_index FROM documents"))}
        assert rows == {"early": 1, "middle": 2, "late": 3}
        with engine.begin() as c:  # the allocator continues after the backfilled ones
            c.execute(sa.text("INSERT INTO status_index_allocations (allocated_at) VALUES (:now)"), {"now": now})
            assert c.execute(sa.text("SELECT MAX(id) FROM status_index_allocations")).scalar() == 4
        with engine.begin() as c, pytest.raises(sa.exc.IntegrityError):
            c.execute(sa.text("UPDATE documents SET status_index = 1 WHERE id = 'late'"))
    finally:
        engine.dispose()


def test_migration_backfills_indexes_in_issue_order_on_sqlite(tmp_path: Path) -> None:
    _check_backfill(f"sqlite:///{tmp_path / 'old.db'}")


def test_migration_backfills_indexes_in_issue_order_on_postgresql() -> None:
    env = _services_env()
    if env is None:
        pytest.skip("PostgreSQL is not running (scripts/services.sh start)")
    schema, url = _fresh_postgres_schema(env["DATABASE_URL"])
    try:
        _check_backfill(url)
    finally:
        _drop_postgres_schema(env["DATABASE_URL"], schema)
