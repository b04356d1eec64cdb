"""The intake bench seeds its database again when a migration changes, which it can only
notice if it reads the migrations where they are."""

from __future__ import annotations

from bench.intake_seed import migration_files, schema_fingerprint


def test_the_fingerprint_covers_every_migration() -> None:
    names = [path.name for path in migration_files()]

    assert names[0].startswith("0001_")
    assert any(name.startswith("0024_") for name in names)
    assert len(schema_fingerprint()) == 16
