"""The citizen's locker pages: documents, sharing, the access log, uploads and shared links."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.factory import create_app
from locker import documents, views_documents
from locker.i18n import MESSAGES as LOCKER_MESSAGES
from sanad.models import DevMessage
from sanad.storage import StorageUnavailable
from tests.conftest import Backend, IssuingDepartment, client_address, create_department
from tests.locker.conftest import issue_to, latest_code, new_mobile, sign_in_with_forms

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@contextmanager
def another_client(backend: Backend) -> Iterator[TestClient]:
    """A second browser: its own cookies and its own address."""
    with TestClient(create_app(context=backend.context), client=client_address()) as c:
        yield c


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, "the page has no csrf field"
    return match.group(1)


def assert_page(response: httpx.Response, status_code: int, *texts: str) -> None:
    """A page (never the API's JSON) with this status, showing every one of ``texts``."""
    assert response.status_code == status_code, response.text
    assert response.headers["content-type"].startswith("text/html"), response.headers["content-type"]
    for text in texts:
        assert text in response.text, f"{text!r} not on the page"


def revoke_document(client: TestClient, dept: IssuingDepartment, document_id: object, reason: str) -> None:
    response = client.post(f"/api/v1/documents/{document_id}/revoke", json={"reason": reason}, headers=dept.headers)
    assert response.status_code == 200, response.text


def downloaded(backend: Backend, response: httpx.Response) -> bytes:
    """The bytes of a download, following the redirect to MinIO as a browser would."""
    if backend.name == "embedded":
        assert response.status_code == 200, response.text
        return response.content
    assert response.status_code == 307, response.text
    fetched = httpx.get(response.headers["location"])
    assert fetched.status_code == 200
    return fetched.content


def make_share(client: TestClient, document_id: object, **form: str) -> tuple[str, httpx.Response]:
    """Create a share link from the document's page; returns its token and the page showing it."""
    page = client.get(f"/locker/documents/{document_id}")
    created = client.post(f"/locker/documents/{document_id}/shares", data={"csrf": csrf_of(page), "days": "7", **form})
    assert_page(created, 200)
    match = re.search(r'data-testid="new-link".*?/s/([A-Za-z0-9_-]{20,})"', created.text, re.S)
    assert match, "the new link is not shown"
    return match.group(1), created


def share_id_of(page: httpx.Response) -> str:
    match = re.search(r'data-share="([0-9a-z]+)"', page.text)
    assert match
    return match.group(1)


# --- signing in -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/locker/documents", "/locker/access-log", "/locker/uploads", "/locker/documents/x"])
def test_signed_out_pages_send_to_sign_in(client: TestClient, path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/locker/sign-in?next={quote(path, safe='')}"


def test_sign_in_returns_to_the_page_asked_for(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    revoked = issue_to(client, dept, mobile)
    issue_to(client, dept, mobile)
    revoke_document(client, dept, revoked["id"], "issued in error")
    wanted = "/locker/documents?status=revoked"

    redirect = client.get(wanted, follow_redirects=False)
    assert redirect.headers["location"] == f"/locker/sign-in?next={quote(wanted, safe='')}"
    assert sign_in_with_forms(client, backend, mobile, next_path=wanted) == wanted

    page = client.get(wanted)
    assert_page(page, 200, str(revoked["id"]), "Sign out")
    assert page.text.count('class="doc-card"') == 1


def test_forms_posted_after_the_session_ended_return_to_their_page(client: TestClient) -> None:
    response = client.post("/locker/documents/abc/shares", data={"days": "7"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/locker/sign-in?next=%2Flocker%2Fdocuments%2Fabc"


def test_wrong_code_is_explained_in_punjabi_with_attempts_left(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    page = client.get("/locker/sign-in?lang=pa")
    assert_page(page, 200, '<html lang="pa">', "ਮੋਬਾਈਲ ਨੰਬਰ")
    csrf = csrf_of(page)
    invalid = client.post("/locker/sign-in/code", data={"csrf": csrf, "mobile": "12345"})
    assert_page(invalid, 422, "10 ਅੰਕਾਂ ਦਾ ਮੋਬਾਈਲ ਨੰਬਰ ਦਰਜ ਕਰੋ")
    sent = client.post("/locker/sign-in/code", data={"csrf": csrf, "mobile": mobile})
    assert_page(sent, 200, "5 ਮਿੰਟ ਲਈ ਵੈਧ ਹੈ")
    code = latest_code(backend, mobile)
    wrong = "000000" if code != "000000" else "111111"

    response = client.post("/locker/sign-in", data={"csrf": csrf, "mobile": mobile, "code": wrong})

    assert_page(response, 401, '<html lang="pa">', "ਇਹ ਕੋਡ ਸਹੀ ਨਹੀਂ ਹੈ। 4 ਕੋਸ਼ਿਸ਼ਾਂ ਬਾਕੀ ਹਨ।")
    without_csrf = client.post("/locker/sign-in", data={"mobile": mobile, "code": code})
    assert_page(without_csrf, 400, "ਫਾਰਮ ਦੀ ਮਿਆਦ ਖਤਮ ਹੋ ਗਈ")


# --- documents ------------------------------------------------------------------------------


def test_list_shows_only_my_documents_newest_first(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mine, theirs = new_mobile(), new_mobile()
    first = issue_to(client, dept, mine)
    second = issue_to(client, dept, mine)
    other = issue_to(client, dept, theirs, holder_name="Someone Else Entirely")
    sign_in_with_forms(client, backend, mine)

    page = client.get("/locker/documents")

    assert_page(page, 200, "Income Certificate", dept.department.name_en, 'data-status="valid"', "Valid")
    assert str(first["id"]) in page.text
    assert str(second["id"]) in page.text
    assert str(other["id"]) not in page.text
    assert "Someone Else Entirely" not in page.text
    # Their document's page reads exactly like a missing one: a page, not the API's JSON.
    for path in (f"/locker/documents/{other['id']}", f"/locker/documents/{other['id']}/download"):
        assert_page(client.get(path), 404, "We could not find that in your locker.")


def test_empty_locker_explains_where_documents_come_from(client: TestClient, backend: Backend) -> None:
    mobile = new_mobile()
    sign_in_with_forms(client, backend, mobile)
    page = client.get("/locker/documents")
    assert_page(page, 200, 'data-testid="empty"', "issues them to your mobile number", mobile[:2] + "xxxxxx")


def test_filters_by_type_department_and_status(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    other_dept = create_department(backend)
    kept = issue_to(client, dept, mobile)
    revoked = issue_to(client, dept, mobile)
    elsewhere = issue_to(client, other_dept, mobile)
    revoke_document(client, dept, revoked["id"], "issued in error")
    sign_in_with_forms(client, backend, mobile)

    def listed(query: str) -> set[str]:
        page = client.get(f"/locker/documents?{query}")
        assert_page(page, 200)
        return set(re.findall(r'class="doc-card" href="/locker/documents/([0-9a-z]+)"', page.text))

    everything = {str(d["id"]) for d in (kept, revoked, elsewhere)}
    assert listed("") == everything
    assert listed("type=income-certificate&department=&status=") == everything
    assert listed("status=revoked") == {str(revoked["id"])}
    assert listed("status=valid") == {str(kept["id"]), str(elsewhere["id"])}
    assert listed(f"department={other_dept.department.code}") == {str(elsewhere["id"])}
    assert listed(f"department={dept.department.code}&status=valid") == {str(kept["id"])}
    assert listed("type=marriage-certificate") == set()
    assert "No documents match these choices." in client.get("/locker/documents?status=expired").text
    # The menus offer what this citizen has, and keep the choice made.
    page = client.get(f"/locker/documents?department={other_dept.department.code}").text
    assert f'<option value="{other_dept.department.code}" selected>' in page
    assert f'<option value="{dept.department.code}">' in page
    assert (
        '<option value="marriage-certificate" selected>'
        in client.get("/locker/documents?type=marriage-certificate").text
    )
    assert_page(client.get("/locker/documents?status=lost"), 422, "not valid")


def test_next_page_follows_the_cursor(
    client: TestClient, backend: Backend, dept: IssuingDepartment, monkeypatch: pytest.MonkeyPatch
) -> None:
    mobile = new_mobile()
    issued = {str(issue_to(client, dept, mobile)["id"]) for _ in range(3)}
    sign_in_with_forms(client, backend, mobile)
    monkeypatch.setattr(views_documents, "PAGE_SIZE", 2)

    seen: list[str] = []
    path: str | None = "/locker/documents?status=valid"
    while path:
        page = client.get(path)
        assert_page(page, 200)
        seen += re.findall(r'class="doc-card" href="/locker/documents/([0-9a-z]+)"', page.text)
        match = re.search(r'href="([^"]+)" rel="next"', page.text)
        path = match.group(1).replace("&amp;", "&") if match else None
        if path:
            assert "status=valid" in path
            assert "cursor=" in path
    assert sorted(seen) == sorted(issued)
    assert_page(client.get("/locker/documents?cursor=not-a-cursor"), 422)


def test_document_page_shows_the_facts_and_downloads_the_signed_pdf(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    sign_in_with_forms(client, backend, mobile)

    page = client.get(f"/locker/documents/{doc['id']}")

    assert_page(
        page,
        200,
        "Income Certificate",
        "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
        dept.department.name_en,
        str(doc["sha256"]),
        f'href="{doc["verify_url"]}"',
        f'href="/locker/documents/{doc["id"]}/download"',
        "You have not shared this document.",
        "No one has opened this document yet.",
    )
    assert page.headers["cache-control"] == "no-store"
    body = downloaded(backend, client.get(f"/locker/documents/{doc['id']}/download", follow_redirects=False))
    assert hashlib.sha256(body).hexdigest() == doc["sha256"]


def test_storage_outage_is_a_page_that_says_try_again(
    client: TestClient, backend: Backend, dept: IssuingDepartment, monkeypatch: pytest.MonkeyPatch
) -> None:
    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    sign_in_with_forms(client, backend, mobile)

    def storage_down(*_: object) -> None:
        raise StorageUnavailable("connection refused")

    monkeypatch.setattr(documents, "content_of", storage_down)
    response = client.get(f"/locker/documents/{doc['id']}/download?lang=hi")
    assert_page(response, 503, "सेवा व्यस्त है या बंद है।")
    assert response.headers["retry-after"] == "5"


def test_revoked_document_shows_its_reason(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    revoke_document(client, dept, doc["id"], "income was misreported")
    sign_in_with_forms(client, backend, mobile)
    page = client.get(f"/locker/documents/{doc['id']}")
    assert_page(page, 200, 'class="status-panel revoked"', "Revoked", "income was misreported")


def test_pages_render_in_punjabi_and_hindi(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    sign_in_with_forms(client, backend, mobile)

    punjabi = client.get("/locker/documents?lang=pa")
    assert_page(punjabi, 200, '<html lang="pa">', "ਮੇਰੇ ਦਸਤਾਵੇਜ਼", "ਆਮਦਨ ਸਰਟੀਫਿਕੇਟ", "ਟੈਸਟ ਵਿਭਾਗ", "ਵੈਧ", "ਜਾਰੀ ਮਿਤੀ")
    assert re.search(r"\d\d (ਜਨਵਰੀ|ਫ਼ਰਵਰੀ|ਮਾਰਚ|ਅਪ੍ਰੈਲ|ਮਈ|ਜੂਨ|ਜੁਲਾਈ|ਅਗਸਤ|ਸਤੰਬਰ|ਅਕਤੂਬਰ|ਨਵੰਬਰ|ਦਸੰਬਰ) 20\d\d", punjabi.text)
    # The choice is remembered on the next pages.
    assert_page(client.get(f"/locker/documents/{doc['id']}"), 200, '<html lang="pa">', "PDF ਡਾਊਨਲੋਡ ਕਰੋ")
    assert_page(client.get("/locker/uploads"), 200, '<html lang="pa">', "ਮੇਰੇ ਅੱਪਲੋਡ", "ਫਾਈਲ ਅੱਪਲੋਡ ਕਰੋ")
    assert_page(client.get("/locker/access-log"), 200, '<html lang="pa">', "ਅਜੇ ਤੱਕ ਕਿਸੇ ਨੇ ਤੁਹਾਡੇ ਦਸਤਾਵੇਜ਼ ਨਹੀਂ ਖੋਲ੍ਹੇ।")

    hindi = client.get(f"/locker/documents/{doc['id']}?lang=hi")
    assert_page(hindi, 200, '<html lang="hi">', "आय प्रमाण पत्र", "परीक्षण विभाग", "मान्य", "PDF डाउनलोड करें", "लिंक बनाएँ")
    assert_page(client.get("/locker/uploads"), 200, '<html lang="hi">', "मेरे अपलोड")
    assert_page(client.get("/locker/documents/nothing-here"), 404, '<html lang="hi">', "हमें यह आपके लॉकर में नहीं मिला।")


# --- share links ----------------------------------------------------------------------------


def test_share_link_is_shown_once_listed_and_revocable(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    sign_in_with_forms(client, backend, mobile)

    token, created = make_share(client, doc["id"], purpose="Home loan, ABC Bank")

    assert f"{backend.settings.public_base_url}/s/{token}" in created.text
    assert "shown only this once" in created.text
    page = client.get(f"/locker/documents/{doc['id']}")
    assert_page(page, 200, "Home loan, ABC Bank", 'data-state="active"', "Revoke link")
    assert token not in page.text  # only its hash is kept: it cannot be shown again
    # Reloading or switching language after making the link lands on the document's page.
    again = client.get(f"/locker/documents/{doc['id']}/shares?lang=pa", follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == f"/locker/documents/{doc['id']}?lang=pa"

    with another_client(backend) as recipient:
        shown = recipient.get(f"/s/{token}", headers={"User-Agent": "Mozilla/5.0 (Linux; Android 13) Chrome/120.0"})
        assert_page(shown, 200, "Valid", "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ", dept.department.name_en, f'href="/v/{doc["id"]}"')
        assert f'href="/s/{token}/download"' in shown.text
        assert "Sign out" not in shown.text
        assert "My documents" not in shown.text
        assert shown.headers["x-robots-tag"] == "noindex, nofollow"

        log = client.get("/locker/access-log")
        assert_page(log, 200, "Viewed", "Through your share link: Home loan, ABC Bank", "Chrome · Android")
        assert f'href="/locker/documents/{doc["id"]}"' in log.text

        revoked = client.post(
            f"/locker/shares/{share_id_of(page)}/revoke", data={"csrf": csrf_of(page)}, follow_redirects=False
        )
        assert revoked.status_code == 303
        assert_page(client.get(revoked.headers["location"]), 200, "The link has been revoked.", 'data-state="revoked"')

        for path in (f"/s/{token}", f"/s/{token}/download"):
            assert_page(recipient.get(path), 410, "This link no longer works", "has revoked the link")
    twice = client.post(f"/locker/shares/{share_id_of(page)}/revoke", data={"csrf": csrf_of(page)})
    assert_page(twice, 409, "already revoked")


def test_single_use_link_is_spent_by_one_download(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    sign_in_with_forms(client, backend, mobile)
    token, created = make_share(client, doc["id"], single_use="true")
    assert "It stops working after one download." in created.text

    with another_client(backend) as recipient:
        assert_page(recipient.get(f"/s/{token}"), 200, "This link works for one download only.")
        body = downloaded(backend, recipient.get(f"/s/{token}/download", follow_redirects=False))
        assert hashlib.sha256(body).hexdigest() == doc["sha256"]
        assert_page(recipient.get(f"/s/{token}/download"), 410, "for one download only, and it has been used")
        assert_page(recipient.get(f"/s/{token}"), 410, "This link no longer works")

    page = client.get(f"/locker/documents/{doc['id']}")
    assert_page(page, 200, 'data-state="used"', "Downloaded", "Through your share link")


def test_recipient_sees_the_live_status(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    sign_in_with_forms(client, backend, mobile)
    token, _ = make_share(client, doc["id"])
    with another_client(backend) as recipient:
        assert_page(recipient.get(f"/s/{token}"), 200, 'data-status="valid"')
        revoke_document(client, dept, doc["id"], "income was misreported")
        assert_page(
            recipient.get(f"/s/{token}?lang=pa"),
            200,
            'data-status="revoked"',
            "ਰੱਦ ਕੀਤਾ ਗਿਆ",
            "income was misreported",
            '<html lang="pa">',
        )


def test_unknown_share_link_is_a_404_page(client: TestClient) -> None:
    for path in ("/s/no-such-token", "/s/no-such-token/download", "/s/" + "x" * 100):
        assert_page(client.get(path), 404, "Link not found")


def test_share_form_is_checked(client: TestClient, backend: Backend, dept: IssuingDepartment) -> None:
    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    other = issue_to(client, dept, new_mobile())
    sign_in_with_forms(client, backend, mobile)
    csrf = csrf_of(client.get(f"/locker/documents/{doc['id']}"))
    too_long = client.post(f"/locker/documents/{doc['id']}/shares", data={"csrf": csrf, "days": "31"})
    assert_page(too_long, 422, "Some of the details entered are not valid.")
    not_mine = client.post(f"/locker/documents/{other['id']}/shares", data={"csrf": csrf, "days": "7"})
    assert_page(not_mine, 404, "We could not find that in your locker.")
    assert_page(client.post("/locker/shares/nothing/revoke", data={"csrf": csrf}), 404)


# --- uploads --------------------------------------------------------------------------------


def test_upload_list_download_and_delete(client: TestClient, backend: Backend) -> None:
    sign_in_with_forms(client, backend, new_mobile())
    csrf = csrf_of(client.get("/locker/uploads"))

    response = client.post(
        "/locker/uploads",
        data={"csrf": csrf, "title": "Ration card"},
        files={"file": ("ration card.png", PNG, "image/png")},
        follow_redirects=False,
    )

    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert_page(page, 200, "The file was uploaded.", "Ration card", 'class="badge unverified"')
    assert "Uploaded by you — not verified" in page.text
    upload_id = re.search(r'data-upload="([0-9a-z]+)"', page.text)
    assert upload_id
    download = client.get(f"/locker/uploads/{upload_id.group(1)}/download")
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert "filename*=UTF-8''ration%20card.png" in download.headers["content-disposition"]

    deleted = client.post(f"/locker/uploads/{upload_id.group(1)}/delete", data={"csrf": csrf})
    assert_page(deleted, 200, "The file was deleted.", "You have not uploaded any files.")
    assert_page(client.get(f"/locker/uploads/{upload_id.group(1)}/download"), 404)


def test_upload_of_a_wrong_type_is_a_415_page(client: TestClient, backend: Backend) -> None:
    sign_in_with_forms(client, backend, new_mobile())
    csrf = csrf_of(client.get("/locker/uploads?lang=pa"))
    response = client.post(
        "/locker/uploads",
        data={"csrf": csrf, "title": "Notes"},
        files={"file": ("notes.pdf", b"just some text", "application/pdf")},
    )
    assert_page(response, 415, "ਸਿਰਫ਼ PDF, JPG ਅਤੇ PNG ਫਾਈਲਾਂ ਅੱਪਲੋਡ ਹੋ ਸਕਦੀਆਂ ਹਨ।", 'value="Notes"')
    empty = client.post("/locker/uploads", data={"csrf": csrf}, files={"file": ("", b"", "application/octet-stream")})
    assert_page(empty, 422, "ਅੱਪਲੋਡ ਕਰਨ ਲਈ ਫਾਈਲ ਚੁਣੋ।")


def test_upload_over_the_limit_is_a_413_page(client: TestClient, backend: Backend) -> None:
    sign_in_with_forms(client, backend, new_mobile())
    csrf = csrf_of(client.get("/locker/uploads"))
    limit = backend.settings.locker_upload_max_bytes
    response = client.post(
        "/locker/uploads",
        data={"csrf": csrf},
        files={"file": ("scan.png", PNG + b"\x00" * (limit + 1 - len(PNG)), "image/png")},
    )
    assert_page(response, 413, f"This file is larger than {limit // 2**20} MB.")
    assert "You have not uploaded any files." in response.text


def test_forms_without_the_csrf_token_are_refused(
    client: TestClient, backend: Backend, dept: IssuingDepartment
) -> None:
    mobile = new_mobile()
    doc = issue_to(client, dept, mobile)
    sign_in_with_forms(client, backend, mobile)
    token, _ = make_share(client, doc["id"])
    page = client.get(f"/locker/documents/{doc['id']}")

    posts = [
        (f"/locker/documents/{doc['id']}/shares", {"days": "7"}, None),
        (f"/locker/shares/{share_id_of(page)}/revoke", {}, None),
        ("/locker/uploads", {"title": "x"}, {"file": ("a.png", PNG, "image/png")}),
        ("/locker/uploads/whatever/delete", {}, None),
    ]
    for path, data, files in posts:
        for csrf in (None, "forged-token"):
            form = data if csrf is None else {**data, "csrf": csrf}
            assert_page(client.post(path, data=form, files=files), 400, "The form expired.")
    # Nothing happened: the link still works and no file was kept.
    with another_client(backend) as recipient:
        assert_page(recipient.get(f"/s/{token}"), 200)
    assert "You have not uploaded any files." in client.get("/locker/uploads").text


@pytest.mark.parametrize("language", ["en", "pa", "hi"])
def test_the_sign_in_code_is_sent_in_the_pages_language(client: TestClient, backend: Backend, language: str) -> None:
    mobile = new_mobile()
    page = client.get(f"/locker/sign-in?lang={language}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf

    sent = client.post("/locker/sign-in/code", data={"csrf": csrf.group(1), "mobile": mobile})

    assert sent.status_code == 200
    with backend.context.sessions() as s:
        body = s.scalar(select(DevMessage.body).where(DevMessage.recipient == mobile))
    code = latest_code(backend, mobile)
    assert body == LOCKER_MESSAGES.translator(language)("signin.sms").format(code=code, minutes=5)
