"""Every independent validator agrees: a certificate of every template, signed at every
PAdES level, judged by EU DSS (TOTAL_PASSED, PAdES-BASELINE-<level>, no warning), veraPDF
(PDF/A-3b and PDF/UA-1) and OpenSSL (the timestamp tokens with ``openssl ts -verify``, the embedded
OCSP responses with ``openssl ocsp``).

The judges run once each over all the files (one JVM, a few seconds per run). B-B and B-T
files embed no revocation data, so DSS may fetch it from the development PKI (served for
the whole test session); B-LT and B-LTA files are judged on what they embed alone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.dss import DocumentSecurityStore

from issuer import archive
from issuer.render import CertificateRenderer, IssuerInfo
from issuer.sign import DepartmentSigner, SignatureLevel, SigningProfile
from issuer.templates import TemplateSpec, validate_data
from sanad.i18n import LocalizedText
from tests.conftest import PKI_EPOCH
from tests.judges.judges import openssl, require_judges, run_judge
from trust.departments import ensure_department_key
from trust.keys import load_certificate
from trust.paths import tsa_url
from trust.revocation import CrlFetcher, OcspFetcher
from trust.tsa_client import HttpTimeStamper

TEMPLATES = (
    "birth-certificate",
    "caste-certificate",
    "income-certificate",
    "learner-licence",
    "residence-certificate",
    "trade-licence",
)
LEVELS = tuple(SignatureLevel)
# Judged as issued on an approved application: with its number and the office and officer named.
ISSUER = IssuerInfo(
    "JDG",
    LocalizedText(en="Department of Revenue", pa="ਮਾਲ ਵਿਭਾਗ", hi="राजस्व विभाग"),
    issued_by={
        "office": {"en": "Tehsil Office, Samrala", "pa": "ਤਹਿਸੀਲ ਦਫ਼ਤਰ, ਸਮਰਾਲਾ"},
        "officer": "Harpreet Kaur",
        "designation": {"en": "Tehsildar", "pa": "ਤਹਿਸੀਲਦਾਰ"},
    },
)


@dataclass(frozen=True)
class Judged:
    keys_dir: Path
    files: dict[tuple[str, str], Path]
    """Signed files by (template, level); unsigned ones by (template, "unsigned")."""
    dss: dict[str, dict[str, Any]]
    verapdf: dict[str, dict[str, Any]]


def _profile(keys_dir: Path, level: SignatureLevel) -> SigningProfile:
    if level == SignatureLevel.B_B:
        return SigningProfile(level)
    return SigningProfile(
        level,
        timestamper=HttpTimeStamper(tsa_url(keys_dir)),
        crls=CrlFetcher(),
        ocsp=OcspFetcher(),
        trust_roots=(load_certificate(keys_dir / "root-ca.pem"),),
        intermediates=(load_certificate(keys_dir / "issuing-ca.pem"),),
    )


def _as_stored(signer: DepartmentSigner, unsigned: bytes, level: SignatureLevel, name: str) -> bytes:
    """The file as the store holds it once issuing is done: signed at B-T in the request,
    then (long-term levels) the revision the job engine adds (``issuer.long_term_tasks``)."""
    signed = signer.sign_document(unsigned, defer_long_term=True)
    if not signed.long_term_pending:
        assert signed.level == level, f"{name} reached only {signed.level}"
        return signed.pdf
    raised = archive.raise_to_level(signed.pdf, signer.profile)
    assert raised.level == level, f"{name} reached only {raised.level}"
    return raised.pdf


def _as_a_chunk_stores_it(signer: DepartmentSigner, unsigned: bytes, level: SignatureLevel, name: str) -> bytes:
    """The file as a batch chunk stores it: signed at B-T with the chunk's other documents,
    then the chunk's long-term revisions added together (``complete_long_term``), the
    evidence gathered once for the newest timestamp; the chunk's first document."""
    chunk = [signer.sign_document(unsigned, defer_long_term=True) for _ in range(3)]
    first, *_ = signer.complete_long_term(chunk)
    assert (first.level, first.long_term_pending) == (level, False), f"{name} reached only {first.level}"
    return first.pdf


#: Long-term levels judged as a batch chunk stores them too, on this template.
CHUNK_TEMPLATE, CHUNK_LEVELS = "income-certificate", (SignatureLevel.B_LT, SignatureLevel.B_LTA)


@pytest.fixture(scope="module")
def judged(
    tmp_path_factory: pytest.TempPathFactory,
    keys_dir: Path,
    renderer: CertificateRenderer,
    templates: dict[str, TemplateSpec],
) -> Judged:
    require_judges()
    out = tmp_path_factory.mktemp("judged")
    ensure_department_key(keys_dir, ISSUER.code, ISSUER.name.en, now=PKI_EPOCH)
    signers = {level: DepartmentSigner.load(keys_dir, ISSUER.code, _profile(keys_dir, level)) for level in LEVELS}
    files: dict[tuple[str, str], Path] = {}
    for name in TEMPLATES:
        spec = templates[name]
        example = json.loads((spec.directory / "example.json").read_text("utf-8"))
        unsigned = renderer.render(
            spec,
            document_id="jd7q3xz5m2v9n4c8b6w1r0t5y3",
            number="PB-JDG-INC-C-2026-000123",
            verify_url="http://127.0.0.1:8000/v/jd7q3xz5m2v9n4c8b6w1r0t5y3",
            data=validate_data(spec, example["data"]),
            issuer=ISSUER,
            issued_at=datetime.now(UTC),
            valid_until=None,
        )
        files[name, "unsigned"] = out / f"{name}-unsigned.pdf"
        files[name, "unsigned"].write_bytes(unsigned)
        for level, signer in signers.items():
            files[name, level] = out / f"{name}-{level}.pdf"
            files[name, level].write_bytes(_as_stored(signer, unsigned, level, name))
            if name == CHUNK_TEMPLATE and level in CHUNK_LEVELS:
                files[name, f"chunk {level}"] = out / f"{name}-chunk-{level}.pdf"
                files[name, f"chunk {level}"].write_bytes(_as_a_chunk_stores_it(signer, unsigned, level, name))

    def paths_at(*levels: SignatureLevel) -> list[str]:
        return [str(files[name, level]) for name in TEMPLATES for level in levels]

    dss = run_judge(
        "dss",
        [
            *("--root", str(keys_dir / "root-ca.pem")),
            *("--online", *paths_at(SignatureLevel.B_B, SignatureLevel.B_T)),
            *("--offline", *paths_at(SignatureLevel.B_LT, SignatureLevel.B_LTA)),
            *(str(files[CHUNK_TEMPLATE, f"chunk {level}"]) for level in CHUNK_LEVELS),
        ],
    )
    verapdf = run_judge("verapdf", ["--flavour", "3b", "--flavour", "ua1", *(str(path) for path in files.values())])
    return Judged(keys_dir, files, dss, verapdf)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("template", TEMPLATES)
def test_eu_dss_passes_the_signature_at_its_level(judged: Judged, template: str, level: SignatureLevel) -> None:
    _assert_dss_passed_at(judged.dss[str(judged.files[template, level])], level)


@pytest.mark.parametrize("level", CHUNK_LEVELS)
def test_eu_dss_and_verapdf_pass_a_batch_chunk_s_file_at_its_level(judged: Judged, level: SignatureLevel) -> None:
    path = judged.files[CHUNK_TEMPLATE, f"chunk {level}"]

    _assert_dss_passed_at(judged.dss[str(path)], level)
    for flavour in ("3b", "ua1"):
        verdict = judged.verapdf[f"{path}|{flavour}"]
        assert "error" not in verdict, verdict
        assert verdict["compliant"] is True, verdict


def _assert_dss_passed_at(verdict: dict[str, Any], level: SignatureLevel) -> None:
    assert "error" not in verdict, verdict
    (signature,) = verdict["signatures"]
    assert signature["indication"] == "TOTAL_PASSED", signature
    assert signature["format"] == f"PAdES-BASELINE-{level.removeprefix('B-')}"
    assert signature["errors"] == []
    assert signature["warnings"] == []  # e.g. no "Elements overlap on page(s)"
    timestamps = signature["timestamps"]
    assert len(timestamps) == {"B-B": 0, "B-T": 1, "B-LT": 1, "B-LTA": 2}[level]
    assert all(t["indication"] == "PASSED" for t in timestamps), timestamps


@pytest.mark.parametrize("flavour", ["3b", "ua1"])
@pytest.mark.parametrize("state", ["unsigned", *LEVELS])
@pytest.mark.parametrize("template", TEMPLATES)
def test_verapdf_finds_pdf_a_3b_and_pdf_ua_1(judged: Judged, template: str, state: str, flavour: str) -> None:
    verdict = judged.verapdf[f"{judged.files[template, state]}|{flavour}"]

    assert "error" not in verdict, verdict
    assert verdict["failed"] == []
    assert verdict["compliant"] is True


@pytest.mark.parametrize("level", [SignatureLevel.B_T, SignatureLevel.B_LT, SignatureLevel.B_LTA])
def test_openssl_verifies_every_timestamp_token(judged: Judged, level: SignatureLevel, tmp_path: Path) -> None:
    pdf = judged.files["income-certificate", level].read_bytes()
    reader = PdfFileReader(BytesIO(pdf), strict=False)
    (signature,) = reader.embedded_regular_signatures
    tokens = [
        (token.dump(), hashlib.sha256(signature.signer_info["signature"].native).hexdigest())
        for attribute in signature.signer_info["unsigned_attrs"]
        if attribute["type"].native == "signature_time_stamp_token"
        for token in attribute["values"]
    ]
    for stamp in reader.embedded_timestamp_signatures:
        start, first, second, length = (int(n) for n in stamp.sig_object["/ByteRange"])
        covered = pdf[start : start + first] + pdf[second : second + length]
        tokens.append((stamp.pkcs7_content, hashlib.sha256(covered).hexdigest()))

    assert len(tokens) == (2 if level == SignatureLevel.B_LTA else 1)
    for index, (token, digest) in enumerate(tokens):
        path = tmp_path / f"token{index}.der"
        path.write_bytes(token)
        output = openssl(
            *("ts", "-verify", "-token_in", "-in", path, "-digest", digest),
            *("-CAfile", judged.keys_dir / "root-ca.pem", "-untrusted", judged.keys_dir / "issuing-ca.pem"),
        )
        assert "Verification: OK" in output


@pytest.mark.parametrize("level", [SignatureLevel.B_LT, SignatureLevel.B_LTA])
def test_openssl_verifies_every_embedded_ocsp_response(judged: Judged, level: SignatureLevel, tmp_path: Path) -> None:
    reader = PdfFileReader(BytesIO(judged.files["income-certificate", level].read_bytes()), strict=False)
    responses = [ref.get_object().data for ref in DocumentSecurityStore.read_dss(reader).ocsps]

    # The signer, the issuing CA and the TSA: each answered by its issuer.
    assert len(responses) == 3
    for index, response in enumerate(responses):
        path = tmp_path / f"response{index}.der"
        path.write_bytes(response)
        output = openssl(
            *("ocsp", "-respin", path, "-resp_text"),
            *("-CAfile", judged.keys_dir / "root-ca.pem", "-verify_other", judged.keys_dir / "issuing-ca.pem"),
        )
        assert "Response verify OK" in output
        assert "Cert Status: good" in output
