"""Alembic environment: migrations run against the URL handed in by ``app.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

import accounts.models  # noqa: F401
import audit.models  # noqa: F401
import digilocker.models  # noqa: F401
import intake.appeals_models
import intake.models  # noqa: F401
import issuer.batches_models
import issuer.models  # noqa: F401  (registers the tables on Base.metadata)
import locker.models  # noqa: F401
import sanad.models  # noqa: F401
from sanad.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
