"""The signed-in citizen moves their locker to a new mobile number: the new number, then
the two codes (one sent to each number), then the move (:mod:`locker.mobile_change`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from accounts import mobile_change
from accounts.cookies import CITIZEN_COOKIE
from accounts.exceptions import CodeExpired, CodeVoid, NumberTaken, SameNumber, WrongCode
from accounts.models import LockerAccount
from locker.dependencies import Context
from locker.endpoints import OTP_POLICY
from locker.holder import Holder
from locker.mobile_change import Notices, move_locker
from locker.views_common import CITIZEN, PAGES, SignedIn
from sanad.dependencies import DbSession
from sanad.errors import ServiceUnavailable, TooManyRequests
from sanad.mobile import masked_mobile, normalize_mobile
from web.client import client_ip
from web.i18n import whole_minutes

router = APIRouter(prefix="/locker", include_in_schema=False, route_class=PAGES.route_class)

MOBILE = "/locker/mobile"

MobileForm = Annotated[Holder, Depends(CITIZEN.form(back=MOBILE))]
"""A form of the number change page, by the signed-in owner."""


def _account(session: Session, holder: Holder) -> LockerAccount:
    account = session.get(LockerAccount, holder.account_id)
    assert account is not None  # the holder was read from it in this request
    return account


def _page(request: Request, holder: Holder, status_code: int = 200, **values: Any) -> Response:
    return PAGES.render(
        request,
        "mobile.html",
        {"step": "number", "current": masked_mobile(holder.mobile), **values},
        status_code=status_code,
    )


@router.get("/mobile")
def number_form(request: Request, session: DbSession, holder: SignedIn) -> Response:
    """Ask for the new number; a change waiting for its codes is offered again."""
    waiting = mobile_change.pending(session, _account(session, holder), datetime.now(UTC))
    if request.query_params.get("done"):
        return _page(request, holder, notice="mobile.done")
    if waiting is not None and not request.query_params.get("restart"):
        return _page(request, holder, step="codes", new=masked_mobile(waiting.new_mobile))
    return _page(request, holder)


@router.post("/mobile/codes")
def send_codes(
    request: Request,
    context: Context,
    session: DbSession,
    holder: MobileForm,
    mobile: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Send one code to the locker's number and one to the new number."""
    t = PAGES.translator(request)
    try:
        new = normalize_mobile(mobile)
    except ValueError:
        return _page(request, holder, 422, mobile=mobile, error=t("error.invalid_mobile"))
    try:
        mobile_change.start(
            session,
            context.channel,
            context.settings.secret_key,
            OTP_POLICY,
            account=_account(session, holder),
            new_mobile=new,
            ip=client_ip(request),
            now=datetime.now(UTC),
            wording=mobile_change.Wording(to_old=t("mobile.sms_old"), to_new=t("mobile.sms_new")),
            masked=(masked_mobile(holder.mobile), masked_mobile(new)),
        )
    except SameNumber as e:
        return _page(request, holder, e.status_code, mobile=mobile, error=t("mobile.same_number"))
    except NumberTaken as e:
        return _page(request, holder, e.status_code, mobile=mobile, error=t("mobile.number_taken"))
    except TooManyRequests as e:
        error = t("error.too_many", minutes=whole_minutes(e.retry_after_seconds))
        return _page(request, holder, 429, mobile=mobile, error=error)
    except ServiceUnavailable:
        session.rollback()  # no code went out to one number without the other
        return _page(request, holder, 503, mobile=mobile, error=t("error.unavailable"))
    return _page(
        request,
        holder,
        step="codes",
        new=masked_mobile(new),
        notice_text=t("mobile.codes_sent", old=masked_mobile(holder.mobile), new=masked_mobile(new)),
    )


@router.post("/mobile")
def move(
    request: Request,
    context: Context,
    session: DbSession,
    holder: MobileForm,
    old_code: Annotated[str, Form(max_length=12)] = "",
    new_code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Move the locker when both codes are right; every other session is signed out."""
    t = PAGES.translator(request)
    account = _account(session, holder)
    waiting = mobile_change.pending(session, account, datetime.now(UTC))
    codes_step = {"step": "codes", "new": masked_mobile(waiting.new_mobile) if waiting else ""}
    try:
        move_locker(
            session,
            context.channel,
            context.settings.secret_key,
            OTP_POLICY,
            account=account,
            keep_token=CITIZEN_COOKIE.read(request) or "",
            old_code=old_code,
            new_code=new_code,
            ip=client_ip(request),
            now=datetime.now(UTC),
            notices=Notices(to_old=t("mobile.notice_old"), to_new=t("mobile.notice_new")),
        )
    except WrongCode as e:
        return _page(request, holder, e.status_code, **codes_step, error=t("mobile.wrong_codes", left=e.attempts_left))
    except CodeExpired as e:
        session.rollback()
        return _page(request, holder, e.status_code, error=t("mobile.expired"))
    except CodeVoid as e:
        session.rollback()
        return _page(request, holder, e.status_code, error=t("mobile.void"))
    except NumberTaken as e:
        session.rollback()  # nothing of the move is kept
        return _page(request, holder, e.status_code, error=t("mobile.number_taken"))
    except TooManyRequests as e:
        session.rollback()
        error = t("error.too_many", minutes=whole_minutes(e.retry_after_seconds))
        return _page(request, holder, 429, **codes_step, error=error)
    return RedirectResponse(f"{MOBILE}?done=1", status_code=303)
