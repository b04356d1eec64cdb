"""The pull endpoints DigiLocker calls: authentication, freshness, holder matching and
what comes back (the signed PDF byte for byte, the data as XML)."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from digilocker.endpoints import MAX_PULL_BODY_BYTES
from tests.conftest import Backend, IssuingDepartment
from tests.digilocker.helpers import (
    INDIA,
    Partner,
    hmac_header,
    pull_doc_body,
    pull_uri_body,
    read_answer,
    register,
)
from tests.digilocker.test_messages import BILLION_LAUGHS, XXE
from tests.locker.conftest import issue_to, new_mobile

ENGLISH, GURMUKHI = "Gurpreet Singh", "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ"


@pytest.fixture
def partner(backend: Backend, dept: IssuingDepartment) -> Partner:
    return register(backend, dept.department)


def _issued(client: TestClient, dept: IssuingDepartment) -> tuple[dict[str, object], str]:
    mobile = new_mobile()
    return issue_to(client, dept, mobile), mobile


def _post(client: TestClient, path: str, body: bytes, key: str, **kwargs: bool) -> tuple[int, object]:
    response = client.post(f"/digilocker/v1/{path}", content=body, headers=hmac_header(body, key, **kwargs))
    return response.status_code, response


def test_pull_uri_answers_the_uri_the_signed_pdf_and_the_data(
    client: TestClient, dept: IssuingDepartment, partner: Partner
) -> None:
    record, mobile = _issued(client, dept)
    body = pull_uri_body(partner, number=str(record["id"]), mobile=mobile, full_name=ENGLISH, txn="T-1")
    response = client.post("/digilocker/v1/pull-uri", content=body, headers=hmac_header(body, partner.api_key))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    answer = read_answer(response.content)
    sent = ET.fromstring(body)  # noqa: S314
    assert (answer.status, answer.ts, answer.txn) == ("1", sent.get("ts"), "T-1"), response.headers
    assert answer.uri == f"{partner.issuer_id}-INCER-{record['id']}"
    stored = client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content
    assert answer.doc_content == stored
    assert answer.data_content is not None
    data = ET.fromstring(answer.data_content)  # noqa: S314
    fields = {f.get("name"): f.text for f in data.iter("Field")}
    assert (fields["holder_name"], fields["holder_name_en"]) == (GURMUKHI, ENGLISH)
    assert (data.get("uri"), data.get("number")) == (answer.uri, record["id"])


def test_the_name_may_come_in_gurmukhi(client: TestClient, dept: IssuingDepartment, partner: Partner) -> None:
    record, mobile = _issued(client, dept)
    body = pull_uri_body(partner, number=str(record["id"]), mobile=mobile, full_name=GURMUKHI)
    _, response = _post(client, "pull-uri", body, partner.api_key)
    assert read_answer(response.content).status == "1"  # type: ignore[attr-defined]


def test_a_number_typed_in_capitals_is_found(client: TestClient, dept: IssuingDepartment, partner: Partner) -> None:
    record, mobile = _issued(client, dept)
    body = pull_uri_body(partner, number=f" {str(record['id']).upper()} ", mobile=mobile, full_name=ENGLISH)
    _, response = _post(client, "pull-uri", body, partner.api_key)
    answer = read_answer(response.content)  # type: ignore[attr-defined]
    assert (answer.status, answer.uri) == ("1", f"{partner.issuer_id}-INCER-{record['id']}")


def test_the_printed_certificate_number_is_found(client: TestClient, dept: IssuingDepartment, partner: Partner) -> None:
    record, mobile = _issued(client, dept)
    typed = f" {str(record['number']).lower().replace('-', ' ')} "  # as a holder may type it
    body = pull_uri_body(partner, number=typed, mobile=mobile, full_name=ENGLISH)
    _, response = _post(client, "pull-uri", body, partner.api_key)
    answer = read_answer(response.content)  # type: ignore[attr-defined]
    assert (answer.status, answer.uri) == ("1", f"{partner.issuer_id}-INCER-{record['id']}")
    other = pull_uri_body(partner, number=str(record["number"]), mobile="9000000001", full_name=ENGLISH)
    _, refused = _post(client, "pull-uri", other, partner.api_key)
    assert read_answer(refused.content).status == "0"  # type: ignore[attr-defined]


def test_the_hex_form_of_the_hmac_is_accepted(client: TestClient, dept: IssuingDepartment, partner: Partner) -> None:
    record, mobile = _issued(client, dept)
    body = pull_uri_body(partner, number=str(record["id"]), mobile=mobile, full_name=ENGLISH)
    status, response = _post(client, "pull-uri", body, partner.api_key, hex_form=True)
    assert status == 200
    assert read_answer(response.content).status == "1"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"full_name": "Gurpreet Kaur"}, "no certificate matches"),
        ({"full_name": None}, "no certificate matches"),
        ({"mobile": "9000000001"}, "no certificate matches"),
        ({"number": "a" * 26}, "no certificate matches"),
        ({"number": "PB-REV-INC-2026-999999"}, "no certificate matches"),
        ({"number": "PB-REV-INC-C-2026-999999"}, "no certificate matches"),
        ({"doc_type": "XXCER"}, "unknown DocType"),
        ({"doc_type": "RSCER"}, "no certificate matches"),
        ({"mobile": None}, "UDF2 (mobile) is missing"),
    ],
    ids=[
        "other-name",
        "no-name",
        "other-mobile",
        "unknown-number",
        "unknown-application",
        "unknown-certificate-number",
        "unknown-doctype",
        "other-doctype",
        "no-mobile",
    ],
)
def test_a_mismatch_is_status_0_with_a_reason(
    client: TestClient, dept: IssuingDepartment, partner: Partner, change: dict[str, str | None], reason: str
) -> None:
    record, mobile = _issued(client, dept)
    arguments: dict[str, str | None] = {"number": str(record["id"]), "mobile": mobile, "full_name": ENGLISH, **change}
    body = pull_uri_body(partner, **arguments)  # type: ignore[arg-type]
    status, response = _post(client, "pull-uri", body, partner.api_key)
    answer = read_answer(response.content)  # type: ignore[attr-defined]
    assert (status, answer.status, answer.uri, answer.doc_content) == (200, "0", None, None)
    assert reason in response.headers["X-Sanad-Reason"]  # type: ignore[attr-defined]


def test_a_wrong_or_missing_hmac_is_401_and_reveals_nothing(
    client: TestClient, dept: IssuingDepartment, partner: Partner
) -> None:
    record, mobile = _issued(client, dept)
    real = pull_uri_body(partner, number=str(record["id"]), mobile=mobile, full_name=ENGLISH)
    missing = pull_uri_body(partner, number="a" * 26, mobile=mobile, full_name=ENGLISH)
    answers = []
    for body in (real, missing):
        for headers in (
            hmac_header(body, "not-the-key-at-all-0123"),
            {"Content-Type": "application/xml"},
            {"x-digilocker-hmac": "!!!"},
        ):
            response = client.post("/digilocker/v1/pull-uri", content=body, headers=headers)
            assert response.status_code == 401
            assert "www-authenticate" not in response.headers
            answers.append(response.content)
    assert len(set(answers)) == 1  # the same answer whether or not the document exists
    tampered = real.replace(ENGLISH.encode(), b"Gurpreet Kaur")
    response = client.post("/digilocker/v1/pull-uri", content=tampered, headers=hmac_header(real, partner.api_key))
    assert response.status_code == 401


def test_unsigned_hostile_xml_is_401_before_any_parsing(client: TestClient, partner: Partner) -> None:
    for body in (XXE, BILLION_LAUGHS, b"<not xml"):
        response = client.post("/digilocker/v1/pull-uri", content=body, headers={"Content-Type": "application/xml"})
        assert response.status_code == 401


@pytest.mark.parametrize("body", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_signed_hostile_xml_is_refused(client: TestClient, partner: Partner, body: bytes) -> None:
    status, response = _post(client, "pull-uri", body, partner.api_key)
    assert status == 400
    answer = read_answer(response.content)  # type: ignore[attr-defined]
    assert answer.status == "0"
    assert b"root:" not in response.content  # type: ignore[attr-defined]
    assert "not accepted" in response.headers["X-Sanad-Reason"]  # type: ignore[attr-defined]


def test_malformed_xml_is_400_status_0(client: TestClient, partner: Partner) -> None:
    status, response = _post(client, "pull-uri", b"<PullURIRequest ver=", partner.api_key)
    assert status == 400
    assert read_answer(response.content).status == "0"  # type: ignore[attr-defined]
    assert "well-formed" in response.headers["X-Sanad-Reason"]  # type: ignore[attr-defined]


def test_a_request_of_the_other_kind_is_refused(client: TestClient, partner: Partner) -> None:
    body = pull_doc_body(partner, f"{partner.issuer_id}-INCER-{'a' * 26}")
    status, response = _post(client, "pull-uri", body, partner.api_key)
    assert status == 400
    assert "PullURIRequest" in response.headers["X-Sanad-Reason"]  # type: ignore[attr-defined]


def test_a_body_over_the_limit_is_413(client: TestClient, partner: Partner) -> None:
    body = b"<" + b"a" * MAX_PULL_BODY_BYTES + b"/>"
    status, _ = _post(client, "pull-uri", body, partner.api_key)
    assert status == 413

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(MAX_PULL_BODY_BYTES // 65536 + 2):
            yield b"a" * 65536

    response = client.post("/digilocker/v1/pull-uri", content=chunks(), headers=hmac_header(b"", partner.api_key))
    assert response.status_code == 413


def test_a_replayed_txn_is_refused(client: TestClient, dept: IssuingDepartment, partner: Partner) -> None:
    record, mobile = _issued(client, dept)
    body = pull_uri_body(partner, number=str(record["id"]), mobile=mobile, full_name=ENGLISH)
    first = read_answer(_post(client, "pull-uri", body, partner.api_key)[1].content)  # type: ignore[attr-defined]
    assert first.status == "1"
    _, again = _post(client, "pull-uri", body, partner.api_key)
    assert read_answer(again.content).status == "0"  # type: ignore[attr-defined]
    assert "replayed" in again.headers["X-Sanad-Reason"]  # type: ignore[attr-defined]


# Times are made when the test runs, not when it is collected: a suite takes long enough
# for "ten minutes ahead" at collection to be inside the window when the test runs.
STALE_TIMES: dict[str, Callable[[], str]] = {
    "ten-minutes-old": lambda: (datetime.now(UTC) - timedelta(minutes=10)).astimezone(INDIA).isoformat(),
    "ten-minutes-ahead": lambda: (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
    "the-spec-sample": lambda: "2016-01-11T14:44:48+05:30",
    "not-a-time": lambda: "yesterday",
}


@pytest.mark.parametrize("when", list(STALE_TIMES))
def test_a_stale_ts_is_refused(client: TestClient, dept: IssuingDepartment, partner: Partner, when: str) -> None:
    record, mobile = _issued(client, dept)
    body = pull_uri_body(partner, number=str(record["id"]), mobile=mobile, full_name=ENGLISH, ts=STALE_TIMES[when]())
    _, response = _post(client, "pull-uri", body, partner.api_key)
    assert read_answer(response.content).status == "0"  # type: ignore[attr-defined]
    assert "ts" in response.headers["X-Sanad-Reason"]  # type: ignore[attr-defined]


def test_unix_time_in_ts_is_accepted(client: TestClient, dept: IssuingDepartment, partner: Partner) -> None:
    record, mobile = _issued(client, dept)
    ts = str(int(datetime.now(UTC).timestamp() * 1000))
    body = pull_uri_body(partner, number=str(record["id"]), mobile=mobile, full_name=ENGLISH, ts=ts)
    assert read_answer(_post(client, "pull-uri", body, partner.api_key)[1].content).status == "1"  # type: ignore[attr-defined]


def test_another_issuers_org_id_is_refused(
    client: TestClient, backend: Backend, dept: IssuingDepartment, partner: Partner
) -> None:
    record, mobile = _issued(client, dept)
    other = Partner(**{**partner.__dict__, "issuer_id": "in.gov.elsewhere"})
    body = pull_uri_body(other, number=str(record["id"]), mobile=mobile, full_name=ENGLISH)
    _, response = _post(client, "pull-uri", body, partner.api_key)
    assert "orgId" in response.headers["X-Sanad-Reason"]  # type: ignore[attr-defined]


def test_a_revoked_certificate_is_not_handed_out(client: TestClient, dept: IssuingDepartment, partner: Partner) -> None:
    record, mobile = _issued(client, dept)
    client.post(f"/api/v1/documents/{record['id']}/revoke", json={"reason": "issued in error"}, headers=dept.headers)
    body = pull_uri_body(partner, number=str(record["id"]), mobile=mobile, full_name=ENGLISH)
    _, response = _post(client, "pull-uri", body, partner.api_key)
    assert read_answer(response.content).status == "0"  # type: ignore[attr-defined]
    assert "revoked" in response.headers["X-Sanad-Reason"]  # type: ignore[attr-defined]


def test_pull_doc_serves_the_account_that_pulled_the_uri(
    client: TestClient, dept: IssuingDepartment, partner: Partner
) -> None:
    record, mobile = _issued(client, dept)
    account = f"{secrets.token_hex(4)}-e89b-12d3-a456-426655440000"
    body = pull_uri_body(partner, number=str(record["id"]), mobile=mobile, full_name=ENGLISH, digilocker_id=account)
    uri = read_answer(_post(client, "pull-uri", body, partner.api_key)[1].content).uri  # type: ignore[attr-defined]
    assert uri is not None
    stored = client.get(f"/api/v1/documents/{record['id']}/content", headers=dept.headers).content

    pdf_only = read_answer(
        _post(client, "pull-doc", pull_doc_body(partner, uri, digilocker_id=account, fmt="pdf"), partner.api_key)[
            1
        ].content  # type: ignore[attr-defined]
    )
    assert (pdf_only.status, pdf_only.doc_content, pdf_only.data_content) == ("1", stored, None)
    xml_only = read_answer(
        _post(client, "pull-doc", pull_doc_body(partner, uri, digilocker_id=account, fmt="xml"), partner.api_key)[
            1
        ].content  # type: ignore[attr-defined]
    )
    assert (xml_only.status, xml_only.doc_content) == ("1", None)
    assert xml_only.data_content

    for stranger in ("ffffffff-e89b-12d3-a456-426655440000", None):
        _, response = _post(client, "pull-doc", pull_doc_body(partner, uri, digilocker_id=stranger), partner.api_key)
        answer = read_answer(response.content)  # type: ignore[attr-defined]
        assert (answer.status, answer.doc_content) == ("0", None)


@pytest.mark.parametrize(
    "uri", ["in.gov.elsewhere-INCER-{id}", "{issuer}-XXCER-{id}", "{issuer}-INCER-{zero}", "nonsense"]
)
def test_pull_doc_refuses_uris_that_are_not_ours(
    client: TestClient, dept: IssuingDepartment, partner: Partner, uri: str
) -> None:
    record, _ = _issued(client, dept)
    body = pull_doc_body(partner, uri.format(id=record["id"], issuer=partner.issuer_id, zero="a" * 26))
    status, response = _post(client, "pull-doc", body, partner.api_key)
    assert status == 200
    assert read_answer(response.content).status == "0"  # type: ignore[attr-defined]


def test_the_date_of_birth_must_match_where_the_template_has_one(
    client: TestClient, backend: Backend, dept: IssuingDepartment, partner: Partner
) -> None:
    import json

    from tests.conftest import REPO

    example = json.loads((REPO / "templates" / "birth-certificate" / "example.json").read_text("utf-8"))
    mobile = new_mobile()
    response = client.post(
        "/api/v1/documents",
        json={**example, "citizen_id": f"C-{secrets.token_hex(4)}", "citizen_mobile": mobile},
        headers=dept.headers,
    )
    assert response.status_code == 201, response.text
    number = response.json()["id"]
    for dob, status in (("14-02-2026", "1"), ("15-02-2026", "0"), (None, "0")):
        body = pull_uri_body(partner, number=number, mobile=mobile, full_name="Harleen Kaur", doc_type="BTCER", dob=dob)
        assert read_answer(_post(client, "pull-uri", body, partner.api_key)[1].content).status == status  # type: ignore[attr-defined]
