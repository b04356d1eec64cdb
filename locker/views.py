"""The locker's pages: sign-in, sign-out and the landing redirect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from locker import signin
from locker.dependencies import Context, client_ip, page_holder, session_cookie_name
from locker.endpoints import OTP_POLICY
from locker.exceptions import CodeVoid, WrongCode
from locker.i18n import LANGUAGES, pick_language, translator
from locker.web import clear_session_cookie, csrf_ok, render, safe_next, set_session_cookie
from sanad.dependencies import DbSession
from sanad.errors import ServiceUnavailable, TooManyRequests
from sanad.mobile import masked_mobile, normalize_mobile

router = APIRouter(prefix="/locker", include_in_schema=False)


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


@router.get("")
def landing(request: Request, session: DbSession) -> Response:
    target = "/locker/documents" if page_holder(request, session) else "/locker/sign-in"
    return RedirectResponse(target, status_code=303)


@router.get("/sign-in")
def sign_in_form(request: Request, session: DbSession, next: str | None = None) -> Response:
    if page_holder(request, session):
        return RedirectResponse(safe_next(next), status_code=303)
    notice = None
    if request.query_params.get("signed_out"):
        notice = "signin.signed_out"
    elif next:
        notice = "signin.session_expired"
    return render(request, "sign_in.html", {"step": "mobile", "next": safe_next(next), "notice": notice})


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
    mobile: Annotated[str, Form(max_length=20)],
    csrf: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    t = translator(pick_language(request))
    values = {"step": "mobile", "next": safe_next(next), "mobile": mobile}
    if not csrf_ok(request, csrf):
        return render(request, "sign_in.html", {**values, "error": t("error.form_expired")}, status_code=400)
    try:
        number = normalize_mobile(mobile)
    except ValueError:
        return render(request, "sign_in.html", {**values, "error": t("error.invalid_mobile")}, status_code=422)
    try:
        signin.send_code(
            session,
            context.channel,
            context.settings.secret_key,
            OTP_POLICY,
            mobile=number,
            ip=client_ip(request),
            now=datetime.now(UTC),
        )
    except TooManyRequests as e:
        error = t("error.too_many", minutes=_minutes(e.retry_after_seconds))
        return render(request, "sign_in.html", {**values, "error": error}, status_code=429)
    except ServiceUnavailable:
        return render(request, "sign_in.html", {**values, "error": t("error.unavailable")}, status_code=503)
    return render(
        request,
        "sign_in.html",
        {
            "step": "code",
            "next": safe_next(next),
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
    csrf: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    t = translator(pick_language(request))
    values = {"step": "code", "next": safe_next(next), "mobile": mobile}
    if not csrf_ok(request, csrf):
        return render(request, "sign_in.html", {**values, "error": t("error.form_expired")}, status_code=400)
    try:
        number = normalize_mobile(mobile)
        signed_in = signin.sign_in(
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
        return render(
            request, "sign_in.html", {**values, "step": "mobile", "error": t("error.invalid_mobile")}, status_code=422
        )
    except WrongCode as e:
        return render(
            request, "sign_in.html", {**values, "error": t("error.wrong_code", left=e.attempts_left)}, status_code=401
        )
    except CodeVoid:
        return render(request, "sign_in.html", {**values, "error": t("error.code_void")}, status_code=401)
    except TooManyRequests as e:
        error = t("error.too_many", minutes=_minutes(e.retry_after_seconds))
        return render(request, "sign_in.html", {**values, "error": error}, status_code=429)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, context.settings, signed_in.token, int(context.settings.locker_session_hours * 3600))
    return response


@router.post("/sign-out")
def sign_out(request: Request, context: Context, session: DbSession) -> Response:
    token = request.cookies.get(session_cookie_name(context.settings))
    if token:  # ending a session needs no proof: at worst a forged form signs someone out
        signin.sign_out(session, token, datetime.now(UTC))
    response = RedirectResponse("/locker/sign-in?signed_out=1", status_code=303)
    clear_session_cookie(response, context.settings)
    return response
