"""Settings refuse development defaults in production."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sanad.settings import Environment, NotifyChannel, Settings, StorageBackend


def test_development_defaults_are_accepted() -> None:
    settings = Settings(_env_file=None)

    assert settings.env == Environment.DEVELOPMENT
    assert settings.database_url.startswith("sqlite")


def test_production_refuses_default_secrets_and_sqlite() -> None:
    with pytest.raises(ValidationError) as error:
        Settings(_env_file=None, env=Environment.PRODUCTION, storage_backend=StorageBackend.MINIO)

    message = str(error.value)
    assert "SANAD_SECRET_KEY" in message
    assert "SANAD_MINIO_SECRET_KEY" in message
    assert "PostgreSQL" in message
    assert "SANAD_NOTIFY_CHANNEL=log" in message


def test_production_with_real_secrets_starts() -> None:
    settings = Settings(
        _env_file=None,
        env=Environment.PRODUCTION,
        secret_key="k" * 40,
        database_url="postgresql+psycopg://sanad:pw@db/sanad",
        storage_backend=StorageBackend.MINIO,
        minio_secret_key="a-real-secret",
        notify_channel=NotifyChannel.WEBHOOK,
        notify_webhook_url="https://sms-gateway.internal/send",
        public_base_url="https://verify.punjab.gov.in/",
        tsa_url="https://tsa.punjab.gov.in/tsr",
        pki_responder=False,
    )

    assert settings.public_base_url == "https://verify.punjab.gov.in"
    assert settings.secure_cookies


def test_webhook_channel_needs_its_url() -> None:
    with pytest.raises(ValidationError, match="SANAD_NOTIFY_WEBHOOK_URL"):
        Settings(_env_file=None, notify_channel=NotifyChannel.WEBHOOK)


def test_production_refuses_the_development_tsa_and_pki_services() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(
            _env_file=None,
            env=Environment.PRODUCTION,
            secret_key="k" * 40,
            database_url="postgresql+psycopg://sanad:pw@db/sanad",
            notify_channel=NotifyChannel.WEBHOOK,
            notify_webhook_url="https://sms-gateway.internal/send",
        )
    assert "SANAD_TSA_URL" in str(refused.value)
    assert "SANAD_PKI_RESPONDER" in str(refused.value)
