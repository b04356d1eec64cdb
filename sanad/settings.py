"""Configuration from the environment (``SANAD_*``), validated once at start-up."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 (refused in production)
DEV_MINIO_SECRET = "minioadmin"  # noqa: S105 (refused in production)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class StorageBackend(StrEnum):
    FILESYSTEM = "filesystem"
    MINIO = "minio"


class NotifyChannel(StrEnum):
    LOG = "log"
    WEBHOOK = "webhook"


class Settings(BaseSettings):
    """Every knob of a Sanad deployment. Defaults give the embedded development setup."""

    model_config = SettingsConfigDict(env_prefix="SANAD_", env_file=".env", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    secret_key: str = DEV_SECRET_KEY
    """Reserved for signed tokens and sessions; must be set outside development."""

    database_url: str = "sqlite:///var/sanad.db"
    storage_backend: StorageBackend = StorageBackend.FILESYSTEM
    storage_path: Path = Path("var/objects")
    """Root of the filesystem object store (embedded default)."""

    minio_endpoint: str = "127.0.0.1:9000"
    minio_access_key: str = "minioadmin"
    minio_secret_key: str = DEV_MINIO_SECRET
    minio_bucket: str = "sanad"
    minio_secure: bool = False
    minio_public_endpoint: str | None = None
    """Host[:port] citizens' browsers reach MinIO at, for presigned download links
    (defaults to ``minio_endpoint``). ``minio_secure`` applies to both."""

    keys_dir: Path = Path("keys/dev")
    """Where the PKI lives: trust anchors and one signing key per department."""

    templates_dir: Path = Path(__file__).resolve().parent.parent / "templates"
    catalogue_dir: Path = Path(__file__).resolve().parent.parent / "catalogue"
    """Service catalogue (one YAML per service), ``offices/`` and ``holidays/<year>.yaml``."""
    office_closing_time: str = Field(default="17:00", pattern=r"^\d{2}:\d{2}$")
    """India time after which an application counts from the next working day."""
    public_base_url: str = "http://127.0.0.1:8000"
    """Base of the verification URL printed in every QR code; no trailing slash."""

    trusted_proxies: str = "127.0.0.1"
    """Comma-separated addresses of reverse proxies whose X-Forwarded-For is believed.
    Sign-in limits and the access log use the client address; behind an untrusted proxy
    every citizen would share the proxy's."""

    max_upload_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    """Largest PDF the public verifier accepts."""

    locker_upload_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    """Largest file a citizen may upload to their locker."""
    locker_session_hours: int = Field(default=12, gt=0, le=24 * 30)
    """How long a locker sign-in (cookie or bearer token) lasts."""
    notify_channel: NotifyChannel = NotifyChannel.LOG
    """Where one-time passwords and notices go: ``log`` writes them to the log and the
    ``dev_messages`` table (development); ``webhook`` POSTs them to an SMS gateway."""
    notify_webhook_url: str | None = None
    """The SMS gateway adapter: receives ``{"to", "message", "purpose"}`` as JSON."""
    notify_webhook_token: str | None = None
    """Sent as ``Authorization: Bearer <token>`` to the webhook."""
    whatsapp_webhook_url: str | None = None
    """A WhatsApp Business gateway adapter (same JSON as the SMS webhook); unset: no WhatsApp
    notices (in development they go to the log channel too)."""
    smtp_host: str | None = None
    """Mail server for e-mail notices to applicants who gave an address; unset: no e-mail
    (in development they go to the log channel)."""
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "Sanad <no-reply@sanad.punjab.gov.in>"

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> Self:
        if self.notify_channel == NotifyChannel.WEBHOOK and not self.notify_webhook_url:
            raise ValueError("SANAD_NOTIFY_CHANNEL=webhook needs SANAD_NOTIFY_WEBHOOK_URL")
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets_outside_development(self) -> Self:
        self.public_base_url = self.public_base_url.rstrip("/")
        if self.env != Environment.PRODUCTION:
            return self
        problems = []
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            problems.append("SANAD_SECRET_KEY must be set to a random value of 32+ characters")
        if self.storage_backend == StorageBackend.MINIO and self.minio_secret_key == DEV_MINIO_SECRET:
            problems.append("SANAD_MINIO_SECRET_KEY must not be the default")
        if self.notify_channel == NotifyChannel.LOG:
            problems.append("SANAD_NOTIFY_CHANNEL=log would write one-time passwords to the log; use webhook")
        if self.database_url.startswith("sqlite"):
            problems.append("SANAD_DATABASE_URL must point at PostgreSQL in production")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self
