"""A burst of unknown ids on the QR target: each a 404 that says nothing about which ids
exist, answered no slower than a known one."""

from __future__ import annotations

import secrets
import statistics
import time

from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment
from tests.verifier.test_api import issue

JSON = {"Accept": "application/json"}
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def _unknown_ids(count: int) -> list[str]:
    shaped = ["".join(secrets.choice(BASE32) for _ in range(26)) for _ in range(count)]
    return [*shaped, "x", "Z" * 26, "a" * 65, "0" * 64, "-_~"]


def test_every_unknown_id_gets_the_same_404(client: TestClient) -> None:
    answers = [client.get(f"/v/{document_id}", headers=JSON) for document_id in _unknown_ids(40)]

    assert {a.status_code for a in answers} == {404}
    assert len({a.content for a in answers}) == 1
    assert answers[0].json()["status"] == "unknown"
    assert {a.headers["cache-control"] for a in answers} == {"no-store"}
    assert not any("etag" in a.headers for a in answers)


def test_unknown_ids_are_answered_as_fast_as_known_ones(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    record, _ = issue(client, dept)
    known, unknown = [], []
    for document_id in _unknown_ids(60)[:60]:
        # Both read the registry: a known id's answer kept in memory (PostgreSQL) would be
        # served with no read at all, and an unknown id's is never kept.
        backend.context.lookups.evict(record["id"])
        started = time.perf_counter()
        assert client.get(f"/v/{record['id']}", headers=JSON).status_code == 200
        known.append(time.perf_counter() - started)
        started = time.perf_counter()
        assert client.get(f"/v/{document_id}", headers=JSON).status_code == 404
        unknown.append(time.perf_counter() - started)

    # Interleaved, so a busy moment of the machine falls on both; a 404 costs a lookup
    # that finds nothing, never a search or a retry.
    assert statistics.median(unknown) <= 1.5 * statistics.median(known) + 0.002
