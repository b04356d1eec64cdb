"""``verify_log`` (what ``sanad audit verify`` runs) on an intact log, and on logs whose
rows were edited, deleted or swapped directly in the database, behind the service's back."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from audit.checkpoints import TYP, CheckpointInvalid, check
from audit.entries import Entry, parse
from audit.models import AuditCheckpoint, AuditEntry
from audit.verification import Report, verify_log
from sanad.jws import sign_compact
from tests.audit.conftest import FreshLog
from trust.service_keys import ensure_service_key


def _verify(log: FreshLog) -> Report:
    with log.sessions() as s:
        return verify_log(s, log.notary)


def _kinds(report: Report) -> list[tuple[str, int | None]]:
    return [(f.kind, f.index) for f in report.findings]


def _seeded(log: FreshLog) -> FreshLog:
    """Ten entries with checkpoints at 4 and 10."""
    log.append(4)
    log.checkpoint()
    log.append(6)
    log.checkpoint()
    return log


def test_an_untouched_log_is_intact(fresh: FreshLog) -> None:
    _seeded(fresh)
    fresh.append(2)  # not yet in a checkpoint: still checked against their leaf hashes
    report = _verify(fresh)
    assert report.intact, report.findings
    assert (report.entries, report.head, report.checkpoints) == (12, 12, 2)


def test_an_empty_log_is_intact_and_can_be_checkpointed(fresh: FreshLog) -> None:
    fresh.checkpoint()
    report = _verify(fresh)
    assert report.intact
    assert report.checkpoints == 1


def test_an_edited_entry_is_named(fresh: FreshLog) -> None:
    _seeded(fresh)
    fresh.tamper(
        "UPDATE audit_entries SET entry = REPLACE(entry, :was, :now) WHERE leaf_index = 6", was='"n":2', now='"n":9'
    )
    report = _verify(fresh)
    assert ("edited", 6) in _kinds(report)
    assert "entry 6 was edited" in report.findings[0].message
    # and the checkpoint that covers it no longer holds
    assert ("rewritten", 10) in _kinds(report)


def test_an_entry_edited_with_its_leaf_hash_breaks_the_signed_root_of_its_range(fresh: FreshLog) -> None:
    _seeded(fresh)
    with fresh.sessions() as s:
        row = s.get(AuditEntry, 7)
        assert row is not None
        stated = parse(row.entry.encode("utf-8"))
    forged = Entry(stated.index, stated.at, stated.action, stated.subject, "staff:someone-else", stated.details)
    fresh.tamper(
        "UPDATE audit_entries SET entry = :entry, actor = :actor, leaf_hash = :leaf WHERE leaf_index = 7",
        entry=forged.canonical().decode("utf-8"),
        actor=forged.actor,
        leaf=forged.leaf_hash(),
    )
    report = _verify(fresh)
    assert _kinds(report) == [("rewritten", 10)]
    assert "entries 4–9 no longer hash to the root signed" in report.findings[0].message


def test_a_column_changed_without_the_text_is_named(fresh: FreshLog) -> None:
    _seeded(fresh)
    fresh.tamper("UPDATE audit_entries SET actor = 'staff:nobody', action = 'x' WHERE leaf_index = 2")
    report = _verify(fresh)
    assert _kinds(report) == [("edited", 2)]
    assert "action, actor differ from its text" in report.findings[0].message


def test_a_deleted_entry_is_named(fresh: FreshLog) -> None:
    _seeded(fresh)
    fresh.tamper("DELETE FROM audit_entries WHERE leaf_index = 5")
    report = _verify(fresh)
    assert ("deleted", 5) in _kinds(report)
    assert "entry 5 was deleted" in [f.message for f in report.findings]


def test_deleted_newest_entries_are_named_against_the_head(fresh: FreshLog) -> None:
    _seeded(fresh)
    fresh.append(3)
    fresh.tamper("DELETE FROM audit_entries WHERE leaf_index >= 11")
    report = _verify(fresh)
    assert _kinds(report) == [("deleted", 11)]
    assert report.findings[0].message == "entries 11–12 were deleted"


def test_swapped_entries_are_named(fresh: FreshLog) -> None:
    _seeded(fresh)
    fresh.tamper("UPDATE audit_entries SET leaf_index = -1 WHERE leaf_index = 3")
    fresh.tamper("UPDATE audit_entries SET leaf_index = 3 WHERE leaf_index = 4")
    fresh.tamper("UPDATE audit_entries SET leaf_index = 4 WHERE leaf_index = -1")
    report = _verify(fresh)
    assert ("reordered", 3) in _kinds(report)
    assert ("reordered", 4) in _kinds(report)
    assert "entry 3 holds entry 4: entries were reordered" in [f.message for f in report.findings]


def test_an_entry_added_behind_the_heads_back_is_named(fresh: FreshLog) -> None:
    _seeded(fresh)
    fresh.tamper(
        "INSERT INTO audit_entries (leaf_index, recorded_at, action, subject, actor, entry, leaf_hash) "
        "SELECT 10, recorded_at, action, subject, actor, entry, leaf_hash FROM audit_entries WHERE leaf_index = 9"
    )
    kinds = _kinds(_verify(fresh))
    assert ("added", 10) in kinds
    assert ("reordered", 10) in kinds


def test_a_checkpoint_whose_stored_root_was_changed_is_named(fresh: FreshLog) -> None:
    _seeded(fresh)
    fresh.tamper("UPDATE audit_checkpoints SET root_hash = :root WHERE tree_size = 4", root=b"\x00" * 32)
    report = _verify(fresh)
    assert _kinds(report) == [("checkpoint", 4)]
    assert "differ from what was signed" in report.findings[0].message


def test_a_signature_moved_to_another_checkpoint_is_refused(fresh: FreshLog) -> None:
    _seeded(fresh)
    with fresh.sessions() as s:
        first, second = s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars().all()
        signed, token = first.signed, bytes(first.timestamp_token)
    fresh.tamper("UPDATE audit_checkpoints SET timestamp_token = :token WHERE id = :id", token=token, id=second.id)
    report = _verify(fresh)
    assert _kinds(report) == [("checkpoint", 10)]
    assert "timestamp" in report.findings[0].message
    fresh.tamper("UPDATE audit_checkpoints SET signed = :signed WHERE id = :id", signed=signed, id=second.id)
    assert _kinds(_verify(fresh)) == [("checkpoint", 10)]


def _resigned(payload: bytes, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> str:
    header = {
        "alg": "ES256",
        "typ": TYP,
        "x5c": [base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")],
    }
    return sign_compact(header, payload, lambda data: key.sign(data, ec.ECDSA(hashes.SHA256())))


def test_a_checkpoint_signed_by_another_key_is_refused(fresh: FreshLog) -> None:
    _seeded(fresh)
    impostor = ensure_service_key(fresh.keys_dir, "impostor")  # certified by the same CA, for another job
    audit_certificate = ensure_service_key(fresh.keys_dir, "audit").certificate
    with fresh.sessions() as s:
        checkpoint = s.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars().first()
        assert checkpoint is not None
        payload = fresh.notary.signed_payload(checkpoint.signed)
        checkpoint.signed = _resigned(payload, impostor.certificate, impostor.private_key)
        with pytest.raises(CheckpointInvalid, match="not 'Sanad audit signer'"):
            check(checkpoint, fresh.notary)
        checkpoint.signed = _resigned(payload, audit_certificate, impostor.private_key)
        with pytest.raises(CheckpointInvalid, match="does not verify"):
            check(checkpoint, fresh.notary)
        s.rollback()


def test_the_database_refuses_to_change_or_remove_entries_and_checkpoints(fresh: FreshLog) -> None:
    _seeded(fresh)
    for statement in (
        "UPDATE audit_entries SET actor = 'staff:nobody' WHERE leaf_index = 1",
        "DELETE FROM audit_entries WHERE leaf_index = 9",
        "UPDATE audit_checkpoints SET tree_size = 3",
        "DELETE FROM audit_checkpoints",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            fresh.sql(statement)
    assert _verify(fresh).intact
