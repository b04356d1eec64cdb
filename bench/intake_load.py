"""The intake requests sent to the real server: submissions, approvals, the pendency report.

Submissions and the pendency report are sent by wrk (``bench.wrk.run_counted``), approvals
by Python clients (each waits seconds for a certificate, so the client's cost does not
matter). Who calls is set up in the database, not through sign-in (the per-address OTP limit
would allow 20 citizens an hour): a pool of citizens each with a locker account and a
bearer session (only the token's SHA-256 is stored, as the locker does), a head office
session for pendency, and a department-wide approver for decisions. Every submission
comes from a different citizen and is the rev-income form with two attachments (a
~50 KB PNG and a ~101 KiB PDF) as one pre-encoded multipart body, so the client spends
little CPU on the machine it shares with the server.
"""

from __future__ import annotations

import itertools
import json
import random
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import psycopg

from bench.intake_seed import BENCH_MOBILE_PREFIX
from bench.locker_load import Clients, Operation
from bench.locker_seed import holder_pdf
from bench.wrk import Each
from sanad.ids import new_document_id, sha256_hex

SERVICE = "rev-income"
OFFICES = ("TEH-SMR", "TEH-LDH", "TEH-ASR", "TEH-PTL")
"""The catalogue's tehsils: submissions go to each in turn."""
BOUNDARY = "sanad-bench-intake-0a6f3c"
PNG_SIDE = 128
"""The PNG is PNG_SIDE² pixels of RGB noise: ~49 KB that do not compress."""
SESSION_LIFETIME = timedelta(hours=12)

FORM: dict[str, object] = {
    "applicant_name": "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
    "applicant_name_en": "Gurpreet Singh",
    "relation": "son_of",
    "relation_name": "ਹਰਜੀਤ ਸਿੰਘ",
    "relation_name_en": "Harjeet Singh",
    "address": "ਮਕਾਨ ਨੰਬਰ 112, ਵਾਰਡ 7, ਪਿੰਡ ਖੇੜੀ, ਡਾਕਖਾਨਾ ਸਮਰਾਲਾ",
    "address_en": "House No. 112, Ward 7, Village Kheri, Post Office Samrala",
    "district": "ਲੁਧਿਆਣਾ",
    "district_en": "Ludhiana",
    "annual_income": 240000,
    "financial_year": "2025-26",
    "purpose": "Scholarship application",
}


@dataclass(frozen=True)
class Citizen:
    mobile: str
    token: str


def png_attachment() -> bytes:
    """A valid RGB PNG of PNG_SIDE² random pixels (~49 KB), the same bytes every time."""
    rng = random.Random(7)
    rows = b"".join(b"\x00" + rng.randbytes(PNG_SIDE * 3) for _ in range(PNG_SIDE))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = PNG_SIDE.to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")


PDF_ATTACHMENT = holder_pdf("intake-affidavit")
PNG_ATTACHMENT = png_attachment()


def _part(name: str, value: bytes, *, filename: str | None = None, content_type: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


class SubmissionBody:
    """The multipart body of ``POST /api/v1/applications``, encoded once; per citizen only
    the form part (which carries their mobile number) and the office change."""

    content_type = f"multipart/form-data; boundary={BOUNDARY}"

    def __init__(self) -> None:
        self.files = (
            _part("attachment.aadhaar", PNG_ATTACHMENT, filename="aadhaar.png", content_type="image/png")
            + _part("attachment.affidavit", PDF_ATTACHMENT, filename="affidavit.pdf", content_type="application/pdf")
            + f"--{BOUNDARY}--\r\n".encode()
        )

    def head(self, mobile: str, office: str) -> bytes:
        """The text parts, which differ per citizen; the files follow."""
        form = json.dumps({**FORM, "mobile": mobile}, ensure_ascii=False).encode()
        return _part("service", SERVICE.encode()) + _part("office", office.encode()) + _part("form", form)

    def for_citizen(self, mobile: str, office: str) -> bytes:
        return self.head(mobile, office) + self.files

    @property
    def attachment_bytes(self) -> int:
        return len(PNG_ATTACHMENT) + len(PDF_ATTACHMENT)


# --- who calls -----------------------------------------------------------------------------


def signed_in_citizens(url: str, count: int) -> list[Citizen]:
    """``count`` citizens with a locker account and a live bearer session each, written
    straight into the database (COPY), as ``POST /api/v1/locker/session`` would leave them."""
    now = datetime.now(UTC)
    citizens = [Citizen(f"{BENCH_MOBILE_PREFIX}{i:08d}", secrets.token_urlsafe(32)) for i in range(count)]
    accounts = [new_document_id() for _ in citizens]
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy("COPY locker_accounts (id, mobile, storage_ref, created_at) FROM STDIN") as copy:
            for account, citizen in zip(accounts, citizens, strict=True):
                copy.write_row((account, citizen.mobile, secrets.token_hex(16), now))
        with cursor.copy("COPY locker_sessions (token_hash, account_id, created_at, expires_at) FROM STDIN") as copy:
            for account, citizen in zip(accounts, citizens, strict=True):
                copy.write_row((sha256_hex(citizen.token), account, now, now + SESSION_LIFETIME))
    return citizens


def staff_session(url: str, username: str) -> str:
    """A bearer token for an existing staff member, as ``POST /api/v1/staff/session`` makes."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT id FROM staff_users WHERE username = %s AND active", (username,)).fetchone()
        if row is None:
            raise RuntimeError(f"no staff member {username!r} (sanad demo-seed creates 'headoffice')")
        conn.execute(
            "INSERT INTO staff_sessions (token_hash, staff_id, created_at, expires_at) VALUES (%s, %s, %s, %s)",
            (sha256_hex(token), row[0], now, now + timedelta(hours=10)),
        )
    return token


def add_approver(url: str, username: str = "bench-approver") -> str:
    """A REV approver for every office (no password: it never signs in), with a session."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO staff_users (username, password_hash, full_name, role, department_id, office_code, active,"
            " created_at) SELECT %s, '!', 'Bench Approver, Tehsildar', 'approver', id, NULL, true, now()"
            " FROM departments WHERE code = 'REV' ON CONFLICT (username) DO NOTHING",
            (username,),
        )
    return staff_session(url, username)


# --- the operations -------------------------------------------------------------------------


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def submissions(citizens: Sequence[Citizen], body: SubmissionBody) -> Each:
    """``POST /api/v1/applications`` for wrk: each citizen once, with their own token and
    form (the offices taken in turn), the files' parts shared."""
    return Each(
        tokens=[c.token for c in citizens],
        heads=[body.head(c.mobile, OFFICES[k % len(OFFICES)]) for k, c in enumerate(citizens)],
    )


def submitted_numbers(url: str) -> list[str]:
    """The numbers of the applications this run's citizens submitted, oldest first."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT number FROM applications WHERE mobile LIKE %s AND status = 'submitted' ORDER BY submitted_at, id",
            (BENCH_MOBILE_PREFIX + "%",),
        ).fetchall()
    return [str(r[0]) for r in rows]


def check_submission(base_url: str, citizen: Citizen, body: SubmissionBody) -> str:
    """One submission through a plain client, its answer checked in full (wrk counts
    statuses only); returns the application number."""
    response = httpx.post(
        base_url + "/api/v1/applications",
        content=body.for_citizen(citizen.mobile, OFFICES[0]),
        headers={**_bearer(citizen.token), "Content-Type": body.content_type},
        timeout=60,
    )
    answer = response.json() if response.status_code == 201 else {}
    if answer.get("status") != "submitted" or len(answer.get("attachments", ())) != 2:
        raise RuntimeError(f"a submission answered {response.status_code}: {response.text[:300]}")
    return str(answer["number"])


def approve(numbers: Sequence[str], token: str) -> Operation:
    """``POST /api/v1/applications/{number}/decisions`` ``approve``: each application once;
    the answer must show the certificate issued."""
    counter = itertools.count()

    def operation(clients: Clients, _: int) -> str | None:
        k = next(counter)
        if k >= len(numbers):
            return "ran out of submitted applications to approve"
        response = clients.api.post(
            f"/api/v1/applications/{numbers[k]}/decisions", json={"action": "approve"}, headers=_bearer(token)
        )
        if response.status_code != 200:
            return f"HTTP {response.status_code}: {response.text[:200]}"
        answer = response.json()
        if answer["status"] != "issued" or not answer["document_id"]:
            return f"not issued: {response.text[:200]}"
        return None

    return operation


def check_pendency(base_url: str, token: str, expected_open: int | None) -> None:
    """``GET /api/v1/pendency`` once, its totals checked (wrk counts statuses only)."""
    response = httpx.get(base_url + "/api/v1/pendency", headers=_bearer(token), timeout=60)
    if response.status_code != 200:
        raise RuntimeError(f"pendency answered {response.status_code}: {response.text[:300]}")
    totals = response.json()["totals"]
    if expected_open is not None and totals["open"] != expected_open:
        raise RuntimeError(f"pendency shows {totals['open']} open instead of {expected_open}")
