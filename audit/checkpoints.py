"""Checkpoints: the tree's size and root hash at a moment, signed and timestamped.

A checkpoint's body is canonical JSON, signed as a compact JWS (ES256, ``typ``
``audit-checkpoint+jwt``) by the deployment's notary, whose RFC 3161 timestamp covers
SHA-256 of the whole JWS::

    {"origin": "<public base URL>/audit", "root_hash": "<hex>", "time": "<UTC>", "tree_size": 41}

Signing and timestamping need the PKI, which sits above this package: the notary is
handed in (``app.audit_notary`` builds it from Sanad's ``audit`` service key and the TSA).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from audit import repository
from audit.entries import canonical_json, format_time, parse_time
from audit.merkle import Tree
from audit.models import AuditCheckpoint

TYP = "audit-checkpoint+jwt"


class CheckpointInvalid(ValueError):
    """A checkpoint's signature or timestamp does not hold."""


class TimestampUnavailable(RuntimeError):
    """The TSA gave no timestamp (an outage): no checkpoint is made; try again later."""


class Notary(Protocol):
    """Signs checkpoints and has them timestamped; checks both."""

    def sign(self, payload: bytes) -> str:
        """A compact JWS (``typ`` :data:`TYP`) over ``payload``."""

    def timestamp(self, data: bytes) -> bytes:
        """A DER RFC 3161 token over SHA-256 of ``data``; :class:`TimestampUnavailable`
        when the TSA cannot give one."""

    def signed_payload(self, signed: str) -> bytes:
        """The payload of a JWS this notary's key signed; :class:`CheckpointInvalid` otherwise."""

    def timestamp_time(self, token: bytes, data: bytes) -> datetime:
        """When a valid token of a trusted TSA says ``data`` existed;
        :class:`CheckpointInvalid` unless the token is valid and covers ``data``."""


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    tree_size: int
    root_hash: bytes
    time: datetime

    def payload(self) -> bytes:
        return canonical_json(
            {
                "origin": self.origin,
                "tree_size": self.tree_size,
                "root_hash": self.root_hash.hex(),
                "time": format_time(self.time),
            }
        )


def origin_of(public_base_url: str) -> str:
    """The name a deployment's checkpoints give their log."""
    return f"{public_base_url.rstrip('/')}/audit"


def make_checkpoint(session: Session, notary: Notary, *, origin: str, now: datetime | None = None) -> AuditCheckpoint:
    """Sign the tree of every entry committed so far and store the checkpoint (flushed;
    the caller commits). The root is taken of the stored leaf hashes, which
    ``sanad audit verify`` checks against the entries' text."""
    size = repository.head_size(session)
    leaves = repository.leaf_hashes(session, size)
    if len(leaves) != size:
        raise RuntimeError(
            f"the log's head counts {size} entries but {len(leaves)} are stored: run 'sanad audit verify'"
        )
    body = CheckpointBody(origin, size, Tree(leaves).root(), (now or datetime.now(UTC)).replace(microsecond=0))
    signed = notary.sign(body.payload())
    checkpoint = AuditCheckpoint(
        tree_size=body.tree_size,
        root_hash=body.root_hash,
        made_at=body.time,
        signed=signed,
        timestamp_token=notary.timestamp(signed.encode("ascii")),
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def checkpoint_if_grown(session: Session, notary: Notary, *, origin: str) -> AuditCheckpoint | None:
    """A new checkpoint if entries were appended since the latest one (the periodic job)."""
    latest = repository.latest_checkpoint(session)
    if latest is not None and latest.tree_size == repository.head_size(session):
        return None
    return make_checkpoint(session, notary, origin=origin)


def body_of(checkpoint: AuditCheckpoint) -> CheckpointBody:
    """What the row says; the signature must say the same."""
    return CheckpointBody("", checkpoint.tree_size, bytes(checkpoint.root_hash), checkpoint.made_at)


def check(checkpoint: AuditCheckpoint, notary: Notary) -> CheckpointBody:
    """The body the checkpoint's signature states, after checking that signature, that
    the row's columns say the same, and that its timestamp covers it."""
    payload = notary.signed_payload(checkpoint.signed)
    try:
        stated = json.loads(payload)
        body = CheckpointBody(
            origin=stated["origin"],
            tree_size=stated["tree_size"],
            root_hash=bytes.fromhex(stated["root_hash"]),
            time=parse_time(stated["time"]),
        )
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointInvalid(f"the signed body is not a checkpoint: {e}") from e
    if body.payload() != payload:
        raise CheckpointInvalid("the signed body is not in canonical form")
    row = body_of(checkpoint)
    if (row.tree_size, row.root_hash, row.time) != (body.tree_size, body.root_hash, body.time):
        raise CheckpointInvalid("the stored size, root or time differ from what was signed")
    notary.timestamp_time(bytes(checkpoint.timestamp_token), checkpoint.signed.encode("ascii"))
    return body
