"""The in-memory multipart parser of the intake API (``intake.multipart``): it reads what
Starlette's streaming parser reads, and refuses a broken body with a 400 a person understands."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.datastructures import UploadFile
from starlette.requests import Request

from intake import multipart
from intake.multipart import MalformedBody
from tests.conftest import Backend
from tests.intake.helpers import INCOME_FORM, ensure_department
from tests.locker.conftest import new_mobile, sign_in

BOUNDARY = "b0undary-7f3a"
TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _encoded(data: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """As httpx encodes a form (multipart: it has a file)."""
    request = httpx.Request("POST", "http://x/", data=data, files=files or {"note": ("n.txt", b"", "text/plain")})
    return request.read(), request.headers["content-type"]


def _as_starlette(body: bytes, content_type: str) -> list[tuple[str, str | tuple[str | None, bytes, str | None]]]:
    async def read() -> list[tuple[str, str | tuple[str | None, bytes, str | None]]]:
        sent = False

        async def receive() -> dict[str, object]:
            nonlocal sent
            chunk, sent = (b"" if sent else body), True
            return {"type": "http.request", "body": chunk, "more_body": False}

        scope = {"type": "http", "method": "POST", "headers": [(b"content-type", content_type.encode())]}
        async with Request(scope, receive).form(max_files=50, max_fields=50) as form:
            items: list[tuple[str, str | tuple[str | None, bytes, str | None]]] = []
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    items.append((name, (value.filename, await value.read(), value.content_type)))
                else:
                    items.append((name, value))
            return items

    return asyncio.run(read())


def _as_ours(body: bytes, content_type: str) -> list[tuple[str, str | tuple[str | None, bytes, str | None]]]:
    parsed = multipart.parse(body, content_type, max_files=50, max_fields=50)
    return [
        (p.name, p.text(parsed.charset) if p.filename is None else (p.filename, p.data, p.content_type))
        for p in parsed.parts
    ]


@pytest.mark.parametrize("seed", range(12))
def test_it_reads_what_starlettes_parser_reads(seed: int) -> None:
    rng = random.Random(seed)
    names = ["service", "office", "form", "ਨਾਮ", 'quo"ted', "a b"]
    data = {rng.choice(names) + str(i): rng.choice(["", "REV", '{"a": "ਪੰਜਾਬ"}', "x\r\ny"]) for i in range(4)}
    files = {
        f"attachment.kind{i}": (
            rng.choice(["a.pdf", "ਫ਼ਾਈਲ.png", "with space.jpg", ""]),
            # Line ends and dashes inside a file, and the boundary's start, are data.
            rng.randbytes(rng.randrange(0, 70_000)) + b"\r\n--" + rng.randbytes(5) + b"\r\n",
            rng.choice(["application/pdf", "image/png"]),
        )
        for i in range(rng.randrange(0, 3))
    }
    body, content_type = _encoded(data, files)

    assert _as_ours(body, content_type) == _as_starlette(body, content_type)


def test_a_preamble_and_an_epilogue_are_ignored() -> None:
    body = (
        f"a preamble\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=service\r\n\r\nrev-income\r\n"
        f"--{BOUNDARY}--\r\nan epilogue"
    ).encode()

    assert _as_ours(body, TYPE) == [("service", "rev-income")]


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b"--x\r\n", "multipart/form-data", "no boundary"),
        (b"nothing here", TYPE, "no part"),
        (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\r\n\r\ncut sh".encode(), TYPE, "ends before"),
        (f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--{BOUNDARY}--".encode(), TYPE, '"name"'),
        (f"--{BOUNDARY}\r\nX-Other: 1\r\n\r\nv\r\n--{BOUNDARY}--".encode(), TYPE, "no Content-Disposition"),
        (f"--{BOUNDARY}\r\nno colon\r\n\r\nv\r\n--{BOUNDARY}--".encode(), TYPE, "without a colon"),
        (f"--{BOUNDARY}junk\r\n\r\n--{BOUNDARY}--".encode(), TYPE, "line end"),
    ],
)
def test_a_broken_body_is_refused_with_what_is_wrong(body: bytes, content_type: str, says: str) -> None:
    with pytest.raises(MalformedBody, match=says) as refused:
        multipart.parse(body, content_type, max_files=5, max_fields=5)
    assert refused.value.status_code == 400


def test_too_many_files_or_fields_or_too_large_a_field_is_refused() -> None:
    body, content_type = _encoded({"a": "1", "b": "2"}, {"f1": ("1.pdf", b"1", "x/y"), "f2": ("2.pdf", b"2", "x/y")})
    with pytest.raises(MalformedBody, match="too many files: at most 1"):
        multipart.parse(body, content_type, max_files=1, max_fields=5)
    with pytest.raises(MalformedBody, match="too many fields: at most 1"):
        multipart.parse(body, content_type, max_files=5, max_fields=1)
    large, content_type = _encoded({"form": "x" * (multipart.MAX_FIELD_BYTES + 1)}, {})
    with pytest.raises(MalformedBody, match="over 1024 KB"):
        multipart.parse(large, content_type, max_files=5, max_fields=5)


def test_a_truncated_submission_is_a_400_that_says_so(client: TestClient, backend: Backend) -> None:
    ensure_department(backend, "REV")
    headers = sign_in(client, backend, new_mobile())
    body, content_type = _encoded(
        {"service": "rev-income", "form": str(INCOME_FORM)}, {"attachment.aadhaar": ("a.pdf", b"%PDF-1.7", "x/y")}
    )

    answer = client.post("/api/v1/applications", content=body[:-30], headers={**headers, "content-type": content_type})

    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "malformed_body"
    assert "ends before its last boundary" in answer.json()["detail"]
