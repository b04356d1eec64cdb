"""The published ``/openapi.json`` tells the truth: schemathesis generates requests for
every API operation from it, against a live server, and each answer must be no server
error and must match what the document says (status code, media type, headers, body).

Bounded and repeatable: a fixed number of examples per operation, derandomized, so a
run takes the same requests every time and stays well under two minutes."""

from __future__ import annotations

import re
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.openapi import ERROR, INVALID_INPUT
from tests.concurrency import live_server
from tests.conftest import Backend, IssuingDepartment, income_certificate
from tests.locker.conftest import latest_code, new_mobile

#: Examples generated per operation, valid and invalid by the document: enough to reach
#: the operations' validation and refusals, few enough to keep the whole run short.
EXAMPLES = 15
#: The machine-facing operations (pages and the PKI responder's binary protocols excepted).
API_PATH = re.compile(r"^/(api/v1/|v/|oauth/|health$|ready$)")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def test_the_422_and_error_schemas_are_what_the_server_sends(backend: Backend) -> None:
    with live_server(backend) as url:
        document = httpx.get(f"{url}/openapi.json").json()
        answer = httpx.post(f"{url}/api/v1/locker/otp", json={"mobile": 5, "extra": 1})
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    issuing = document["paths"]["/api/v1/documents"]["post"]["responses"]
    assert issuing["422"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{INVALID_INPUT}"}
    assert issuing["401"]["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{ERROR}"}
    assert set(issuing) >= {"401", "408", "413", "422", "503"}
    # A multipart or form body the parser cannot cut into parts is a 400, documented.
    for path in ("/api/v1/locker/uploads", "/api/v1/applications", "/api/v1/batches", "/api/v1/verify"):
        refused = document["paths"][path]["post"]["responses"]["400"]
        assert refused["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{ERROR}"}, path
    assert answer.status_code == 422
    assert set(answer.json()) == set(schemas[INVALID_INPUT]["required"])
    lookup = document["paths"]["/v/{document_id}"]["get"]["responses"]
    assert set(lookup["200"]["content"]) == {"application/json", "text/html"}
    assert set(lookup["404"]["content"]) == {"application/json", "text/html"}


def test_every_api_operation_answers_as_its_document_says(backend: Backend, dept: IssuingDepartment) -> None:
    failures: list[str] = []
    with live_server(backend) as url:
        citizen = _signed_in_citizen(backend, url, dept)
        schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        tested = [operation for operation in operations if API_PATH.match(operation.path)]
        assert len(tested) > 40
        for operation in tested:
            failure = _run(operation, url, _credentials(operation, dept.headers, citizen))
            if failure:
                failures.append(failure)
    assert not failures, "\n\n".join(failures)


def _signed_in_citizen(backend: Backend, url: str, dept: IssuingDepartment) -> dict[str, str]:
    """A citizen with a document in their locker, signed in: locker operations get past
    401 to their own answers."""
    mobile = new_mobile()
    issued = httpx.post(
        f"{url}/api/v1/documents", json={**income_certificate(), "citizen_mobile": mobile}, headers=dept.headers
    )
    assert issued.status_code == 201, issued.text
    assert httpx.post(f"{url}/api/v1/locker/otp", json={"mobile": mobile}).status_code == 202
    session = httpx.post(f"{url}/api/v1/locker/session", json={"mobile": mobile, "code": latest_code(backend, mobile)})
    assert session.status_code == 200, session.text
    return {"Authorization": f"Bearer {session.json()['access_token']}"}


def _credentials(operation: Any, department: dict[str, str], citizen: dict[str, str]) -> dict[str, str]:
    if operation.path.startswith("/api/v1/locker/") and operation.label != "DELETE /api/v1/locker/session":
        return citizen
    # Elsewhere the department's key: issuing operations get past 401 to their own
    # validation; the others ignore it or refuse it as they would any stranger's.
    return department


def _run(operation: Any, url: str, headers: dict[str, str]) -> str | None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE))
    def check(case: Any) -> None:
        case.call_and_validate(base_url=url, headers=headers, checks=CHECKS)

    try:
        check()
    except Exception as failure:  # each operation's failures are reported together
        return f"{operation.label}: {failure}"[:3000]
    return None
