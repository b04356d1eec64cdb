"""Each issuing stage alone, on one core, with the objects the server builds at start-up."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any, cast

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from app.context import AppContext
from bench.backends import Deployment, development_pki
from bench.machine import REPO
from bench.stats import Measurement, run_rounds
from issuer import service
from issuer.qr import qr_image
from issuer.render import CertificateRenderer, IssuerInfo
from issuer.schemas import DocumentCreate
from issuer.service import IssuingKit
from issuer.sign import (
    SIGNATURE_FIELD,
    DepartmentSigner,
    SignedDocument,
    SignerRegistry,
    certification_metadata,
)
from issuer.templates import TemplateSpec, validate_data
from sanad.departments import department_for_api_key
from sanad.ids import new_document_id
from sanad.models import Department
from sanad.storage import ObjectInfo
from trust.departments import department_key_path
from verifier.pdf import check_signature

EXAMPLE = REPO / "templates" / "income-certificate" / "example.json"
DOCUMENT_TYPE = "income-certificate"
DEPARTMENT = "REV"


def example_request() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(EXAMPLE.read_text("utf-8"))
    return body


@dataclass(frozen=True)
class Budget:
    """How long each stage is measured."""

    rounds: int
    seconds: float
    """Least duration of one round."""
    min_ops: int
    warmup: int

    def run(self, name: str, operation: Callable[[int], object], note: str = "") -> Measurement:
        print(f"bench: measuring {name} ...", flush=True)
        return run_rounds(
            name,
            operation,
            rounds=self.rounds,
            seconds=self.seconds,
            min_ops=self.min_ops,
            warmup=self.warmup,
            note=note,
        )


@contextmanager
def one_core() -> Iterator[int]:
    """Pin this thread to one core for the block (stages are measured single-core)."""
    allowed = os.sched_getaffinity(0)
    core = min(allowed)
    os.sched_setaffinity(0, {core})
    try:
        yield core
    finally:
        os.sched_setaffinity(0, allowed)


class _Stages:
    def __init__(self, deployment: Deployment, context: AppContext) -> None:
        self.deployment = deployment
        self.context = context
        self.kit = context.kit
        self.spec: TemplateSpec = self.kit.templates[DOCUMENT_TYPE]
        self.data = validate_data(self.spec, example_request()["data"])
        with context.sessions() as session:
            department = session.query(Department).filter_by(code=DEPARTMENT).one()
            session.expunge(department)
        self.department = department
        names = service.department_name(department)
        self.issuer_info = IssuerInfo(code=department.code, name=names)
        self.signer = self.kit.signers.get(DEPARTMENT)
        self.pdf = self.render(0)
        self.signed = self.signer.sign(self.pdf)

    def render(self, _: int) -> bytes:
        document_id = new_document_id()
        issued_at = datetime.now(UTC).replace(microsecond=0)
        return self.kit.renderer.render(
            self.spec,
            document_id=document_id,
            verify_url=self.kit.verify_url(document_id),
            data=self.data,
            issuer=self.issuer_info,
            issued_at=issued_at,
            valid_until=issued_at.date() + timedelta(days=self.spec.default_validity_days or 365),
        )

    def qr(self, _: int) -> str:
        return qr_image(self.kit.verify_url(new_document_id()))

    def sign(self, _: int) -> bytes:
        return self.signer.sign(self.pdf)

    def sign_b_b(self) -> Callable[[int], bytes]:
        """The same key at B-B: no timestamp, no revocation data (what stock pyHanko below does)."""
        plain = DepartmentSigner.load(Path(self.deployment.env["SANAD_KEYS_DIR"]), DEPARTMENT)
        return lambda _: plain.sign(self.pdf)

    def stock_signer(self) -> Callable[[int], bytes]:
        """pyHanko as its documentation shows it: ``SimpleSigner.load`` and ``sign_pdf``
        with the same metadata, letting pyHanko size the signature by a dry run."""
        keys = Path(self.deployment.env["SANAD_KEYS_DIR"])
        path = department_key_path(keys, DEPARTMENT)
        stock = signers.SimpleSigner.load(  # type: ignore[no-untyped-call]
            str(path.with_suffix(".key")),
            str(path.with_suffix(".pem")),
            ca_chain_files=(str(keys / "issuing-ca.pem"),),
        )
        metadata = certification_metadata()
        field_spec = fields.SigFieldSpec(sig_field_name=SIGNATURE_FIELD)

        def sign(_: int) -> bytes:
            writer = IncrementalPdfFileWriter(BytesIO(self.pdf), strict=False)
            output: BytesIO = signers.sign_pdf(writer, metadata, signer=stock, new_field_spec=field_spec)
            return output.getvalue()

        return sign

    def store_put(self, i: int) -> None:
        self.kit.store.put(f"bench/stage/{i:06d}.pdf", self.signed, service.PDF)

    def registry(self) -> Callable[[int], object]:
        """What a request costs in the database: the API-key lookup and everything
        ``issue_document`` does, with render, sign and store replaced by stand-ins."""
        kit = IssuingKit(
            templates=self.kit.templates,
            renderer=cast(CertificateRenderer, _FixedRenderer(self.pdf)),
            signers=cast(SignerRegistry, _UniqueSigner(self.signed, self.signer)),
            store=NullStore(),
            public_base_url=self.kit.public_base_url,
        )
        body = example_request()
        api_key = self.deployment.api_key

        def register(i: int) -> object:
            request = DocumentCreate.model_validate({**body, "citizen_id": f"BENCH-DB-{i:06d}"})
            with self.context.sessions() as session:
                department = department_for_api_key(session, api_key)
                assert department is not None
                return service.issue_document(session, kit, department, request)

        return register

    def issue_in_process(self) -> Callable[[int], object]:
        body = example_request()

        def issue(i: int) -> object:
            request = DocumentCreate.model_validate({**body, "citizen_id": f"BENCH-IP-{i:06d}"})
            with self.context.sessions() as session:
                department = department_for_api_key(session, self.deployment.api_key)
                assert department is not None
                return service.issue_document(session, self.kit, department, request)

        return issue

    def verify(self, _: int) -> object:
        return check_signature(self.signed, self.context.trust)


class _FixedRenderer:
    def __init__(self, pdf: bytes) -> None:
        self.pdf = pdf

    def render(self, spec: TemplateSpec, **_: object) -> bytes:
        return self.pdf


class _UniqueSigner:
    """Returns the signed PDF with a distinct trailer comment: the registry wants unique
    digests. The QR seal is still signed with the real key (a fraction of a millisecond)."""

    def __init__(self, signed: bytes, real: DepartmentSigner) -> None:
        self.signed = signed
        self.real = real
        self.key_id = real.key_id
        self.profile = real.profile
        self.count = 0

    def get(self, code: str) -> _UniqueSigner:
        return self

    def sign_raw(self, data: bytes) -> bytes:
        return self.real.sign_raw(data)

    def sign_document(self, pdf: bytes, **_: object) -> SignedDocument:
        """Every level's file at once: nothing is left for a long-term revision."""
        self.count += 1
        unique = self.signed + f"%{self.count}\n".encode()
        return SignedDocument(unique, len(unique), None, self.profile.level)


class NullStore:
    """An object store that keeps nothing: what is left is the database's work."""

    def put(self, key: str, data: bytes, content_type: str, *, sha256: str | None = None) -> None:
        return None

    def get(self, key: str) -> bytes:
        raise KeyError(key)

    def get_range(self, key: str, offset: int, length: int) -> bytes:
        raise KeyError(key)

    def delete(self, key: str) -> None:
        return None

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        return iter(())

    def ping(self) -> None:
        return None

    def download_url(self, key: str, filename: str, expires: timedelta) -> str | None:
        return None


def _check_verifies(stages: _Stages, name: str, signed: bytes) -> None:
    findings = check_signature(signed, stages.context.trust).findings
    if findings:
        raise RuntimeError(f"{name}: the signed PDF does not verify: {findings}")


def measure_stages(deployment: Deployment, budget: Budget) -> list[Measurement]:
    """Every stage on one core, in the order a document goes through them."""
    context = AppContext.build(deployment.settings())
    context.prepare_storage()
    try:
        with development_pki(deployment.env):
            stages = _Stages(deployment, context)
            stock = stages.stock_signer()
            _check_verifies(stages, "DepartmentSigner", stages.signed)
            _check_verifies(stages, "stock pyHanko", stock(0))
            size_kb = len(stages.signed) / 1024
            store_name = type(context.store).__name__
            with one_core():
                return [
                    budget.run("QR code (issuer.qr.qr_image)", stages.qr),
                    budget.run(
                        "render (CertificateRenderer.render, QR included)",
                        stages.render,
                        f"income certificate, PDF/A-3b, {len(stages.pdf) / 1024:.0f} KB",
                    ),
                    budget.run(
                        "sign (DepartmentSigner.sign)",
                        stages.sign,
                        f"PAdES {stages.signer.profile.level} certify, ECDSA P-256, local TSA",
                    ),
                    budget.run("sign at B-B (DepartmentSigner.sign)", stages.sign_b_b(), "no timestamp"),
                    budget.run("sign, stock pyHanko (SimpleSigner + sign_pdf)", stock, "B-B, no bytes_reserved"),
                    budget.run(f"store put ({store_name})", stages.store_put, f"{size_kb:.0f} KB signed PDF"),
                    budget.run(
                        "registry (API key + issue_document DB work)",
                        stages.registry(),
                        "render/sign/store stubbed out",
                    ),
                    budget.run(
                        "issue in-process (all of the above, no HTTP)",
                        stages.issue_in_process(),
                        "service.issue_document",
                    ),
                    budget.run("verify (verifier.pdf.check_signature)", stages.verify),
                ]
    finally:
        context.close()
