"""The citizen's own files: upload, list, download and delete; each marked unverified."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from locker import uploads
from locker.dependencies import Context, LockerContext
from locker.holder import Holder
from locker.views_common import CITIZEN, PAGES, SignedIn, file_size
from sanad.dependencies import DbSession
from sanad.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

router = APIRouter(prefix="/locker", include_in_schema=False, route_class=PAGES.route_class)

ACCEPT = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
DONE_NOTICES = {"uploaded": "uploads.uploaded_notice", "deleted": "uploads.deleted_notice"}
UPLOADS = "/locker/uploads"

UploadsForm = Annotated[Holder, Depends(CITIZEN.form(back=UPLOADS))]
"""A form of the uploads page, by the signed-in owner."""


def _uploads_page(
    request: Request,
    context: LockerContext,
    session: Session,
    holder: Holder,
    *,
    error: str | None = None,
    title: str = "",
    status_code: int = 200,
) -> Response:
    items = [{"upload": upload, "size": file_size(upload.size)} for upload in uploads.list_uploads(session, holder)]
    return PAGES.render(
        request,
        "uploads.html",
        {
            "items": items,
            "error": error,
            "title_value": title,
            "accept": ACCEPT,
            "max_mb": context.settings.locker_upload_max_bytes // 2**20,
            "notice": DONE_NOTICES.get(request.query_params.get("done", "")),
        },
        status_code=status_code,
    )


@router.get("/uploads")
def upload_list(request: Request, context: Context, session: DbSession, holder: SignedIn) -> Response:
    return _uploads_page(request, context, session, holder)


@router.post("/uploads")
def add_upload(
    request: Request,
    context: Context,
    session: DbSession,
    holder: UploadsForm,
    file: Annotated[UploadFile | None, File()] = None,
    title: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    t = PAGES.translator(request)
    limit = context.settings.locker_upload_max_bytes
    data = file.file.read(limit + 1) if file is not None else b""
    if not data:
        return _uploads_page(
            request, context, session, holder, error=t("uploads.no_file"), title=title, status_code=422
        )
    try:
        uploads.add_upload(
            session,
            context.store,
            holder,
            data=data,
            filename=file.filename if file else None,
            declared_type=file.content_type if file else None,
            title=title,
            max_bytes=limit,
            now=datetime.now(UTC),
        )
    except PayloadTooLarge as e:
        error = t("uploads.too_large", mb=limit // 2**20)
        return _uploads_page(request, context, session, holder, error=error, title=title, status_code=e.status_code)
    except UnsupportedMediaType as e:
        error = t("uploads.wrong_type")
        return _uploads_page(request, context, session, holder, error=error, title=title, status_code=e.status_code)
    except InvalidInput as e:
        error = t("error.invalid_input")
        return _uploads_page(request, context, session, holder, error=error, title=title, status_code=e.status_code)
    return RedirectResponse(f"{UPLOADS}?done=uploaded", status_code=303)


@router.get("/uploads/{upload_id}/download")
def upload_download(upload_id: str, context: Context, session: DbSession, holder: SignedIn) -> Response:
    upload, data = uploads.read_upload(session, context.store, holder, upload_id)
    # An ASCII name for every browser, and the citizen's own name for those that read RFC 6266.
    ascii_name = f"{upload.id}{EXTENSIONS.get(upload.content_type, '')}"
    own_name = quote(upload.filename, safe="")
    return Response(
        data,
        media_type=upload.content_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{own_name}",
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/uploads/{upload_id}/delete")
def delete_upload(upload_id: str, context: Context, session: DbSession, holder: UploadsForm) -> Response:
    uploads.delete_upload(session, context.store, holder, upload_id)
    return RedirectResponse(f"{UPLOADS}?done=deleted", status_code=303)
