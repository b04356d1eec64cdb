"""The published samples read as DigiLocker sends them, and hostile XML is refused
without being expanded."""

from __future__ import annotations

import time

import pytest

from digilocker.messages import (
    PULL_DOC_REQUEST,
    PULL_URI_REQUEST,
    ForbiddenXml,
    MalformedRequest,
    PullAnswer,
    Status,
    build_response,
    parse_request,
)
from tests.digilocker.helpers import SAMPLES, read_answer, shape


def test_the_published_pull_uri_request_reads_as_specified() -> None:
    request = parse_request((SAMPLES / "pull_uri_request.xml").read_bytes())
    assert request.kind == PULL_URI_REQUEST
    assert (request.ver, request.ts, request.txn, request.org_id) == (
        "1.0",
        "2016-01-11T14:44:48+05:30",
        "1452503688",
        "in.gov.dept.state",
    )
    assert request.format == "both"
    assert request.details["DocType"] == "INCER"
    assert request.details["FullName"] == "Sunil Kumar"
    assert request.details["DOB"] == "31-12-1990"
    assert (request.details["UDF1"], request.details["UDF2"]) == ("13333", "2016")


def test_the_published_pull_doc_request_reads_as_specified() -> None:
    request = parse_request((SAMPLES / "pull_doc_request.xml").read_bytes())
    assert request.kind == PULL_DOC_REQUEST
    assert request.details["URI"] == "in.gov.dept.state-INCER-1234567"
    assert request.details["DigiLockerId"] == "123e4567-e89b-12d3-a456-426655440000"


@pytest.mark.parametrize(
    ("kind", "sample"), [(PULL_URI_REQUEST, "pull_uri_response.xml"), (PULL_DOC_REQUEST, "pull_doc_response.xml")]
)
def test_our_responses_have_the_published_structure(kind: str, sample: str) -> None:
    issued_to = {"name": "Sunil Kumar", "dob": "31-12-1990", "gender": "M", "phone": "9999999999"}
    answer = PullAnswer(
        Status.FOUND,
        uri="in.gov.dept.state-INCER-1234567",
        pdf=b"%PDF-1.7",
        data_xml=b"<Certificate/>",
        issued_to=issued_to,
    )
    ours = read_answer(build_response(kind, "2016-01-11T14:44:48+05:30", "1452503688", answer))
    golden = read_answer((SAMPLES / sample).read_bytes())
    assert shape(ours.root) == shape(golden.root)
    assert (ours.status, ours.ts, ours.txn, ours.doc_content) == (golden.status, golden.ts, golden.txn, b"%PDF-1.7")


def test_a_format_left_out_means_pdf() -> None:
    body = (SAMPLES / "pull_doc_request.xml").read_bytes().replace(b' format="both"', b"")
    request = parse_request(body)
    assert (request.wants_pdf, request.wants_data) == (True, False)


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<PullURIRequest ver="1.0" ts="1" txn="1" orgId="o"><DocDetails><UDF1>&x;</UDF1></DocDetails></PullURIRequest>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<PullURIRequest ver="1.0" ts="1" txn="1" orgId="o"><DocDetails><UDF1>&lol9;</UDF1></DocDetails></PullURIRequest>"""

DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE PullURIRequest SYSTEM "http://attacker.example/r.dtd">
<PullURIRequest ver="1.0" ts="1" txn="1" orgId="o"><DocDetails/></PullURIRequest>"""


@pytest.mark.parametrize("body", [XXE, BILLION_LAUGHS, DTD_ONLY], ids=["xxe", "billion-laughs", "external-dtd"])
def test_entities_and_dtds_are_refused_not_expanded(body: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(ForbiddenXml):
        parse_request(body)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<PullURIRequest", "well-formed"),
        (b"<Other/>", "expected PullURIRequest"),
        (b'<PullURIRequest ver="1.0" ts="1" txn="1"><DocDetails/></PullURIRequest>', "orgId"),
        (b'<PullURIRequest ver="1" ts="1" txn="1" orgId="o" format="doc"><DocDetails/></PullURIRequest>', "format"),
        (b'<PullURIRequest ver="1" ts="1" txn="1" orgId="o"/>', "one DocDetails"),
        (
            b'<PullURIRequest ver="1" ts="1" txn="1" orgId="o"><DocDetails><A/><A/></DocDetails></PullURIRequest>',
            "twice",
        ),
    ],
)
def test_malformed_requests_say_what_is_wrong(body: bytes, why: str) -> None:
    with pytest.raises(MalformedRequest, match=why):
        parse_request(body)
