"""Kept signature checks: the same file is checked once, yet a revocation of the
document or of a certificate shows at the next upload."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from tests.conftest import Backend, IssuingDepartment
from tests.pdf_tampering import alter_content
from tests.verifier.test_api import issue, upload
from trust.revocation import RevocationDataUnavailable
from verifier.cache import SignatureCheckCache
from verifier.pdf import TrustAnchors, check_signature
from verifier.verdict import SignatureCheck


class CountedChecks:
    """The real check, counted."""

    def __init__(self, pdf: bytes, trust: TrustAnchors) -> None:
        self.pdf, self.trust, self.runs = pdf, trust, 0

    def __call__(self) -> SignatureCheck:
        self.runs += 1
        return check_signature(self.pdf, self.trust)


class ChangingCrls:
    """A revocation source whose answer the test changes (a CA publishing a new CRL)."""

    def __init__(self) -> None:
        self.answer: list[bytes] = [b"crl-1"]
        self.down = False

    def crls_for(self, certificates: Iterable[x509.Certificate], *, fresh_after: datetime | None = None) -> list[bytes]:
        if self.down:
            raise RevocationDataUnavailable("the CRL distribution point did not answer")
        return list(self.answer)


def _behind_changing_crls(
    backend: Backend, pdf: bytes, *, reconfirm_seconds: float
) -> tuple[SignatureCheckCache, TrustAnchors, CountedChecks, ChangingCrls]:
    """A cache, the backend's trust anchors with a revocation source the test changes,
    and the counted check of ``pdf`` against them."""
    crls = ChangingCrls()
    trust = replace(backend.context.trust, crls=crls, ocsp=None)
    return SignatureCheckCache(reconfirm_seconds=reconfirm_seconds), trust, CountedChecks(pdf, trust), crls


@pytest.fixture
def signed(client: TestClient, dept: IssuingDepartment) -> tuple[dict[str, str], bytes]:
    return issue(client, dept)


def test_the_same_file_is_checked_once(backend: Backend, signed: tuple[dict[str, str], bytes]) -> None:
    _, pdf = signed
    cache = SignatureCheckCache()
    checks = CountedChecks(pdf, backend.context.trust)

    first = cache.check(pdf, backend.context.trust, checks)
    second = cache.check(pdf, backend.context.trust, checks)

    assert checks.runs == 1
    assert first.passed
    assert second is first
    assert first.certificates  # what its revocation data was asked for


def test_a_changed_byte_is_another_file(backend: Backend, signed: tuple[dict[str, str], bytes]) -> None:
    _, pdf = signed
    cache = SignatureCheckCache()
    tampered = alter_content(pdf)

    cache.check(pdf, backend.context.trust, CountedChecks(pdf, backend.context.trust))
    result = cache.check(bytes(tampered), backend.context.trust, CountedChecks(bytes(tampered), backend.context.trust))

    assert not result.passed


def test_new_revocation_data_for_its_certificates_means_checking_again(
    backend: Backend, signed: tuple[dict[str, str], bytes]
) -> None:
    _, pdf = signed
    cache, trust, checks, crls = _behind_changing_crls(backend, pdf, reconfirm_seconds=0.0)

    cache.check(pdf, trust, checks)
    cache.check(pdf, trust, checks)
    crls.answer = [b"crl-2"]  # e.g. the department's key was revoked
    cache.check(pdf, trust, checks)
    crls.down = True
    cache.check(pdf, trust, checks)

    assert checks.runs == 3


def test_revocation_data_is_compared_again_after_a_moment(
    backend: Backend, signed: tuple[dict[str, str], bytes]
) -> None:
    _, pdf = signed
    cache, trust, checks, crls = _behind_changing_crls(backend, pdf, reconfirm_seconds=0.5)

    cache.check(pdf, trust, checks)
    crls.answer = [b"crl-2"]
    cache.check(pdf, trust, checks)  # within the moment: the kept check stands
    time.sleep(0.6)
    cache.check(pdf, trust, checks)

    assert checks.runs == 2


def test_a_check_at_another_moment_is_never_kept(backend: Backend, signed: tuple[dict[str, str], bytes]) -> None:
    _, pdf = signed
    cache = SignatureCheckCache()
    checks = CountedChecks(pdf, backend.context.trust)
    moment = datetime.now(UTC)

    cache.check(pdf, backend.context.trust, checks, moment=moment)
    cache.check(pdf, backend.context.trust, checks, moment=moment)

    assert checks.runs == 2


def test_entries_expire_and_the_least_recent_goes_first(
    client: TestClient, backend: Backend, dept: IssuingDepartment, signed: tuple[dict[str, str], bytes]
) -> None:
    _, pdf = signed
    _, other_pdf = issue(client, dept)
    trust = backend.context.trust
    expiring = SignatureCheckCache(ttl_seconds=0.0)
    small = SignatureCheckCache(max_entries=1)
    checks, other_checks = CountedChecks(pdf, trust), CountedChecks(other_pdf, trust)

    expiring.check(pdf, trust, checks)
    expiring.check(pdf, trust, checks)
    small.check(pdf, trust, checks)
    small.check(other_pdf, trust, other_checks)
    small.check(pdf, trust, checks)

    assert checks.runs == 4


def test_other_trust_anchors_are_another_check(backend: Backend, signed: tuple[dict[str, str], bytes]) -> None:
    _, pdf = signed
    cache = SignatureCheckCache()
    untrusting = replace(backend.context.trust, roots=())

    trusted = cache.check(pdf, backend.context.trust, CountedChecks(pdf, backend.context.trust))
    untrusted = cache.check(pdf, untrusting, CountedChecks(pdf, untrusting))

    assert trusted.passed
    assert not untrusted.passed


def test_a_revoked_document_fails_at_once_after_a_kept_check(
    client: TestClient, dept: IssuingDepartment, signed: tuple[dict[str, str], bytes]
) -> None:
    record, pdf = signed

    before = upload(client, pdf)
    client.post(f"/api/v1/documents/{record['id']}/revoke", json={"reason": "forged"}, headers=dept.headers)
    after = upload(client, pdf)

    assert before["indication"] == "TOTAL_PASSED"
    assert after["indication"] == "TOTAL_FAILED"
    assert after["sub_indication"] == "REVOKED"
