"""The issuing office and officer named on the certificate: given by a department's
request (`issued_by`), checked and bounded, printed in both languages where given, kept
in the attached data and the registry, and carried to a corrected version."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from pyhanko.pdf_utils.reader import PdfFileReader

from tests.conftest import IssuingDepartment, income_certificate, require_tool

SAMRALA = {
    "office": {"en": "Tehsil Office, Samrala", "pa": "ਤਹਿਸੀਲ ਦਫ਼ਤਰ, ਸਮਰਾਲਾ"},
    "officer": "Harpreet Kaur",
    "designation": {"en": "Tehsildar", "pa": "ਤਹਿਸੀਲਦਾਰ"},
}


def _issue(client: TestClient, dept: IssuingDepartment, issued_by: object) -> dict[str, object]:
    response = client.post(
        "/api/v1/documents", json={**income_certificate(), "issued_by": issued_by}, headers=dept.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def printed(client: TestClient, dept: IssuingDepartment, document_id: object, tmp_path: Path) -> tuple[str, dict]:  # type: ignore[type-arg]
    """The certificate's text (one line) and its attached certificate.json."""
    path = tmp_path / f"{document_id}.pdf"
    path.write_bytes(client.get(f"/api/v1/documents/{document_id}/content", headers=dept.headers).content)
    text = subprocess.run(
        [require_tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    with path.open("rb") as file:
        names = PdfFileReader(file).root["/Names"]["/EmbeddedFiles"]["/Names"]
        attached = json.loads(names[1].get_object()["/EF"]["/F"].get_object().data)
    return " ".join(text.split()), attached


def test_the_office_and_officer_are_printed_in_both_languages(
    client: TestClient, dept: IssuingDepartment, tmp_path: Path
) -> None:
    issued = _issue(client, dept, SAMRALA)

    text, attached = printed(client, dept, issued["id"], tmp_path)

    assert "Harpreet Kaur, ਤਹਿਸੀਲਦਾਰ / Tehsildar" in text
    assert "ਤਹਿਸੀਲ ਦਫ਼ਤਰ, ਸਮਰਾਲਾ / Tehsil Office, Samrala" in text
    assert attached["issuer"]["issued_by"] == SAMRALA


def test_plain_names_are_printed_as_given(client: TestClient, dept: IssuingDepartment, tmp_path: Path) -> None:
    issued = _issue(client, dept, {"office": "District Office, Moga"})

    text, attached = printed(client, dept, issued["id"], tmp_path)

    assert "District Office, Moga" in text
    assert attached["issuer"]["issued_by"] == {"office": {"en": "District Office, Moga"}}


def test_without_issued_by_the_department_is_named(client: TestClient, dept: IssuingDepartment, tmp_path: Path) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()

    text, attached = printed(client, dept, issued["id"], tmp_path)

    assert f"{dept.department.name_en} ({dept.department.code})" in text
    assert "issued_by" not in attached["issuer"]


def test_bad_issued_by_values_are_refused_with_their_field(client: TestClient, dept: IssuingDepartment) -> None:
    cases = {
        "missing office": {"officer": "Harpreet Kaur"},
        "unknown key": {**SAMRALA, "stamp": "x"},
        "too long": {**SAMRALA, "officer": "K" * 121},
        "blank": {**SAMRALA, "officer": "   "},
        "invisible": {**SAMRALA, "office": "Tehsil\u202e Office"},
        "no font": {**SAMRALA, "officer": "தமிழ் Selvi"},
    }
    answers = {
        case: client.post("/api/v1/documents", json={**income_certificate(), "issued_by": body}, headers=dept.headers)
        for case, body in cases.items()
    }

    assert {case: a.status_code for case, a in answers.items()} == dict.fromkeys(cases, 422)
    assert all(any(f["field"].startswith("issued_by") for f in a.json()["fields"]) for a in answers.values()), {
        case: a.json() for case, a in answers.items()
    }


def test_a_corrected_version_names_the_same_office(client: TestClient, dept: IssuingDepartment, tmp_path: Path) -> None:
    old = _issue(client, dept, SAMRALA)

    new = client.post(
        f"/api/v1/documents/{old['id']}/supersede",
        json={"data": income_certificate()["data"], "reason": "the father's name was misspelt"},
        headers=dept.headers,
    )

    assert new.status_code == 201, new.text
    assert printed(client, dept, new.json()["id"], tmp_path)[1]["issuer"]["issued_by"] == SAMRALA
