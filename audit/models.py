"""The log's tables: entries (append-only), the head that hands out their indices, and
the signed checkpoints of the tree."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sanad.db import Base, UTCDateTime


class AuditEntry(Base):
    """One recorded change. ``entry`` is the canonical form the leaf hash is taken of;
    the other columns repeat parts of it for looking entries up."""

    __tablename__ = "audit_entries"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(160), index=True)
    """What the change is about, ``<kind>:<id>`` (``document:…``, ``consent:…``)."""
    actor: Mapped[str] = mapped_column(String(160))
    """Who made it, ``<kind>:<id>`` (``department:REV``, ``staff:officer``, ``citizen``)."""
    entry: Mapped[str] = mapped_column(Text)
    """Canonical JSON (sorted keys, no spaces, UTF-8); it carries its own index."""
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    """SHA-256(0x00 || entry), RFC 9162 section 2.1.1."""


class AuditHead(Base):
    """The one row that counts the entries. Appending updates it at the end of the
    transaction, which is what makes concurrent appends take turns."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)


class AuditCheckpoint(Base):
    """A signed statement of the tree: its size and root hash at a moment, with an RFC 3161
    timestamp over the signature."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime())
    signed: Mapped[str] = mapped_column(Text)
    """Compact JWS (ES256) over the checkpoint's canonical body."""
    timestamp_token: Mapped[bytes] = mapped_column(LargeBinary)
    """DER RFC 3161 token (a CMS ``ContentInfo``) over SHA-256 of the JWS."""
