"""The log as JSON Lines for a third party, and the inclusion proof of one entry.

``sanad audit export`` writes, one JSON object a line:

1. ``{"type": "log", ...}``: the origin, how many entries the head counts, and how the
   hashes are made (RFC 9162 section 2.1);
2. ``{"type": "checkpoint", ...}`` for every checkpoint, oldest first: size, root, time,
   the JWS (its ``x5c`` is the signer's certificate, issued by Sanad's issuing CA), the
   RFC 3161 token (base64 DER) over SHA-256 of the JWS, and the consistency proof from
   the checkpoint before it;
3. ``{"type": "entry", ...}`` for every entry: its canonical text, its leaf hash and its
   inclusion proof in the latest checkpoint (none for entries appended since).

A reader recomputes each leaf hash from the text, checks each proof against the signed
roots, and checks the signatures against Sanad's trust anchors.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from audit import repository
from audit.checkpoints import Notary, check
from audit.entries import format_time
from audit.merkle import Tree, leaf_hash, verify_inclusion

HASHING = {
    "hash": "SHA-256",
    "leaf": "SHA-256(0x00 || entry)",
    "node": "SHA-256(0x01 || left || right)",
    "tree": "RFC 9162 section 2.1",
}


def _hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def export_lines(session: Session, *, origin: str) -> Iterator[dict[str, Any]]:
    """The objects of the export, in order."""
    head = repository.head_size(session)
    yield {"type": "log", "origin": origin, "entries": head, **HASHING}
    checkpoints = repository.checkpoints(session)
    latest = max((c.tree_size for c in checkpoints), default=0)
    tree = Tree(repository.leaf_hashes(session, max(head, latest)))
    previous = None
    for checkpoint in checkpoints:
        line: dict[str, Any] = {
            "type": "checkpoint",
            "tree_size": checkpoint.tree_size,
            "root_hash": bytes(checkpoint.root_hash).hex(),
            "time": format_time(checkpoint.made_at),
            "signed": checkpoint.signed,
            "timestamp_token": base64.b64encode(bytes(checkpoint.timestamp_token)).decode("ascii"),
        }
        if previous is not None and previous <= checkpoint.tree_size <= tree.size:
            line["consistency"] = {
                "from": previous,
                "path": _hexes(tree.consistency_proof(previous, checkpoint.tree_size)),
            }
        previous = checkpoint.tree_size
        yield line
    for row in repository.walk(session):
        line = {"type": "entry", "index": row.leaf_index, "entry": row.entry, "leaf_hash": bytes(row.leaf_hash).hex()}
        if row.leaf_index < latest <= tree.size:
            line["inclusion"] = {"tree_size": latest, "path": _hexes(tree.inclusion_proof(row.leaf_index, latest))}
        yield line


def export_jsonl(session: Session, *, origin: str) -> Iterator[str]:
    for line in export_lines(session, origin=origin):
        yield json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n"


class NoSuchEntry(LookupError):
    pass


class NotYetCheckpointed(LookupError):
    """The entry was appended after the latest checkpoint: no signed root covers it yet."""


@dataclass(frozen=True)
class Proof:
    index: int
    entry: str
    leaf_hash: bytes
    tree_size: int
    root_hash: bytes
    path: list[bytes]
    signed: str
    verified: bool
    """The leaf hash of the entry's text, with the path, gives the checkpoint's root, and
    the checkpoint's signature and timestamp hold."""
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "entry": self.entry,
            "leaf_hash": self.leaf_hash.hex(),
            "checkpoint": {"tree_size": self.tree_size, "root_hash": self.root_hash.hex(), "signed": self.signed},
            "inclusion": _hexes(self.path),
            "verified": self.verified,
            "problem": self.problem,
        }


def prove(session: Session, notary: Notary, index: int) -> Proof:
    """The inclusion proof of entry ``index`` in the latest checkpoint, verified."""
    from audit.checkpoints import CheckpointInvalid

    row = repository.entry(session, index)
    if row is None:
        raise NoSuchEntry(f"the log has no entry {index}")
    checkpoint = repository.latest_checkpoint(session)
    if checkpoint is None or checkpoint.tree_size <= index:
        raise NotYetCheckpointed(
            f"entry {index} is newer than the latest checkpoint; run 'sanad audit checkpoint' or wait for the next"
        )
    size = checkpoint.tree_size
    path = Tree(repository.leaf_hashes(session, size)).inclusion_proof(index, size)
    leaf = leaf_hash(row.entry.encode("utf-8"))
    root = bytes(checkpoint.root_hash)
    problem = None
    try:
        check(checkpoint, notary)
    except CheckpointInvalid as e:
        problem = f"the checkpoint does not hold: {e}"
    if problem is None and not verify_inclusion(index, size, leaf, path, root):
        problem = "the entry's text does not lead to the checkpoint's root: it or the log was changed"
    return Proof(index, row.entry, leaf, size, root, path, checkpoint.signed, problem is None, problem)
