"""The ``sanad`` command: set up, administer, issue and verify from a shell."""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from sanad.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(help="Sanad: issue, store and verify signed government certificates.", no_args_is_help=True)
keys_app = typer.Typer(help="The signing PKI.", no_args_is_help=True)
department_app = typer.Typer(help="Issuing departments.", no_args_is_help=True)
apikey_app = typer.Typer(help="Department API keys.", no_args_is_help=True)
requester_app = typer.Typer(
    help="Requesters: third parties that ask citizens for documents (OAuth).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
app.add_typer(department_app, name="department")
app.add_typer(apikey_app, name="apikey")
app.add_typer(requester_app, name="requester")
staff_app = typer.Typer(
    help="Staff accounts: operators, officers, approvers, admins, head office.", no_args_is_help=True
)
intake_app = typer.Typer(help="Applications: the background work of the legal clock.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")
app.add_typer(intake_app, name="intake")
trust_app = typer.Typer(help="The trust bundle offline verification uses.", no_args_is_help=True)
app.add_typer(trust_app, name="trust")

DEMO_DEPARTMENT = ("REV", "Department of Revenue, Punjab", "ਮਾਲ ਵਿਭਾਗ, ਪੰਜਾਬ", "राजस्व विभाग, पंजाब")
# The other departments the shipped catalogue names: created by the demo so every
# catalogue service can take applications.
DEMO_OTHER_DEPARTMENTS = (
    ("LG", "Department of Local Government, Punjab", "ਸਥਾਨਕ ਸਰਕਾਰਾਂ ਵਿਭਾਗ, ਪੰਜਾਬ", "स्थानीय शासन विभाग, पंजाब"),
    ("TPT", "Department of Transport, Punjab", "ਟਰਾਂਸਪੋਰਟ ਵਿਭਾਗ, ਪੰਜਾਬ", "परिवहन विभाग, पंजाब"),
)
# Demo desk accounts: (username, full name, role, department, office).
DEMO_STAFF = (
    ("officer", "Harpreet Kaur, Tehsildar Samrala", "officer", "REV", "TEH-SMR"),
    ("operator", "Ravi Kumar, Sewa Kendra Samrala", "operator", "REV", None),
    ("headoffice", "Head Office, Department of Governance Reforms", "head_office", None, None),
)


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as e:
        typer.echo(f"configuration error: {e}", err=True)
        raise typer.Exit(2) from e


def _pki_base_url(settings: Settings) -> str:
    return f"{settings.public_base_url}/pki"


def _local_pki(settings: Settings) -> AbstractContextManager[None]:
    """Serve the development PKI (TSA, CRLs) from this process while a command signs or
    verifies, unless a server already answers at its address."""
    from trust import base_url
    from trust.local import responder_running

    if not settings.pki_responder or settings.tsa_url is not None:
        return nullcontext()
    return responder_running(settings.keys_dir, base_url(settings.keys_dir))


def _ensure_keys(settings: Settings) -> None:
    from sanad.db import make_engine, make_session_factory, session_scope
    from sanad.departments import list_departments
    from trust import ensure_department_key, ensure_service_key, init_pki

    if init_pki(settings.keys_dir, base_url=_pki_base_url(settings)):
        typer.echo(f"created the development PKI in {settings.keys_dir}")
    # The status-list key is made here, once, not by the first of several workers to need it.
    ensure_service_key(settings.keys_dir, "status")
    engine = make_engine(settings.database_url)
    with session_scope(make_session_factory(engine)) as session:
        for department in list_departments(session):
            if ensure_department_key(settings.keys_dir, department.code, department.name_en):
                typer.echo(f"issued a signing certificate for {department.code}")
    engine.dispose()


@app.command()
def init() -> None:
    """Create or upgrade the database, the object store and the development PKI."""
    from app.migrate import upgrade
    from sanad.db import make_engine
    from sanad.storage import MinioStore, make_store

    settings = _settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    store = make_store(settings)
    if isinstance(store, MinioStore):
        store.ensure_bucket()
    store.ping()
    _ensure_keys(settings)
    typer.echo(f"ready: database {settings.database_url.split('@')[-1]}, storage {settings.storage_backend}")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes; signing is CPU-bound, so one per core.")] = 1,
) -> None:
    """Serve the API and the verification pages."""
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "app.factory:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )


@keys_app.command("init")
def keys_init() -> None:
    """Create the development root and issuing CAs, and a signing key per department (if absent)."""
    _ensure_keys(_settings())


@keys_app.command("enroll-pkcs11")
def keys_enroll_pkcs11(
    code: Annotated[str, typer.Argument(help="Department code, e.g. REV")],
    token: Annotated[str, typer.Option("--token", help="Label of the PKCS#11 token to generate the key in")],
    module: Annotated[
        str | None, typer.Option("--module", help="PKCS#11 module (default: SANAD_PKCS11_MODULE, else SoftHSM2's)")
    ] = None,
) -> None:
    """Generate a department's new signing key inside a PKCS#11 token and make it active.

    The user PIN comes from SANAD_PKCS11_PIN; the key never leaves the token."""
    from issuer.pkcs11 import default_module_path, enroll
    from sanad.db import make_engine, make_session_factory, session_scope
    from sanad.departments import get_department
    from sanad.errors import SanadError
    from trust import init_pki

    settings = _settings()
    if not settings.pkcs11_pin:
        typer.echo("error: set SANAD_PKCS11_PIN to the token's user PIN", err=True)
        raise typer.Exit(2)
    module_path = module or settings.pkcs11_module or default_module_path()
    if module_path is None:
        typer.echo("error: no PKCS#11 module: pass --module or set SANAD_PKCS11_MODULE (or install softhsm2)", err=True)
        raise typer.Exit(2)
    code = code.upper()
    try:
        with session_scope(make_session_factory(make_engine(settings.database_url))) as session:
            name = get_department(session, code).name_en
        init_pki(settings.keys_dir, base_url=_pki_base_url(settings))
        generation = enroll(
            settings.keys_dir, code, name, module_path=module_path, pin=settings.pkcs11_pin, token_label=token
        )
    except SanadError as e:
        typer.echo(f"error: {e.message}", err=True)
        raise typer.Exit(1) from e
    typer.echo(generation.key_id)


@keys_app.command("import")
def keys_import(
    code: Annotated[str, typer.Argument(help="Department code, e.g. REV")],
    certificate: Annotated[
        Path, typer.Option("--certificate", help="PEM certificate from the issuing CA", exists=True)
    ],
    key: Annotated[Path, typer.Option("--key", help="PEM private key (EC) the certificate is for", exists=True)],
) -> None:
    """Make a key file and its certificate (e.g. from the state's CA) a department's active
    signing key. The certificate must be for that key, from the issuing CA in the keys
    directory, valid now, and allow non-repudiation."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from trust import CertificateRejected, import_department_key

    settings = _settings()
    try:
        parsed = x509.load_pem_x509_certificate(certificate.read_bytes())
        private_key = serialization.load_pem_private_key(key.read_bytes(), password=None)
        if not isinstance(private_key, ec.EllipticCurvePrivateKey):
            raise CertificateRejected("only EC keys are supported")
        generation = import_department_key(settings.keys_dir, code.upper(), parsed, private_key)
    except ValueError as e:  # unreadable PEM or a rejected certificate
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    typer.echo(f"{code.upper()} now signs with key {generation.key_id}")


@keys_app.command("import-pkcs11")
def keys_import_pkcs11(
    code: Annotated[str, typer.Argument(help="Department code, e.g. REV")],
    token: Annotated[str, typer.Option("--token", help="Label of the PKCS#11 token holding the key")],
    certificate: Annotated[
        Path, typer.Option("--certificate", help="PEM certificate for the token's key", exists=True)
    ],
    key_label: Annotated[str | None, typer.Option("--key-label", help="The key's label in the token")] = None,
    key_id: Annotated[str | None, typer.Option("--key-id", help="The key's CKA_ID in the token, hex")] = None,
    module: Annotated[
        str | None, typer.Option("--module", help="PKCS#11 module (default: SANAD_PKCS11_MODULE, else SoftHSM2's)")
    ] = None,
) -> None:
    """Make a key already in a token, with its certificate (e.g. from the state's CA), a
    department's active signing key. The PIN comes from SANAD_PKCS11_PIN."""
    from cryptography import x509

    from issuer.pkcs11 import default_module_path, register
    from sanad.errors import SanadError

    settings = _settings()
    module_path = module or settings.pkcs11_module or default_module_path()
    if not settings.pkcs11_pin or module_path is None:
        typer.echo("error: set SANAD_PKCS11_PIN and SANAD_PKCS11_MODULE (or pass --module)", err=True)
        raise typer.Exit(2)
    try:
        generation = register(
            settings.keys_dir,
            code.upper(),
            x509.load_pem_x509_certificate(certificate.read_bytes()),
            module_path=module_path,
            pin=settings.pkcs11_pin,
            token_label=token,
            key_label=key_label,
            key_id=bytes.fromhex(key_id) if key_id else None,
        )
    except (SanadError, ValueError) as e:
        typer.echo(f"error: {getattr(e, 'message', e)}", err=True)
        raise typer.Exit(1) from e
    typer.echo(f"{code.upper()} now signs with key {generation.key_id}")


@department_app.command("add")
def department_add(
    code: Annotated[str, typer.Argument(help="Short code, e.g. REV")],
    name_en: Annotated[str, typer.Option("--name-en")],
    name_pa: Annotated[str, typer.Option("--name-pa")],
    name_hi: Annotated[str, typer.Option("--name-hi")],
) -> None:
    """Add an issuing department and give it a signing certificate."""
    from sanad.db import make_engine, make_session_factory, session_scope
    from sanad.departments import DepartmentNames, add_department
    from trust import ensure_department_key, init_pki

    settings = _settings()
    code = code.upper()
    with session_scope(make_session_factory(make_engine(settings.database_url))) as session:
        add_department(session, code, DepartmentNames(en=name_en, pa=name_pa, hi=name_hi))
    init_pki(settings.keys_dir, base_url=_pki_base_url(settings))
    ensure_department_key(settings.keys_dir, code, name_en)
    typer.echo(f"added department {code}")


@apikey_app.command("create")
def apikey_create(department: Annotated[str, typer.Option("--department", help="Department code")]) -> None:
    """Create an API key for a department. It is printed once and stored only as a hash."""
    from sanad.db import make_engine, make_session_factory, session_scope
    from sanad.departments import create_api_key, get_department

    settings = _settings()
    with session_scope(make_session_factory(make_engine(settings.database_url))) as session:
        key = create_api_key(session, get_department(session, department.upper()))
    typer.echo(key)


@requester_app.command("add")
def requester_add(
    name: Annotated[str, typer.Option("--name", help='Shown to citizens, e.g. "ABC Bank"')],
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", help="Where citizens return with a code (https); repeatable")
    ],
    types: Annotated[str, typer.Option("--types", help="Document types it may ask for, comma-separated")],
) -> None:
    """Register a requester (an OAuth client). Its client secret is printed once and stored only as a hash."""
    from datetime import UTC, datetime

    from issuer.templates import load_templates
    from locker.requesters import register_requester, scope_for
    from sanad.db import make_engine, make_session_factory, session_scope

    settings = _settings()
    known_types = load_templates(settings.templates_dir).keys()
    with session_scope(make_session_factory(make_engine(settings.database_url))) as session:
        new = register_requester(
            session,
            name=name,
            redirect_uris=redirect_uri,
            document_types=types.split(","),
            known_types=known_types,
            now=datetime.now(UTC),
        )
        client_id = new.requester.client_id
        scopes = " ".join(scope_for(t) for t in new.requester.document_types.split())
    typer.echo(
        f"Requester {name!r} registered. Give it these; the secret is not shown again:\n\n"
        f"    client_id:     {client_id}\n    client_secret: {new.client_secret}\n    scopes:        {scopes}\n\n"
        f"Authorization endpoint {settings.public_base_url}/oauth/authorize (PKCE S256 required),\n"
        f"token endpoint {settings.public_base_url}/oauth/token."
    )


@app.command("demo-seed")
def demo_seed() -> None:
    """Add the demo department (if absent) and print a fresh API key with an example call."""
    from sanad.db import make_engine, make_session_factory, session_scope
    from sanad.departments import DepartmentNames, add_department, create_api_key
    from sanad.models import Department
    from trust import ensure_department_key, init_pki

    settings = _settings()
    code, en, *_ = DEMO_DEPARTMENT
    with session_scope(make_session_factory(make_engine(settings.database_url))) as session:
        for dept_code, dept_en, dept_pa, dept_hi in (DEMO_DEPARTMENT, *DEMO_OTHER_DEPARTMENTS):
            if session.query(Department).filter_by(code=dept_code).one_or_none() is None:
                add_department(session, dept_code, DepartmentNames(en=dept_en, pa=dept_pa, hi=dept_hi))
        department = session.query(Department).filter_by(code=code).one()
        key = create_api_key(session, department)
        passwords = _seed_demo_staff(session)
    init_pki(settings.keys_dir, base_url=_pki_base_url(settings))
    for dept_code, dept_en, *_ in (DEMO_DEPARTMENT, *DEMO_OTHER_DEPARTMENTS):
        ensure_department_key(settings.keys_dir, dept_code, dept_en)
    example = Path(__file__).resolve().parent.parent / "templates" / "income-certificate" / "example.json"
    _seed_demo_locker(settings, code, json.loads(example.read_text("utf-8")))
    typer.echo(
        f"\nDemo department {code} ({en}). API key (shown once):\n\n    {key}\n\n"
        f"Issue a certificate:\n\n    curl -s -X POST {settings.public_base_url}/api/v1/documents \\\n"
        f"      -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n"
        f"      --data @{example}\n"
    )
    for username, password in passwords.items():
        typer.echo(f"Desk account {username!r} (sign in at {settings.public_base_url}/desk): password {password}")


DEMO_MOBILE = "9876543210"


def _seed_demo_staff(session: Session) -> dict[str, str]:
    """Create the demo desk accounts that do not exist yet; returns their new passwords."""
    import secrets

    from intake.models import StaffRole, StaffUser
    from intake.staff import add_staff
    from sanad.departments import get_department

    passwords = {}
    for username, full_name, role, department, office in DEMO_STAFF:
        if session.query(StaffUser).filter_by(username=username).one_or_none() is not None:
            continue
        password = secrets.token_urlsafe(12)
        add_staff(
            session,
            username=username,
            password=password,
            full_name=full_name,
            role=StaffRole(role),
            department_id=get_department(session, department).id if department else None,
            office_code=office,
            now=datetime.now(UTC),
        )
        passwords[username] = password
    return passwords


def _seed_demo_locker(settings: Settings, department_code: str, example: dict[str, object]) -> None:
    """Two certificates for the demo citizen, once (idempotency keys make reruns no-ops)."""
    from app.context import AppContext
    from issuer import service
    from issuer.schemas import DocumentCreate
    from sanad.departments import get_department

    context = AppContext.build(settings)
    try:
        with _local_pki(settings), context.sessions() as session:
            department = get_department(session, department_code)
            for n, purpose in enumerate(("Scholarship application", "Bank loan"), start=1):
                data = {**example["data"], "purpose": purpose}  # type: ignore[dict-item]
                request = DocumentCreate(
                    type="income-certificate", citizen_id="PB-CIT-0001", citizen_mobile=DEMO_MOBILE, data=data
                )
                service.issue_document(session, context.kit, department, request, idempotency_key=f"demo-locker-{n}")
    finally:
        context.close()
    typer.echo(
        f"\nDemo locker: {settings.public_base_url}/locker — sign in with {DEMO_MOBILE}; "
        "the one-time code is printed in the server log."
    )


@app.command()
def issue(
    type_: Annotated[str, typer.Option("--type", help="Template type, e.g. income-certificate")],
    citizen: Annotated[str, typer.Option("--citizen", help="The holder's identifier")],
    data: Annotated[Path, typer.Option("--data", help="JSON file with the template's fields", exists=True)],
    mobile: Annotated[str | None, typer.Option("--mobile", help="The holder's mobile number (their locker)")] = None,
    department: Annotated[str, typer.Option("--department", help="Issuing department code")] = DEMO_DEPARTMENT[0],
    out: Annotated[Path | None, typer.Option("--out", help="Also write the signed PDF here")] = None,
) -> None:
    """Issue a document from the shell (as the API would) and print its record."""
    from app.context import AppContext
    from issuer import service
    from issuer.schemas import DocumentCreate
    from sanad.departments import get_department
    from sanad.errors import SanadError

    settings = _settings()
    context = AppContext.build(settings)
    try:
        with _local_pki(settings), context.sessions() as session:
            dept = get_department(session, department.upper())
            request = DocumentCreate(
                type=type_, citizen_id=citizen, citizen_mobile=mobile, data=json.loads(data.read_text("utf-8"))
            )
            document, _ = service.issue_document(session, context.kit, dept, request)
            if out is not None:
                out.write_bytes(context.store.get(document.storage_key))
            typer.echo(service.to_read(document, dept, context.kit).model_dump_json(indent=2))
    except SanadError as e:
        typer.echo(f"error: {e.message}", err=True)
        raise typer.Exit(1) from e
    finally:
        context.close()


@app.command()
def verify(
    target: Annotated[str, typer.Argument(metavar="FILE_OR_QR", help="A PDF; with --offline also a QR code's text")],
    offline: Annotated[
        bool, typer.Option("--offline", help="Use only the trust bundle of 'sanad trust fetch': no server, no network")
    ] = False,
    trust_dir: Annotated[
        Path | None,
        typer.Option("--trust-dir", help="The trust bundle (default $SANAD_TRUST_CACHE or ~/.cache/sanad/trust)"),
    ] = None,
) -> None:
    """Verify a PDF against the trust anchors and the registry, or (--offline) a PDF or a
    QR code's text against the cached trust bundle. Exit 0 only for TOTAL_PASSED."""
    if offline:
        _verify_offline(target, trust_dir or _trust_cache_dir())
    file = Path(target)
    if not file.is_file():
        raise typer.BadParameter(f"{target} is not a file", param_hint="FILE_OR_QR")
    from app.context import AppContext
    from sanad.errors import SanadError
    from verifier.schemas import VerificationResult
    from verifier.service import verify_pdf

    settings = _settings()
    context = AppContext.build(settings)
    try:
        with _local_pki(settings), context.sessions() as session:
            result = VerificationResult.of(verify_pdf(session, context.trust, file.read_bytes()))
    except SanadError as e:
        typer.echo(f"error: {e.message}", err=True)
        raise typer.Exit(2) from e
    finally:
        context.close()
    typer.echo(result.model_dump_json(indent=2))
    raise typer.Exit(0 if result.indication == "TOTAL_PASSED" else 1)


def _trust_cache_dir() -> Path:
    import os

    configured = os.environ.get("SANAD_TRUST_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "sanad" / "trust"


def _verify_offline(target: str, trust_dir: Path) -> NoReturn:
    from verifier.offline import TrustBundle, TrustBundleError, verify_pdf_offline, verify_seal_offline

    try:
        bundle = TrustBundle.load(trust_dir)
    except TrustBundleError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(2) from e
    try:
        content: bytes | None = Path(target).read_bytes()
    except OSError:  # not a file: the QR code's text itself (a seal may be too long for a name)
        content = None
    extra = []
    if content is not None and content.lstrip()[:5] == b"%PDF-":
        verdict = verify_pdf_offline(content, bundle)
        until = bundle.crls_current_until()
        if until is None:
            extra.append("revocation lists: NONE in the trust bundle; run 'sanad trust fetch'")
        elif until > datetime.now(UTC):
            extra.append(f"revocation lists: current until {until.isoformat()}")
        else:
            extra.append(f"revocation lists: STALE since {until.isoformat()}; run 'sanad trust fetch'")
    else:
        text = content.decode("utf-8", "replace") if content is not None else target
        verdict = verify_seal_offline(text, bundle)
    typer.echo("\n".join([*verdict.report(), *extra]))
    raise typer.Exit(0 if verdict.indication == "TOTAL_PASSED" else 1)


@trust_app.command("fetch")
def trust_fetch(
    source: Annotated[
        str | None, typer.Option("--from", help="Base URL of the Sanad to trust (default $SANAD_PUBLIC_BASE_URL)")
    ] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to keep it (default $SANAD_TRUST_CACHE or ~/.cache/sanad/trust)")
    ] = None,
) -> None:
    """Download the trust anchors, trust list, JWKS and signed status list for
    'sanad verify --offline', after checking they hold together."""
    from verifier.offline import TrustBundleError, fetch_bundle
    from verifier.trust import iso

    base = source or _settings().public_base_url
    target = directory or _trust_cache_dir()
    try:
        bundle = fetch_bundle(base)
    except TrustBundleError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from e
    bundle.save(target)
    typer.echo(f"trust bundle from {base} saved in {target} at {iso(bundle.fetched_at)}")


@app.command()
def fsck(fix: Annotated[bool, typer.Option("--fix", help="Delete the unreferenced objects")] = False) -> None:
    """Report stored objects that no row references (left by interrupted issuances or uploads)."""
    from intake.applications import find_orphans as find_orphan_attachments
    from issuer.service import find_orphans
    from locker.uploads import find_orphans as find_orphan_uploads
    from sanad.db import make_engine, make_session_factory
    from sanad.storage import make_store

    settings = _settings()
    store = make_store(settings)
    with make_session_factory(make_engine(settings.database_url))() as session:
        orphans = (
            find_orphans(session, store) + find_orphan_uploads(session, store) + find_orphan_attachments(session, store)
        )
    for key in orphans:
        typer.echo(("removed " if fix else "orphan ") + key)
        if fix:
            store.delete(key)
    typer.echo(f"{len(orphans)} unreferenced object(s)" + (" removed" if fix and orphans else ""))
    if orphans and not fix:
        raise typer.Exit(1)


@staff_app.command("add")
def staff_add(
    username: Annotated[str, typer.Argument(help="Sign-in name")],
    full_name: Annotated[str, typer.Option("--name", help="Full name, as the timeline shows it")],
    role: Annotated[str, typer.Option(help="operator, officer, approver, department_admin or head_office")],
    department: Annotated[str | None, typer.Option(help="Department code (all roles but head_office)")] = None,
    office: Annotated[str | None, typer.Option(help="Office code; omit for every office of the department")] = None,
) -> None:
    """Add a staff member; the password is asked for twice and stored as an argon2id hash."""
    from intake.models import StaffRole
    from intake.staff import add_staff
    from sanad.db import make_engine, make_session_factory, session_scope
    from sanad.departments import get_department

    settings = _settings()
    try:
        staff_role = StaffRole(role)
    except ValueError as e:
        raise typer.BadParameter(f"role must be one of {', '.join(r.value for r in StaffRole)}") from e
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with session_scope(make_session_factory(make_engine(settings.database_url))) as session:
        department_id = get_department(session, department.upper()).id if department else None
        add_staff(
            session,
            username=username,
            password=password,
            full_name=full_name,
            role=staff_role,
            department_id=department_id,
            office_code=office,
            now=datetime.now(UTC),
        )
    typer.echo(f"added {staff_role.value} {username}")


@intake_app.command("work")
def intake_work(
    once: Annotated[bool, typer.Option("--once", help="One round, then exit (for cron)")] = False,
    interval: Annotated[int, typer.Option(help="Seconds between rounds")] = 30,
) -> None:
    """Escalate late applications, finish interrupted issuing, and deliver notices (with
    retries). Run one of these next to the server; several are safe on PostgreSQL."""
    import time as clock

    from app.context import AppContext
    from intake import applications, outbox

    context = AppContext.build(_settings())
    try:
        while True:
            now = datetime.now(UTC)
            with context.sessions() as session:
                escalated = applications.escalate_overdue(session, context.intake, now)
                issued = applications.resume_issuing(session, context.intake, now)
            sent, failed = outbox.dispatch(context.sessions, context.channels, now)
            if escalated or issued or sent or failed:
                typer.echo(f"escalated {escalated}, issued {issued}, notices sent {sent}, failed {failed}")
            if once:
                return
            clock.sleep(interval)
    finally:
        context.close()


archive_app = typer.Typer(help="Long-term archive: renew archival timestamps (PAdES B-LTA).", no_args_is_help=True)
app.add_typer(archive_app, name="archive")


@archive_app.command("refresh")
def archive_refresh(
    within_days: Annotated[
        int | None, typer.Option(help="Renew when the TSA certificate expires within this many days")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most documents per run")] = 1000,
    document: Annotated[list[str] | None, typer.Option("--document", help="Only this document (repeatable)")] = None,
) -> None:
    """Add a new archival timestamp to B-LTA documents whose newest one's TSA certificate
    expires soon. Run it daily (cron); each run does what is due and exits."""
    from datetime import timedelta

    from app.context import AppContext
    from issuer import service

    settings = _settings()
    context = AppContext.build(settings)
    try:
        with _local_pki(settings), context.sessions() as session:
            outcome = service.refresh_archives(
                session,
                context.kit,
                now=datetime.now(UTC),
                within=timedelta(days=within_days or settings.archive_refresh_days),
                limit=limit,
                document_ids=document,
            )
    finally:
        context.close()
    typer.echo(f"renewed {len(outcome.refreshed)} archival timestamps")
    for document_id, error in outcome.failed.items():
        typer.echo(f"failed {document_id}: {error}", err=True)
    raise typer.Exit(1 if outcome.failed else 0)


@keys_app.command("list")
def keys_list() -> None:
    """Every certificate of the PKI with its key id, validity and status."""
    from trust import all_departments, current_generation, department_generations, revoked_serials

    settings = _settings()
    revoked = dict(revoked_serials(settings.keys_dir))
    for code in all_departments(settings.keys_dir):
        active = current_generation(settings.keys_dir, code)
        for generation in department_generations(settings.keys_dir, code):
            certificate = generation.certificate
            status = "revoked" if certificate.serial_number in revoked else "active"
            if status == "active" and (active is None or active.key_id != generation.key_id):
                status = "retired"
            where = "pkcs11" if generation.pkcs11 else "file"
            typer.echo(
                f"{code:8} {generation.key_id}  {certificate.not_valid_before_utc:%Y-%m-%d} .. "
                f"{certificate.not_valid_after_utc:%Y-%m-%d}  {status:8} {where}"
            )


@keys_app.command("rotate")
def keys_rotate(code: Annotated[str, typer.Argument(help="Department code")]) -> None:
    """Give a department a new signing key and certificate. Documents signed with the old
    one stay valid; the trust list shows both. Restart the server (or it picks the new key
    up on its next start) so it signs with the new key."""
    from sanad.db import make_engine, make_session_factory, session_scope
    from sanad.departments import get_department
    from trust import rotate_department_key

    settings = _settings()
    with session_scope(make_session_factory(make_engine(settings.database_url))) as session:
        name = get_department(session, code.upper()).name_en
    generation = rotate_department_key(settings.keys_dir, code.upper(), name)
    typer.echo(f"{code.upper()} now signs with key {generation.key_id}")


@keys_app.command("revoke")
def keys_revoke(
    code: Annotated[str, typer.Argument(help="Department code")],
    key_id: Annotated[str | None, typer.Option("--key-id", help="Which key (default: the active one)")] = None,
    at: Annotated[
        datetime | None, typer.Option(help="When the key was compromised (default: now), ISO 8601 with a zone")
    ] = None,
    reason: Annotated[str, typer.Option(help="CRL reason, e.g. key_compromise, superseded")] = "key_compromise",
) -> None:
    """Revoke a department's signing certificate in the development CA's CRL. Signatures
    timestamped before ``--at`` stay valid; later ones fail."""
    from trust import current_generation, department_generations, revoke_certificate

    settings = _settings()
    code = code.upper()
    generations = department_generations(settings.keys_dir, code)
    chosen = current_generation(settings.keys_dir, code) if key_id is None else None
    chosen = chosen or next((g for g in generations if g.key_id == key_id), None)
    if chosen is None:
        typer.echo(f"error: department {code} has no key {key_id or ''}".rstrip(), err=True)
        raise typer.Exit(1)
    when = at or datetime.now(UTC)
    if when.tzinfo is None:
        typer.echo("error: --at needs a time zone, e.g. 2026-11-24T10:00:00+05:30", err=True)
        raise typer.Exit(2)
    revoke_certificate(settings.keys_dir, chosen.certificate, revoked_at=when, reason=reason)
    typer.echo(f"revoked {code} key {chosen.key_id} as of {when.isoformat()}")


@keys_app.command("rotate-tsa")
def keys_rotate_tsa() -> None:
    """Give the development TSA a new key and certificate (the old one stays trusted for
    the timestamps it made)."""
    from trust import key_id, rotate_tsa_key

    pair = rotate_tsa_key(_settings().keys_dir)
    typer.echo(f"the TSA now signs with key {key_id(pair.certificate)}")


def main() -> None:
    from sanad.errors import SanadError

    try:
        app()
    except SanadError as e:
        typer.echo(f"error: {e.message}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
