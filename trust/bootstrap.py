"""Create the development PKI once: where it is published, its CAs, then its TSA."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from trust.ca import create_cas
from trust.paths import record_base_url
from trust.tsa_keys import ensure_tsa_key


def init_pki(keys_dir: Path, *, now: datetime | None = None, base_url: str | None = None) -> bool:
    """Create the root and issuing CAs and the TSA unless they exist. True if created.

    ``base_url`` is where the PKI's services will be published (the development server's
    ``/pki``); it is written into every certificate issued from now on.
    """
    now = now or datetime.now(UTC)
    keys_dir.mkdir(parents=True, exist_ok=True)
    record_base_url(keys_dir, base_url)
    created = create_cas(keys_dir, now=now)
    ensure_tsa_key(keys_dir, now=now)
    return created
