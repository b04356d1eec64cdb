"""Checking the whole log: every entry against its leaf hash and its place, the tree
against every signed checkpoint, and each checkpoint against the next.

What each finding means:

- ``edited``: the entry's text is not canonical, no longer hashes to its stored leaf
  hash, or its columns say something else than its text;
- ``deleted``: an index with no entry (a gap, or fewer entries than the head counts);
- ``reordered``: an entry whose text names another index than its place;
- ``added``: an entry beyond what the head counts;
- ``rewritten``: the entries up to a checkpoint no longer hash to its signed root (an
  entry edited together with its leaf hash lands here, between the last checkpoint
  that still holds and the first that does not);
- ``checkpoint``: a signature, timestamp or consistency that does not hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from audit import repository
from audit.checkpoints import CheckpointBody, CheckpointInvalid, Notary, check
from audit.entries import NotCanonical, format_time, parse
from audit.merkle import Tree, leaf_hash, verify_consistency
from audit.models import AuditEntry


@dataclass(frozen=True)
class Finding:
    kind: str
    index: int | None
    """The entry's index (or the checkpoint's tree size for ``rewritten``/``checkpoint``)."""
    message: str


@dataclass
class Report:
    entries: int = 0
    head: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


def _entry_findings(row: AuditEntry) -> tuple[list[Finding], bytes]:
    """What is wrong with one row, and the leaf hash of what its text says now."""
    text = row.entry.encode("utf-8")
    now = leaf_hash(text)
    index = row.leaf_index
    try:
        stated = parse(text)
    except NotCanonical as e:
        return [Finding("edited", index, f"entry {index} was edited: {e}")], now
    if stated.index != index:
        return [Finding("reordered", index, f"entry {index} holds entry {stated.index}: entries were reordered")], now
    if bytes(row.leaf_hash) != now:
        return [Finding("edited", index, f"entry {index} was edited: its text no longer matches its leaf hash")], now
    columns = {
        "action": (row.action, stated.action),
        "subject": (row.subject, stated.subject),
        "actor": (row.actor, stated.actor),
        "recorded_at": (format_time(row.recorded_at), format_time(stated.at)),
    }
    changed = [name for name, (column, said) in columns.items() if column != said]
    if changed:
        return [Finding("edited", index, f"entry {index} was edited: {', '.join(changed)} differ from its text")], now
    return [], now


def _deleted(first: int, last: int) -> Finding:
    which = f"entry {first}" if first == last else f"entries {first}–{last}"
    return Finding("deleted", first, f"{which} {'was' if first == last else 'were'} deleted")


def verify_entries(rows: Iterable[AuditEntry], head: int, report: Report) -> list[bytes]:
    """Check every row; returns the leaf hashes of the entries present, in order."""
    leaves: list[bytes] = []
    expected = 0
    for row in rows:
        if row.leaf_index > expected:
            report.findings.append(_deleted(expected, row.leaf_index - 1))
        if row.leaf_index >= head:
            report.findings.append(
                Finding("added", row.leaf_index, f"entry {row.leaf_index} is beyond the {head} the head counts")
            )
        findings, leaf = _entry_findings(row)
        report.findings += findings
        leaves.append(leaf)
        expected = row.leaf_index + 1
        report.entries += 1
    if expected < head:
        report.findings.append(_deleted(expected, head - 1))
    return leaves


def verify_checkpoints(session: Session, notary: Notary, tree: Tree, report: Report) -> None:
    """Each checkpoint's signature and timestamp, its root against the entries, and its
    consistency with the checkpoint before it (RFC 9162 section 2.1.4)."""
    previous: CheckpointBody | None = None
    for checkpoint in repository.checkpoints(session):
        size = checkpoint.tree_size
        report.checkpoints += 1
        try:
            body = check(checkpoint, notary)
        except CheckpointInvalid as e:
            report.findings.append(Finding("checkpoint", size, f"checkpoint of {size} entries: {e}"))
            continue
        if previous is not None and size < previous.tree_size:
            report.findings.append(
                Finding("checkpoint", size, f"checkpoint of {size} entries follows one of {previous.tree_size}")
            )
        elif size > tree.size:
            report.findings.append(
                Finding("checkpoint", size, f"checkpoint of {size} entries: the log holds only {tree.size}")
            )
        elif tree.root(size) != body.root_hash:
            since = 0 if previous is None else previous.tree_size
            report.findings.append(
                Finding(
                    "rewritten",
                    size,
                    f"entries {since}–{size - 1} no longer hash to the root signed at {format_time(body.time)} "
                    f"(checkpoint of {size} entries): one of them was rewritten",
                )
            )
        elif previous is not None and not verify_consistency(
            previous.tree_size,
            size,
            previous.root_hash,
            body.root_hash,
            tree.consistency_proof(previous.tree_size, size),
        ):
            report.findings.append(
                Finding(
                    "checkpoint", size, f"checkpoint of {size} entries does not extend the one of {previous.tree_size}"
                )
            )
        previous = body


def verify_log(session: Session, notary: Notary) -> Report:
    """Check everything; the findings name each entry or checkpoint that does not hold."""
    report = Report(head=repository.head_size(session))
    leaves = verify_entries(repository.walk(session), report.head, report)
    verify_checkpoints(session, notary, Tree(leaves), report)
    return report
