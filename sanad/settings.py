"""Configuration from the environment (``SANAD_*``), validated once at start-up."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator
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

    minio_retention_days: int = Field(default=0, ge=0)
    """Issued documents are locked in compliance mode for this many days from their
    upload (object locking, chosen when ``sanad init`` makes the bucket): not even
    MinIO's root user can delete them before then. 0: no lock."""

    keys_dir: Path = Path("keys/dev")
    """Where the PKI lives: trust anchors and one signing key per department."""
    pkcs11_module: str | None = None
    """Path of the PKCS#11 module holding department keys kept in a token (default:
    SoftHSM2's, ``/usr/lib/softhsm/libsofthsm2.so``, when it is installed)."""
    pkcs11_pin: str | None = None
    """User PIN of the PKCS#11 token (secret); needed when a department's key is in a token."""
    signature_level: Literal["B-B", "B-T", "B-LT", "B-LTA"] = "B-LTA"
    """PAdES level of every new signature. B-T and up need a timestamp authority; B-LT
    and up embed CRLs for the signer's and the TSA's chains; B-LTA adds a document
    timestamp that ``sanad archive refresh`` renews."""
    long_term_deferred: bool = True
    """Long-term levels (B-LT, B-LTA): issue at B-T and add the long-term revision on the
    job engine seconds later, instead of waiting (up to a second) in the issuing request
    for revocation data newer than the signature's timestamp."""
    tsa_url: str | None = None
    """RFC 3161 timestamp authority. Unset: the development PKI's own TSA at
    ``<public_base_url>/pki/tsa`` (refused in production)."""
    pki_responder: bool = True
    """Serve the development PKI's TSA, CRLs and CA certificates under ``/pki``."""
    revocation_cache_seconds: int = Field(default=60, gt=0)
    """How long a fetched CRL is reused before it is fetched again."""
    status_list_ttl_hours: int = Field(default=24, gt=0, le=24 * 30)
    """Lifetime (``exp`` − ``iat``) of a signed status-list snapshot: an offline verifier
    holding one longer reports it stale and stops trusting it for validity."""
    archive_refresh_days: int = Field(default=90, gt=0)
    """``sanad archive refresh`` renews a document's archival timestamp once its TSA
    certificate expires within this many days."""

    templates_dir: Path = Path(__file__).resolve().parent.parent / "templates"
    catalogue_dir: Path = Path(__file__).resolve().parent.parent / "catalogue"
    """Service catalogue (one YAML per service), ``offices/`` and ``holidays/<year>.yaml``."""
    office_closing_time: str = Field(default="17:00", pattern=r"^\d{2}:\d{2}$")
    """India time after which an application counts from the next working day."""
    duplicate_window_days: int = Field(default=30, ge=0)
    """At the counter, an application identical to one filed this many days back is
    filed only when the operator confirms it (0: no check)."""
    appeal_filing_days: int = Field(default=30, gt=0)
    """Days a citizen has to appeal after a rejection or the due date passing (RTS Act: 30)."""
    appeal_decision_working_days: int = Field(default=30, gt=0)
    """Working days an appellate authority has to decide an appeal."""
    public_base_url: str = "http://127.0.0.1:8000"
    """Base of the verification URL printed in every QR code; no trailing slash."""

    trusted_proxies: str = "127.0.0.1"
    """Comma-separated addresses or networks (``10.0.0.0/8``) of reverse proxies whose
    X-Forwarded-For is believed; empty: none, ``*``: every peer. Sign-in limits and the
    access log use the client address; behind an untrusted proxy every citizen would share
    the proxy's, and a header from anyone else could name any address. The default is the
    proxy on the same host that ``sanad serve`` (uvicorn) trusts by default too."""

    max_upload_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    """Largest PDF the public verifier accepts, and the largest body of any request."""
    verify_uploads_per_window: int = Field(default=10, gt=0)
    """Files one client address may have checked (``POST /api/v1/verify`` and the
    ``/verify`` page) within ``verify_window_seconds``; more are refused with 429."""
    verify_window_seconds: int = Field(default=60, gt=0, le=3600)
    lookup_cache_entries: int = Field(default=5_000, ge=0)
    """Answers of the QR target (``/v/{id}``) each server process keeps on PostgreSQL,
    which announces every change to them (about 6.5 KB each with one page, so ~33 MB);
    0 keeps none (SQLite never does)."""
    verify_max_concurrent: int = Field(default=2, gt=0)
    """Files one server process checks at once: checking a crafted PDF can take seconds of
    CPU, so more at once are refused with 503 and Retry-After rather than queued (eight
    crafted files checked at once held ``/health`` up to 2 s; two at once, under 0.6 s)."""
    verify_cpu_seconds: int = Field(default=5, gt=0, le=300)
    """CPU one uploaded PDF's check may spend, in a sandboxed worker, before it is stopped
    and the file refused (400); four times as long on the clock answers 503."""
    max_json_bytes: int = Field(default=1024 * 1024, gt=0)
    """Largest JSON body: every JSON operation takes a small document."""
    max_form_bytes: int = Field(default=256 * 1024, gt=0)
    """Largest URL-encoded form body (page forms, the OAuth token endpoint)."""
    max_json_members: int = Field(default=1000, gt=0)
    """Most object members plus array items a JSON body may hold; validation (and its list
    of errors) grows with them, so one request must not carry a million."""
    max_json_depth: int = Field(default=16, gt=0)
    """Deepest nesting of objects and arrays a JSON body may have."""
    body_read_timeout_seconds: float = Field(default=30.0, gt=0)
    """Longest wait for the next piece of a request body before answering 408."""
    header_read_timeout_seconds: float = Field(default=10.0, gt=0)
    """Longest a request's line and headers may take to arrive, from the connection opening
    (or the previous response), before ``sanad serve`` answers 408 and closes it."""

    locker_upload_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    """Largest file a citizen may upload to their locker."""
    locker_session_hours: int = Field(default=12, gt=0, le=24 * 30)
    """How long a locker sign-in (cookie or bearer token) lasts."""
    locker_max_live_shares: int = Field(default=20, gt=0)
    """Most share links of one document that may be live (not expired, revoked or used)
    at once; a citizen revokes one to make another."""
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
    """Mail server for e-mail notices to applicants who gave an address (once they confirm
    it through the one-time link sent there); unset: no e-mail (in development they go to
    the log channel)."""
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_sender: str = "Sanad <no-reply@sanad.punjab.gov.in>"

    batch_max_rows: int = Field(default=1_000_000, gt=0)
    """Most rows one bulk-issuing batch may hold."""
    batch_max_line_bytes: int = Field(default=64 * 1024, gt=0)
    """Longest line of a batch file (CSV or JSON Lines); a longer one refuses the file."""
    batch_chunk_rows: int = Field(default=50, gt=0, le=10_000)
    """Rows per background job of a batch: the unit of bookkeeping and of sharing a batch
    between workers."""
    batch_stall_seconds: int = Field(default=300, gt=0)
    """An unfinished batch with no progress for this long is handed out again."""
    batch_processes: int | None = Field(default=None, gt=0)
    """Embedded deployment: processes that render and sign batch rows (default: one per core)."""
    department_types: str = ""
    """Which document types each department may issue in batches:
    ``REV=income-certificate,caste-certificate;TPT=learner-licence``. Empty: any type."""
    metrics_token: str | None = None
    """Bearer token a Prometheus scrape of ``/metrics`` must present. Unset: ``/metrics``
    is open in development and test, and not served at all in production."""
    in_process_worker: bool = False
    """Run the background work (batches, notices, escalations, archive refresh) inside the
    server process. ``sanad serve`` turns it on for the embedded (SQLite) deployment;
    with PostgreSQL, ``sanad worker`` processes do it."""

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        # A typo would otherwise fail every request that asks for the client's address.
        for name in value.split(","):
            if name.strip() not in ("", "*"):
                ipaddress.ip_network(name.strip(), strict=False)  # ValueError: the setting is refused
        return value

    @field_validator("tsa_url", "pkcs11_module", "pkcs11_pin", "metrics_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # compose passes unset variables as empty strings.
        return None if value == "" else value

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
        if self.storage_backend == StorageBackend.MINIO and self.minio_secret_key in (DEV_MINIO_SECRET, ""):
            problems.append("SANAD_MINIO_SECRET_KEY must be set, and not to the default")
        if self.notify_channel == NotifyChannel.LOG:
            problems.append("SANAD_NOTIFY_CHANNEL=log would write one-time passwords to the log; use webhook")
        if self.signature_level != "B-B" and self.tsa_url is None:
            problems.append(
                "SANAD_TSA_URL must name the timestamp authority (the development TSA is not for production)"
            )
        if self.pki_responder:
            problems.append("SANAD_PKI_RESPONDER must be false: the development PKI's services are not for production")
        if self.database_url.startswith("sqlite"):
            problems.append("SANAD_DATABASE_URL must point at PostgreSQL in production")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self
