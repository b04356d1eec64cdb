"""The append-only audit log: who issued, revoked, administered and looked at what.

Entries are canonical JSON, appended in the transaction of the change they record
(:func:`record`), and hashed into a Merkle tree in the manner of Certificate
Transparency (RFC 9162) whose signed, timestamped checkpoints let anyone prove that no
entry was edited, removed or reordered afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.log import record
else:

    def __getattr__(name: str) -> Any:
        # Imported on first use: ``sanad --help`` loads ``audit.cli`` and should not pay for SQLAlchemy.
        if name == "record":
            from audit.log import record

            globals()["record"] = record
            return record
        raise AttributeError(f"module 'audit' has no attribute {name!r}")


__all__ = ["record"]
