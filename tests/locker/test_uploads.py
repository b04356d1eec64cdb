"""Self-uploaded files: typed by content, size-limited, the owner's only, and never orphaned."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from app.factory import create_app
from locker.models import Upload
from locker.uploads import find_orphans
from tests.conftest import Backend, client_address
from tests.issuer.test_outages import unreachable_store
from tests.locker.conftest import new_mobile, sign_in

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "orange").save(buffer, "PNG")
    return buffer.getvalue()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "JPEG")
    return buffer.getvalue()


def upload(client: TestClient, headers: dict[str, str], name: str, data: bytes, content_type: str, title: str = ""):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/locker/uploads",
        files={"file": (name, data, content_type)},
        data={"title": title} if title else {},
        headers=headers,
    )


def uploads_of(backend: Backend) -> int:
    with backend.context.sessions() as s:
        return s.scalar(select(func.count()).select_from(Upload)) or 0


def test_pdf_jpeg_and_png_are_kept_byte_for_byte_and_marked_unverified(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())
    files = [
        ("ration-card.pdf", PDF, "application/pdf"),
        ("photo.png", png(), "image/png"),
        ("scan.jpg", jpeg(), "image/jpeg"),
    ]

    created = [upload(client, headers, name, data, kind, title=f"My {name}") for name, data, kind in files]

    assert [r.status_code for r in created] == [201, 201, 201]
    assert all(r.json()["verified"] is False for r in created)
    assert [r.json()["content_type"] for r in created] == [kind for _, _, kind in files]
    listed = client.get("/api/v1/locker/uploads", headers=headers).json()
    assert {u["title"] for u in listed} == {"My ration-card.pdf", "My photo.png", "My scan.jpg"}
    for response, (_, data, kind) in zip(created, files, strict=True):
        content = client.get(f"/api/v1/locker/uploads/{response.json()['id']}/content", headers=headers)
        assert content.content == data
        assert content.headers["content-type"] == kind


def test_other_types_are_415(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())

    text = upload(client, headers, "notes.txt", b"just some text", "text/plain")
    gif = upload(client, headers, "anim.gif", b"GIF89a\x01\x00\x01\x00", "image/gif")
    disguised = upload(client, headers, "photo.png", PDF, "image/png")  # says PNG, is a PDF
    empty = upload(client, headers, "empty.pdf", b"", "application/pdf")

    assert [r.status_code for r in (text, gif, disguised, empty)] == [415, 415, 415, 415]
    assert "PDF, JPEG or PNG" in text.json()["detail"]
    assert "declared as image/png" in disguised.json()["detail"]


def test_a_file_over_the_limit_is_413_and_nothing_is_kept(backend: Backend) -> None:
    settings = backend.settings.model_copy(update={"locker_upload_max_bytes": 1024})
    context = replace(backend.context, settings=settings)
    before = uploads_of(backend)
    with TestClient(create_app(context=context), client=client_address()) as client:
        headers = sign_in(client, backend, new_mobile())
        response = upload(client, headers, "big.pdf", PDF + b"0" * 2000, "application/pdf")

    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert uploads_of(backend) == before


def test_delete_removes_row_and_object(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())
    created = upload(client, headers, "a.pdf", PDF, "application/pdf").json()
    keys_before = {i.key for i in backend.store.list("lockers/")}

    assert client.delete(f"/api/v1/locker/uploads/{created['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/locker/uploads/{created['id']}/content", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/locker/uploads/{created['id']}", headers=headers).status_code == 404
    assert len(keys_before - {i.key for i in backend.store.list("lockers/")}) == 1


def test_storage_outage_is_503_and_writes_no_row(backend: Backend, tmp_path: Path) -> None:
    store = unreachable_store(backend, tmp_path)
    context = replace(backend.context, store=store)
    before = uploads_of(backend)
    with TestClient(create_app(context=context), client=client_address(), raise_server_exceptions=False) as client:
        headers = sign_in(client, backend, new_mobile())
        response = upload(client, headers, "a.pdf", PDF, "application/pdf")

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert uploads_of(backend) == before


def test_fsck_finds_uploaded_objects_no_row_claims(client: TestClient, backend: Backend) -> None:
    headers = sign_in(client, backend, new_mobile())
    kept = upload(client, headers, "a.pdf", PDF, "application/pdf").json()
    backend.store.put("lockers/abandoned/uploads/left-by-a-crash.pdf", PDF, "application/pdf")

    with backend.context.sessions() as s:
        orphans = find_orphans(s, backend.store, now=datetime.now(UTC) + timedelta(hours=1))

    assert "lockers/abandoned/uploads/left-by-a-crash.pdf" in orphans
    assert not any(kept["id"] in key for key in orphans)
    backend.store.delete("lockers/abandoned/uploads/left-by-a-crash.pdf")
