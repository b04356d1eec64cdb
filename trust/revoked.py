"""What each CA has revoked (``revocations.json``): the records its CRLs and OCSP answers
are built from."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from trust.ca import CA_NAMES, ISSUING_CA
from trust.paths import revocations_path


def load_revocations(keys_dir: Path) -> dict[str, list[dict[str, Any]]]:
    path = revocations_path(keys_dir)
    if not path.exists():
        return {ca: [] for ca in CA_NAMES}
    data: dict[str, list[dict[str, Any]]] = json.loads(path.read_text("utf-8"))
    for ca in CA_NAMES:
        data.setdefault(ca, [])
    return data


def revoke_certificate(
    keys_dir: Path, certificate: x509.Certificate, *, revoked_at: datetime, reason: str | None = None
) -> None:
    """Record that the issuing CA revoked ``certificate`` at ``revoked_at`` (its CRL shows
    it from the next fetch). Revoking twice keeps the first record."""
    data = load_revocations(keys_dir)
    serial = format(certificate.serial_number, "x")
    if any(entry["serial"] == serial for entry in data[ISSUING_CA]):
        return
    data[ISSUING_CA].append({"serial": serial, "revoked_at": revoked_at.isoformat(), "reason": reason})
    path = revocations_path(keys_dir)
    path.with_suffix(".tmp").write_text(json.dumps(data, indent=2))
    os.replace(path.with_suffix(".tmp"), path)


def revoked_serials(keys_dir: Path) -> Iterator[tuple[int, datetime]]:
    """The serials the issuing CA revoked, with when."""
    for entry in load_revocations(keys_dir)[ISSUING_CA]:
        yield int(entry["serial"], 16), datetime.fromisoformat(entry["revoked_at"])
