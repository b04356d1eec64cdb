"""The verifier's pages in plain words: which headline a verdict gets (a bank clerk reads
"Altered after signing — do not accept", not a reason code), and rendering those pages in
the reader's language. The codes stay in the API and behind the pages' technical details."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fastapi import Request, Response

from sanad.errors import PayloadTooLarge, SanadError, ServiceUnavailable, TooManyRequests
from sanad.i18n import LANGUAGE_NAMES, LANGUAGES
from verifier.verdict import Indication, Reason
from web.i18n import Messages, pick_language, whole_minutes
from web.pages import language_url
from web.templates import page_templates

MESSAGES = Messages(Path(__file__).with_name("messages.yaml"))
TEMPLATES = page_templates(Path(__file__).with_name("pages"))

HEADLINES: tuple[tuple[str, frozenset[Reason]], ...] = (
    (
        "altered",
        frozenset(
            {
                Reason.DIGEST_MISMATCH,
                Reason.SIGNATURE_INVALID,
                Reason.NOT_ENTIRE_FILE,
                Reason.MODIFIED_AFTER_SIGNING,
                Reason.FORMAT_FAILURE,
            }
        ),
    ),
    ("unsigned", frozenset({Reason.NO_SIGNATURE, Reason.NOT_CERTIFIED, Reason.MULTIPLE_SIGNATURES})),
    ("unknown_issuer", frozenset({Reason.UNTRUSTED_SIGNER, Reason.SIGNER_MISMATCH, Reason.NOT_IN_REGISTRY})),
    ("revoked", frozenset({Reason.REVOKED, Reason.SIGNER_REVOKED})),
    ("superseded", frozenset({Reason.SUPERSEDED})),
    ("suspended", frozenset({Reason.SUSPENDED})),
    ("expired", frozenset({Reason.EXPIRED})),
)
"""The headline of a failed check, most serious first: a file both altered and expired
reads "altered"."""
TONES = {"genuine": "ok", "unconfirmed": "warn", "expired": "warn"}
"""Every other headline is a refusal ("bad")."""


def headline(indication: str, reason_codes: Iterable[str]) -> str:
    """``genuine``, ``unconfirmed`` or the most serious of :data:`HEADLINES` for a verdict."""
    if indication == Indication.TOTAL_PASSED:
        return "genuine"
    codes = set(reason_codes)
    for name, reasons in HEADLINES:
        if codes & reasons:
            return name
    return "unconfirmed" if indication == Indication.INDETERMINATE else "altered"


def tone(name: str) -> str:
    return TONES.get(name, "bad")


def grouped(document_id: str) -> str:
    """A certificate number as a person reads it out: upper case in groups of four
    (``7QK2 M4XA …``), the spelling the QR code prints."""
    text = document_id.upper()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


TEMPLATES.env.filters["grouped"] = grouped


def render(request: Request, template: str, values: dict[str, Any], *, status_code: int = 200) -> Response:
    """A verifier page in the reader's language (``?lang=``, the remembered choice, the
    browser's), with the links to the other languages. No cookie is set: these pages are
    public and cached by their tag."""
    language = pick_language(request)
    context = {
        "lang": language,
        "t": MESSAGES.translator(language),
        "languages": [(code, LANGUAGE_NAMES[code], language_url(request, code)) for code in LANGUAGES],
        "headline": headline,
        "tone": tone,
        **values,
    }
    response = TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Content-Language"] = language
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"
    return response


def why_not_checked(request: Request, error: SanadError) -> str:
    """Why a file could not be checked at all, in the reader's language."""
    t = MESSAGES.translator(pick_language(request))
    if isinstance(error, TooManyRequests):
        return t("error.too_many", minutes=whole_minutes(error.retry_after_seconds))
    if isinstance(error, PayloadTooLarge):
        return t("error.too_large")
    if isinstance(error, ServiceUnavailable):
        return t("error.busy")
    return t("error.not_pdf")
