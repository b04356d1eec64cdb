"""The signature's revision written without pyHanko's writer (issuer/signature_revision.py):
the same objects as pyHanko's revision for the same rendered file, a /ByteRange over the
whole file but the /Contents string, accepted by pdfsig and our verifier with the same
signed attributes, refused by both once a covered byte changes; a file of another shape
goes to pyHanko."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from issuer.render import CertificateRenderer
from issuer.sign import DepartmentSigner, SignatureLevel, SigningProfile, _ParsedKeySigner, to_asn1
from issuer.signature_revision import RevisionTemplate
from issuer.templates import TemplateSpec
from tests.conftest import PKI_EPOCH, render_income_certificate, require_tool
from trust.departments import ensure_department_key
from trust.paths import tsa_url
from trust.tsa_client import HttpTimeStamper
from verifier.pdf import TrustAnchors, check_signature

DEPARTMENT = "REV"
WRITERS = ("ours", "pyhanko")
# Signature values that differ between two signatures of the same file.
PER_SIGNATURE = frozenset({"/Contents", "/ByteRange", "/M"})


@dataclass(frozen=True)
class Signed:
    unsigned: bytes
    by_writer: dict[str, bytes]


@pytest.fixture(scope="module", params=[SignatureLevel.B_B, SignatureLevel.B_T], ids=str)
def signed(
    request: pytest.FixtureRequest,
    keys_dir: Path,
    renderer: CertificateRenderer,
    templates: dict[str, TemplateSpec],
) -> Signed:
    ensure_department_key(keys_dir, DEPARTMENT, "Department of Revisions", now=PKI_EPOCH)
    level = request.param
    profile = (
        SigningProfile(level, timestamper=HttpTimeStamper(tsa_url(keys_dir)))
        if level.timestamped
        else SigningProfile(level)
    )
    signer = DepartmentSigner.load(keys_dir, DEPARTMENT, profile)
    assert signer.writes_revision_itself  # else both files below would be pyHanko's
    unsigned = render_income_certificate(
        renderer, templates, document_id="rv7q3xz5m2v9n4c8b6w1r0t5y3", issued_at=datetime.now(UTC)
    )
    return Signed(
        unsigned,
        {
            "ours": signer.sign_document(unsigned).pdf,
            "pyhanko": signer.sign_document(unsigned, with_pyhanko=True).pdf,
        },
    )


def _plain(value: Any, reader: PdfFileReader, new: set[int]) -> Any:
    """A PDF value as Python data: references to the rendered file's objects stay numbers,
    the revision's new objects are written out where they are referred to (their numbers
    differ between the writers), the per-signature values are left out."""
    if isinstance(value, generic.IndirectObject):
        if value.idnum in new:
            return _plain(value.get_object(), reader, new)  # type: ignore[no-untyped-call]
        return ("ref", value.idnum)
    if isinstance(value, generic.DictionaryObject):
        return {str(k): _plain(v, reader, new) for k, v in value.items() if k not in PER_SIGNATURE}
    if isinstance(value, generic.ArrayObject):
        return [_plain(v, reader, new) for v in value]
    if isinstance(value, (generic.TextStringObject, generic.ByteStringObject)):
        return bytes(value.original_bytes)
    return value


def _revision(pdf: bytes, original_size: int) -> tuple[dict[str, Any], dict[str, Any], int]:
    """The catalog and first page as the signed revision has them, and how many objects it writes."""
    reader = PdfFileReader(BytesIO(pdf), strict=True)
    assert reader.xrefs.total_revisions == 2
    written = {ref.idnum for ref in reader.xrefs.explicit_refs_in_revision(1)}
    new = {number for number in written if number >= original_size}
    catalog = _plain(reader.trailer["/Root"], reader, new | {reader.root_ref.idnum})
    page = _plain(reader.root["/Pages"]["/Kids"][0].get_object(), reader, new)
    return catalog, page, len(written)


def _byte_range(pdf: bytes) -> list[int]:
    reader = PdfFileReader(BytesIO(pdf), strict=True)
    (signature,) = reader.embedded_regular_signatures
    return [int(n) for n in signature.sig_object["/ByteRange"]]


def _signed_attributes(pdf: bytes) -> dict[str, Any]:
    reader = PdfFileReader(BytesIO(pdf), strict=True)
    (signature,) = reader.embedded_regular_signatures
    return {a["type"].native: a["values"].dump() for a in signature.signer_info["signed_attrs"]}


def _covered(pdf: bytes) -> bytes:
    start, first, second, length = _byte_range(pdf)
    return pdf[start : start + first] + pdf[second : second + length]


def _pdfsig(pdf: bytes, tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    # pdfsig exits 0 whatever it finds: read what it says.
    done = subprocess.run([require_tool("pdfsig"), str(path)], capture_output=True, text=True, timeout=60)
    return done.stdout + done.stderr


def test_both_writers_write_the_same_objects(signed: Signed) -> None:
    original_size = int(PdfFileReader(BytesIO(signed.unsigned), strict=True).trailer["/Size"])
    ours = _revision(signed.by_writer["ours"], original_size)
    reference = _revision(signed.by_writer["pyhanko"], original_size)

    assert ours == reference
    catalog, page, written = ours
    assert written == 5  # the page, the catalog, the form, the widget, the signature
    assert catalog["/AcroForm"]["/SigFlags"] == 3
    assert catalog["/Perms"]["/DocMDP"]["/SubFilter"] == "/ETSI.CAdES.detached"
    assert page["/Annots"][-1]["/FT"] == "/Sig"


@pytest.mark.parametrize("writer", WRITERS)
def test_the_byte_range_covers_the_whole_file_but_the_contents_string(signed: Signed, writer: str) -> None:
    pdf = signed.by_writer[writer]
    start, first, second, length = _byte_range(pdf)

    assert pdf.startswith(signed.unsigned)
    assert (start, second + length) == (0, len(pdf))
    assert pdf[first : first + 1] == b"<"
    assert pdf[second - 1 : second] == b">"
    assert pdf[first - 20 : first].rstrip().endswith(b"/Contents")
    assert bytes.fromhex(pdf[first + 1 : second - 1].decode("ascii"))  # hex digits only


def test_both_writers_sign_the_same_attributes_each_over_its_own_ranges(signed: Signed) -> None:
    ours, reference = (_signed_attributes(signed.by_writer[w]) for w in WRITERS)

    digests = {w: hashlib.sha256(_covered(signed.by_writer[w])).digest() for w in WRITERS}
    assert ours.pop("message_digest") == b"\x31\x22\x04\x20" + digests["ours"]
    assert reference.pop("message_digest") == b"\x31\x22\x04\x20" + digests["pyhanko"]
    assert ours == reference


@pytest.mark.parametrize("writer", WRITERS)
def test_pdfsig_and_our_verifier_accept_either(
    signed: Signed, writer: str, trust: TrustAnchors, tmp_path: Path
) -> None:
    pdf = signed.by_writer[writer]

    report = _pdfsig(pdf, tmp_path, writer)
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    assert "Not total document signed" not in report
    assert check_signature(pdf, trust).findings == []


@pytest.mark.parametrize(
    "where",
    ["rendered content", "page dictionary", "signing time", "cross-reference table"],
)
def test_a_changed_covered_byte_fails_pdfsig_and_our_verifier(
    signed: Signed, where: str, trust: TrustAnchors, tmp_path: Path
) -> None:
    pdf = bytearray(signed.by_writer["ours"])
    size = len(signed.unsigned)
    at = {
        "rendered content": size // 2,
        "page dictionary": pdf.index(b"/MediaBox", size) + len(b"/MediaBox[0 0 "),
        "signing time": pdf.index(b"/M(D:", size) + len(b"/M(D:20"),
        "cross-reference table": pdf.rindex(b" 00000 n") - 1,
    }[where]
    _, first, second, _ = _byte_range(bytes(pdf))
    assert not first <= at < second  # inside the covered ranges
    pdf[at] = ord("7") if pdf[at] != ord("7") else ord("3")
    tampered = bytes(pdf)

    report = _pdfsig(tampered, tmp_path, "tampered")
    assert "Signature is Valid." not in report
    assert check_signature(tampered, trust).findings != []


def test_a_file_of_another_shape_is_left_to_pyhanko(signed: Signed) -> None:
    template = RevisionTemplate(b"(Signature)", b"", 64)
    now = datetime.now(UTC)

    assert template.prepare(signed.unsigned, now) is not None
    assert template.prepare(signed.by_writer["ours"], now) is None  # a second revision
    assert template.prepare(signed.unsigned.replace(b"%PDF-1.7", b"%PDF-2.0", 1), now) is None
    assert template.prepare(signed.unsigned.replace(b"/Type/Catalog", b"/Type/Catalog/Perms<<>>", 1), now) is None
    assert template.prepare(signed.unsigned[:-200], now) is None  # cut short


def test_a_container_larger_than_the_placeholder_is_refused(signed: Signed) -> None:
    prepared = RevisionTemplate(b"(Signature)", b"", 8).prepare(signed.unsigned, datetime.now(UTC))
    assert prepared is not None

    with pytest.raises(ValueError, match="reserved"):
        prepared.embed(bytes(5))


def _signer_on(curve: ec.EllipticCurve) -> _ParsedKeySigner:
    key = ec.generate_private_key(curve)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Curve test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return _ParsedKeySigner(key, to_asn1(certificate), [])


def test_only_keys_pyhanko_marks_with_the_iso_32002_extension_get_the_template() -> None:
    def template(curve: ec.EllipticCurve) -> RevisionTemplate | None:
        return RevisionTemplate.for_signer(
            _signer_on(curve), field_name="Signature", reason="r", location="l", contents_hex_digits=64
        )

    assert template(ec.SECP256R1()) is not None
    assert template(ec.SECP384R1()) is not None
    assert template(ec.SECP256K1()) is None  # pyHanko registers no ISO 32002 extension for it


def test_pyhanko_signs_a_file_of_another_shape(signed: Signed, keys_dir: Path, trust: TrustAnchors) -> None:
    other = signed.unsigned.replace(b"%PDF-1.7", b"%PDF-1.6", 1)  # same length: offsets hold
    signer = DepartmentSigner.load(keys_dir, DEPARTMENT)

    pdf = signer.sign(other)

    assert b"/ByteRange [" in pdf  # pyHanko's spelling: it wrote this revision
    assert check_signature(pdf, trust).findings == []
