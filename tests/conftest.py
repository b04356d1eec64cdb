"""Fixtures: every API and storage test runs on both backends.

- ``embedded``: SQLite + filesystem store (the default deployment).
- ``postgres-minio``: the real PostgreSQL and MinIO that ``scripts/services.sh``
  starts; their addresses come from ``SANAD_TEST_*`` variables. When those are
  absent the backend is skipped, unless ``SANAD_REQUIRE_SERVICES=1`` (``make test``,
  CI), where their absence fails the run.

Tests never share mutable rows: each creates its own department and citizens.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from app.context import AppContext
from app.factory import create_app
from app.migrate import upgrade
from issuer.render import CertificateRenderer, IssuerInfo
from issuer.templates import TemplateSpec, load_templates
from sanad.db import make_engine
from sanad.departments import DepartmentNames, add_department, create_api_key
from sanad.i18n import LocalizedText
from sanad.models import Department
from sanad.settings import Environment, Settings, StorageBackend
from sanad.storage import FilesystemStore, MinioStore, ObjectStore
from trust.bootstrap import init_pki
from trust.ca import trust_anchors_pem
from trust.departments import ensure_department_key
from trust.local import free_port, serve_responder
from trust.revocation import CrlFetcher
from verifier.pdf import TrustAnchors

REPO = Path(__file__).resolve().parent.parent
# The test PKI is born at a pinned moment so certificate validity is reproducible.
PKI_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
BACKENDS = ["embedded", "postgres-minio"]


@dataclass
class Backend:
    name: str
    settings: Settings
    engine: Engine
    store: ObjectStore
    context: AppContext


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The test PKI, with its TSA and CRLs served over HTTP for the whole run (the
    deployment default signs at B-LTA, which needs both)."""
    path = tmp_path_factory.mktemp("pki")
    port = free_port()
    init_pki(path, now=PKI_EPOCH, base_url=f"http://127.0.0.1:{port}/pki")
    with serve_responder(path, port):
        yield path


@pytest.fixture(scope="session")
def templates() -> dict[str, TemplateSpec]:
    return load_templates(REPO / "templates")


@pytest.fixture(scope="session")
def renderer(templates: dict[str, TemplateSpec]) -> CertificateRenderer:
    return CertificateRenderer(templates)


@pytest.fixture(scope="session")
def trust(keys_dir: Path) -> TrustAnchors:
    return TrustAnchors.from_pem(trust_anchors_pem(keys_dir), CrlFetcher())


def _services_env() -> dict[str, str] | None:
    names = ["DATABASE_URL", "MINIO_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"]
    values = {n: os.environ.get(f"SANAD_TEST_{n}", "") for n in names}
    if all(values.values()):
        return values
    if os.environ.get("SANAD_REQUIRE_SERVICES") == "1":
        pytest.fail("SANAD_TEST_* variables are not set: start PostgreSQL and MinIO with scripts/services.sh")
    return None


def _fresh_postgres_schema(url: str) -> tuple[str, str]:
    """A new, empty schema for this run, so concurrent runs on one database never collide.
    Returns its name and a URL whose connections use it."""
    schema = f"test_{secrets.token_hex(6)}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, scoped.render_as_string(hide_password=False)


def _drop_postgres_schema(url: str, schema: str) -> None:
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    keys_dir: Path,
    templates: dict[str, TemplateSpec],
    renderer: CertificateRenderer,
) -> Iterator[Backend]:
    store: ObjectStore
    schema = admin_url = None
    if request.param == "embedded":
        root = tmp_path_factory.mktemp("embedded")
        settings = Settings(
            _env_file=None,
            env=Environment.TEST,
            database_url=f"sqlite:///{root / 'sanad.db'}",
            storage_backend=StorageBackend.FILESYSTEM,
            storage_path=root / "objects",
            keys_dir=keys_dir,
            # Tests read a document's final bytes right after issuing it; the deferred
            # long-term revision has its own tests (tests/issuer/test_long_term_deferred.py).
            long_term_deferred=False,
        )
        engine = make_engine(settings.database_url)
        store = FilesystemStore(settings.storage_path)
    else:
        env = _services_env()
        if env is None:
            pytest.skip("PostgreSQL and MinIO are not running (scripts/services.sh start)")
        admin_url = env["DATABASE_URL"]
        schema, scoped_url = _fresh_postgres_schema(admin_url)
        settings = Settings(
            _env_file=None,
            env=Environment.TEST,
            database_url=scoped_url,
            storage_backend=StorageBackend.MINIO,
            minio_endpoint=env["MINIO_ENDPOINT"],
            minio_access_key=env["MINIO_ACCESS_KEY"],
            minio_secret_key=env["MINIO_SECRET_KEY"],
            minio_bucket=f"sanad-test-{secrets.token_hex(4)}",
            keys_dir=keys_dir,
            # Tests read a document's final bytes right after issuing it; the deferred
            # long-term revision has its own tests (tests/issuer/test_long_term_deferred.py).
            long_term_deferred=False,
        )
        engine = make_engine(settings.database_url)
        minio = MinioStore.connect(
            settings.minio_endpoint, settings.minio_access_key, settings.minio_secret_key, settings.minio_bucket
        )
        minio.ensure_bucket()
        store = minio
    upgrade(engine)
    context = AppContext.assemble(settings, engine, store, templates, renderer)
    yield Backend(request.param, settings, engine, store, context)
    if isinstance(store, MinioStore):
        for info in store.list():
            store.delete(info.key)
        store.client.remove_bucket(store.bucket)
    engine.dispose()
    context.read_engine.dispose()
    if admin_url is not None and schema is not None:
        _drop_postgres_schema(admin_url, schema)


@pytest.fixture
def session(backend: Backend) -> Iterator[Session]:
    with backend.context.sessions() as s:
        yield s


def client_address() -> tuple[str, int]:
    """A fresh client address, so per-address rate limits never couple tests."""
    octets = secrets.token_bytes(3)
    return (f"10.{octets[0]}.{octets[1]}.{octets[2]}", 50000)


@pytest.fixture
def client(backend: Backend) -> Iterator[TestClient]:
    with TestClient(create_app(context=backend.context), client=client_address()) as c:
        yield c


@dataclass
class IssuingDepartment:
    department: Department
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def unreachable_database(backend: Backend, tmp_path: Path) -> Engine:
    """An engine of the backend's kind of database whose every connection fails."""
    if backend.name == "embedded":
        blocker = tmp_path / "file"
        blocker.write_text("")
        return create_engine(f"sqlite:///{blocker}/sanad.db")  # cannot be opened
    return create_engine("postgresql+psycopg://sanad:sanad@127.0.0.1:1/sanad", connect_args={"connect_timeout": 1})


def create_department(backend: Backend, code: str | None = None) -> IssuingDepartment:
    """A new department with a signing key and an API key."""
    code = code or f"D{secrets.token_hex(3).upper()}"
    with backend.context.sessions() as s:
        department = add_department(
            s, code, DepartmentNames(en=f"Test Department {code}", pa="ਟੈਸਟ ਵਿਭਾਗ", hi="परीक्षण विभाग")
        )
        key = create_api_key(s, department)
        s.commit()
    ensure_department_key(backend.settings.keys_dir, code, department.name_en, now=PKI_EPOCH)
    return IssuingDepartment(department, key)


@pytest.fixture
def dept(backend: Backend) -> IssuingDepartment:
    return create_department(backend)


# The documented example request is the suite's reference data too.
EXAMPLE_DATA: dict[str, object] = json.loads(
    (REPO / "templates" / "income-certificate" / "example.json").read_text("utf-8")
)["data"]


def income_certificate(citizen_id: str | None = None, **data: object) -> dict[str, object]:
    """A valid issuing request body; keyword arguments override data fields."""
    return {
        "type": "income-certificate",
        "citizen_id": citizen_id or f"CIT-{secrets.token_hex(4)}",
        "data": {**EXAMPLE_DATA, **data},
    }


def require_tool(name: str) -> str:
    """The path of a command-line checker; in CI a missing one fails the test."""
    import shutil

    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") or os.environ.get("SANAD_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{name} is not installed (scripts/setup.sh test installs it)")
        pytest.skip(f"{name} is not installed")
    return path


def render_income_certificate(
    renderer: CertificateRenderer,
    templates: dict[str, TemplateSpec],
    *,
    document_id: str,
    issued_at: datetime,
    issuer: IssuerInfo | None = None,
) -> bytes:
    """An unsigned income certificate for signature tests, valid for a year from 2026-03-01."""
    from datetime import date

    return renderer.render(
        templates["income-certificate"],
        document_id=document_id,
        verify_url=f"http://127.0.0.1:8000/v/{document_id}",
        data=income_certificate()["data"],  # type: ignore[arg-type]
        issuer=issuer
        or IssuerInfo(code="REV", name=LocalizedText(en="Department of Revenue", pa="ਮਾਲ ਵਿਭਾਗ", hi="राजस्व विभाग")),
        issued_at=issued_at,
        valid_until=date(2027, 3, 1),
    )
