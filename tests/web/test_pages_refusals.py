"""A form refused by the request guard before any page sees it (a phone photo over the
upload limit) answers a browser with a page in its language and the way back to the
form; the API still answers JSON."""

from __future__ import annotations

from html import escape

import pytest
from fastapi.testclient import TestClient

from web.refusal_page import form_page_of
from web.templates import MESSAGES

BOUNDARY = "sanad-test-boundary"
PHOTO = b"\xff\xd8\xff\xe0" + b"\0" * (21 * 2**20)  # 21 MB, as a phone takes it


def photo_form() -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachment.aadhaar"; filename="IMG_0001.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + PHOTO
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


@pytest.mark.parametrize("language", ["en", "pa", "hi"])
def test_a_photo_over_the_limit_gets_a_page_in_the_readers_language(client: TestClient, language: str) -> None:
    t = MESSAGES.translator(language)

    response = client.post(
        f"/apply/rev-income?lang={language}",
        content=photo_form(),
        headers={
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        },
    )

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert f'<html lang="{language}">' in response.text
    assert t("refused.too_large.title") in response.text
    assert escape(t("refused.too_large.body", size="20 MB")) in response.text
    assert 'href="/apply/rev-income"' in response.text
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_api_still_answers_json(client: TestClient) -> None:
    response = client.post(
        "/api/v1/verify",
        content=photo_form(),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Accept": "text/html"},
    )
    page_without_accept = client.post(
        "/apply/rev-income", content=photo_form(), headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    )

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert page_without_accept.json()["error"] == "payload_too_large"


def test_the_way_back_is_the_form_the_post_came_from() -> None:
    assert form_page_of("/apply/rev-income") == "/apply/rev-income"
    assert form_page_of("/applications/PB-REV-INC-2026-000001/resubmit") == "/applications/PB-REV-INC-2026-000001"
    assert form_page_of("/verify") == "/verify"
