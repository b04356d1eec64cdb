"""The locker's pages: sign-in with a one-time code (:mod:`accounts.citizens`), sign-out
and the landing redirect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from accounts import citizens
from accounts.cookies import CITIZEN_COOKIE
from accounts.exceptions import CodeVoid, WrongCode
from locker.dependencies import Context, PageHolder
from locker.endpoints import OTP_POLICY
from locker.views_common import DOCUMENTS, PAGES
from sanad.dependencies import DbSession
from sanad.errors import ServiceUnavailable, TooManyRequests
from sanad.i18n import LANGUAGES
from sanad.mobile import masked_mobile, normalize_mobile
from web.client import client_ip
from web.csrf import CsrfValid
from web.i18n import whole_minutes
from web.navigation import safe_next

router = APIRouter(prefix="/locker", include_in_schema=False)


@router.get("")
def landing(holder: PageHolder) -> Response:
    return RedirectResponse(DOCUMENTS if holder else "/locker/sign-in", status_code=303)


@router.get("/sign-in")
def sign_in_form(request: Request, holder: PageHolder, next: str | None = None) -> Response:
    if holder:
        return RedirectResponse(safe_next(next, DOCUMENTS), status_code=303)
    notice = None
    if request.query_params.get("signed_out"):
        notice = "signin.signed_out"
    elif next:
        notice = "signin.session_expired"
    return PAGES.render(
        request, "sign_in.html", {"step": "mobile", "next": safe_next(next, DOCUMENTS), "notice": notice}
    )


@router.get("/sign-in/code")
def send_code_page(request: Request) -> Response:
    """A reload or language switch on the code step: start again at the number."""
    lang = request.query_params.get("lang")
    return RedirectResponse("/locker/sign-in" + (f"?lang={lang}" if lang in LANGUAGES else ""), status_code=303)


@router.post("/sign-in/code")
def send_code(
    request: Request,
    context: Context,
    session: DbSession,
    genuine: CsrfValid,
    mobile: Annotated[str, Form(max_length=20)],
    next: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    t = PAGES.translator(request)
    values = {"step": "mobile", "next": safe_next(next, DOCUMENTS), "mobile": mobile}
    if not genuine:
        return PAGES.render(request, "sign_in.html", {**values, "error": t("error.form_expired")}, status_code=400)
    try:
        number = normalize_mobile(mobile)
    except ValueError:
        return PAGES.render(request, "sign_in.html", {**values, "error": t("error.invalid_mobile")}, status_code=422)
    try:
        citizens.send_code(
            session,
            context.channel,
            context.settings.secret_key,
            OTP_POLICY,
            mobile=number,
            ip=client_ip(request),
            now=datetime.now(UTC),
            wording=t("signin.sms"),  # the message in the page's language: {code}, {minutes}
        )
    except TooManyRequests as e:
        error = t("error.too_many", minutes=whole_minutes(e.retry_after_seconds))
        return PAGES.render(request, "sign_in.html", {**values, "error": error}, status_code=429)
    except ServiceUnavailable:
        return PAGES.render(request, "sign_in.html", {**values, "error": t("error.unavailable")}, status_code=503)
    return PAGES.render(
        request,
        "sign_in.html",
        {
            "step": "code",
            "next": safe_next(next, DOCUMENTS),
            "mobile": number,
            "notice_text": t("signin.code_sent", mobile=masked_mobile(number)),
        },
    )


@router.post("/sign-in")
def sign_in(
    request: Request,
    context: Context,
    session: DbSession,
    mobile: Annotated[str, Form(max_length=20)],
    code: Annotated[str, Form(max_length=12)],
    genuine: CsrfValid,
    next: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    t = PAGES.translator(request)
    values = {"step": "code", "next": safe_next(next, DOCUMENTS), "mobile": mobile}
    if not genuine:
        return PAGES.render(request, "sign_in.html", {**values, "error": t("error.form_expired")}, status_code=400)
    try:
        number = normalize_mobile(mobile)
        signed_in = citizens.sign_in(
            session,
            context.settings.secret_key,
            OTP_POLICY,
            mobile=number,
            code=code,
            ip=client_ip(request),
            now=datetime.now(UTC),
            session_lifetime=timedelta(hours=context.settings.locker_session_hours),
        )
    except ValueError:
        return PAGES.render(
            request, "sign_in.html", {**values, "step": "mobile", "error": t("error.invalid_mobile")}, status_code=422
        )
    except WrongCode as e:
        return PAGES.render(
            request, "sign_in.html", {**values, "error": t("error.wrong_code", left=e.attempts_left)}, status_code=401
        )
    except CodeVoid:
        return PAGES.render(request, "sign_in.html", {**values, "error": t("error.code_void")}, status_code=401)
    except TooManyRequests as e:
        error = t("error.too_many", minutes=whole_minutes(e.retry_after_seconds))
        return PAGES.render(request, "sign_in.html", {**values, "error": error}, status_code=429)
    response = RedirectResponse(safe_next(next, DOCUMENTS), status_code=303)
    CITIZEN_COOKIE.set(response, context.settings, signed_in.token, int(context.settings.locker_session_hours * 3600))
    return response


@router.post("/sign-out")
def sign_out(request: Request, context: Context, session: DbSession) -> Response:
    token = CITIZEN_COOKIE.read(request)
    if token:  # ending a session needs no proof: at worst a forged form signs someone out
        citizens.sign_out(session, token, datetime.now(UTC))
    response = RedirectResponse("/locker/sign-in?signed_out=1", status_code=303)
    CITIZEN_COOKIE.clear(response, context.settings)
    return response
