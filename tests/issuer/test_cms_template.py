"""The per-key CMS template (issuer/cms_template.py): its containers are byte for byte
what pyHanko builds, it stands aside when it cannot promise that, and a document signed
through it keeps its metadata and passes the verifier."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import cms, keys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from issuer.cms_template import TemplateSigner, timestamp_attributes
from issuer.render import CertificateRenderer
from issuer.sign import DepartmentSigner, to_asn1
from issuer.templates import TemplateSpec
from tests.conftest import PKI_EPOCH, render_income_certificate
from trust.departments import current_generation, ensure_department_key
from trust.keys import load_certificate, load_pair
from trust.paths import tsa_url
from trust.tsa_client import HttpTimeStamper
from verifier.pdf import TrustAnchors, check_signature

DEPARTMENT = "TPL"


@pytest.fixture(scope="module")
def department_key(keys_dir: Path) -> Path:
    ensure_department_key(keys_dir, DEPARTMENT, "Department of Templates", now=PKI_EPOCH)
    generation = current_generation(keys_dir, DEPARTMENT)
    assert generation is not None
    return generation.directory


def _stock_signer(keys_dir: Path, key_directory: Path) -> signers.SimpleSigner:
    """pyHanko's own signer for the department's key: the reference."""
    pair = load_pair(key_directory / "signing")
    der = pair.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain = [to_asn1(load_certificate(keys_dir / "issuing-ca.pem"))]
    return signers.SimpleSigner(
        signing_key=keys.PrivateKeyInfo.load(der),
        signing_cert=to_asn1(pair.certificate),
        cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
        embed_roots=False,
    )


class _Replay(signers.Signer):
    """pyHanko's container assembly with a given signature value (ECDSA signatures differ
    every time, so the comparison needs the same value on both sides)."""

    def __init__(self, like: signers.Signer, signature: bytes) -> None:
        super().__init__(signing_cert=like.signing_cert, cert_registry=like.cert_registry, embed_roots=like.embed_roots)
        self.signature = signature

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        return self.signature


class _FixedToken(TimeStamper):
    """Hands out one real token from the development TSA, so both sides embed the same."""

    def __init__(self, token: cms.ContentInfo) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.token = token
        self.digests: list[bytes] = []

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        self.digests.append(message_digest)
        return self.token


def _parts(container: cms.ContentInfo) -> tuple[bytes, bytes]:
    """The signed attributes as signed (a DER SET) and the signature value."""
    signer_info = container["content"]["signer_infos"][0]
    attributes = signer_info["signed_attrs"].untag().dump()
    return attributes, signer_info["signature"].native


def _verifies(container: cms.ContentInfo) -> bool:
    attributes, signature = _parts(container)
    certificates = [c.chosen for c in container["content"]["certificates"]]
    signer = next(c for c in certificates if c.subject.native.get("common_name", "").startswith("Department of"))
    public_key = serialization.load_der_public_key(signer.public_key.dump())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    public_key.verify(signature, attributes, ec.ECDSA(hashes.SHA256()))
    return True


def test_the_container_is_pyhankos_byte_for_byte(keys_dir: Path, department_key: Path) -> None:
    stock = _stock_signer(keys_dir, department_key)
    template = TemplateSigner(stock)
    for _ in range(5):
        digest = os.urandom(32)
        ours = asyncio.run(template.async_sign(digest, "sha256", use_pades=True))
        _, signature = _parts(ours)
        reference = asyncio.run(_Replay(stock, signature).async_sign(digest, "sha256", use_pades=True))

        assert ours.dump() == reference.dump()
        assert ours["content"]["signer_infos"][0]["signed_attrs"][1]["values"][0].native == digest
        assert _verifies(ours)
    assert template._template is not None  # the template signed, not the fallback


def test_the_timestamped_container_is_pyhankos_byte_for_byte(keys_dir: Path, department_key: Path) -> None:
    token = asyncio.run(HttpTimeStamper(tsa_url(keys_dir)).async_timestamp(hashlib.sha256(b"x").digest(), "sha256"))
    stock = _stock_signer(keys_dir, department_key)
    ours_stamper, reference_stamper = _FixedToken(token), _FixedToken(token)
    digest = os.urandom(32)

    ours = asyncio.run(TemplateSigner(stock).async_sign(digest, "sha256", use_pades=True, timestamper=ours_stamper))
    _, signature = _parts(ours)
    reference = asyncio.run(
        _Replay(stock, signature).async_sign(digest, "sha256", use_pades=True, timestamper=reference_stamper)
    )

    assert ours.dump() == reference.dump()
    # The token is over the signature value, as RFC 3161 appendix A has it.
    assert ours_stamper.digests == reference_stamper.digests == [hashlib.sha256(signature).digest()]
    unsigned = ours["content"]["signer_infos"][0]["unsigned_attrs"]
    assert unsigned.dump()[1:] == timestamp_attributes(token)[1:]


def test_the_signed_attributes_are_in_der_order_for_any_digest(keys_dir: Path, department_key: Path) -> None:
    template = TemplateSigner(_stock_signer(keys_dir, department_key))
    for digest in (bytes(32), b"\xff" * 32, *(os.urandom(32) for _ in range(20))):
        attributes, _ = _parts(asyncio.run(template.async_sign(digest, "sha256", use_pades=True)))
        assert cms.CMSAttributes.load(attributes).dump(force=True) == attributes


class _DropsTheCa(TemplateSigner):
    """A template with a mistake: the issuing CA's certificate left out."""

    def _embedded_certificates(self) -> set[bytes]:
        assert self.signing_cert is not None
        return {self.signing_cert.dump()}


def test_a_template_that_differs_from_pyhanko_is_never_used(keys_dir: Path, department_key: Path) -> None:
    signer = _DropsTheCa(_stock_signer(keys_dir, department_key))

    container = asyncio.run(signer.async_sign(os.urandom(32), "sha256", use_pades=True))

    assert signer._template is None
    assert len(container["content"]["certificates"]) == 2  # pyHanko's own: signer and issuing CA
    assert _verifies(container)


def test_requests_outside_the_template_go_to_pyhanko(keys_dir: Path, department_key: Path) -> None:
    template = TemplateSigner(_stock_signer(keys_dir, department_key))

    # Not PAdES: pyHanko adds an algorithm-protection attribute, which the template has not.
    container = asyncio.run(template.async_sign(os.urandom(32), "sha256", use_pades=False))
    types = [a["type"].native for a in container["content"]["signer_infos"][0]["signed_attrs"]]
    assert "cms_algorithm_protection" in types

    # Another digest algorithm.
    container = asyncio.run(template.async_sign(os.urandom(48), "sha384", use_pades=True))
    assert container["content"]["signer_infos"][0]["digest_algorithm"]["algorithm"].native == "sha384"


def _metadata(pdf: bytes) -> tuple[bytes, object]:
    reader = PdfFileReader(BytesIO(pdf))
    xmp = reader.root["/Metadata"].get_object()
    assert isinstance(xmp, generic.StreamObject)
    return xmp.data, reader.trailer["/Info"].get_object().get("/ModDate")


def test_a_signed_document_keeps_its_metadata_and_verifies(
    keys_dir: Path,
    department_key: Path,
    trust: TrustAnchors,
    renderer: CertificateRenderer,
    templates: dict[str, TemplateSpec],
) -> None:
    unsigned = render_income_certificate(
        renderer, templates, document_id="tp7q3xz5m2v9n4c8b6w1r0t5y3", issued_at=datetime.now(UTC)
    )
    signed = DepartmentSigner.load(keys_dir, DEPARTMENT).sign(unsigned)

    assert check_signature(signed, trust).findings == []
    # The signature revision leaves the XMP packet and /ModDate as rendered: they agree,
    # as PDF/A wants, and the signing time is in the signature dictionary.
    assert _metadata(signed) == _metadata(unsigned)
