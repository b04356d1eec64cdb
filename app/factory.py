"""The application factory: wires settings, the long-lived context and every domain's routes."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.context import AppContext
from app.jobs import start_in_process
from app.observability import router as metrics_router
from app.openapi import install_openapi
from app.operations import router as operations_router
from digilocker.routes import routers as digilocker_routers
from intake.appeals_endpoints import router as appeals_router
from intake.endpoints import router as intake_router
from intake.endpoints import submission_router
from intake.pendency import warm as warm_pendency
from intake.routes import routers as intake_page_routers
from issuer.batches_endpoints import router as batches_router
from issuer.endpoints import router as issuer_router
from issuer.lifecycle_endpoints import router as lifecycle_router
from issuer.render_libraries import missing_renderer_libraries
from locker.routes import routers as locker_routers
from sanad.clock import today_in_india
from sanad.errors import SanadError, ServiceUnavailable, Unauthorized
from sanad.jobs import uses_job_engine
from sanad.settings import Environment, Settings
from sanad.storage import ObjectMissing, StorageUnavailable
from trust.responder import pki_router
from verifier.endpoints import router as verifier_router
from verifier.offline_page import router as offline_page_router
from verifier.trust_endpoints import router as trust_router
from web.compression import CompressAnswers
from web.observe import Observe
from web.request_guard import BodyLimits, RequestGuard

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = str(ServiceUnavailable.retry_after_seconds)
UNAUTHORIZED_CHALLENGE = 'Bearer realm="sanad"'
#: The most field errors one 422 answer lists.
MAX_LISTED_ERRORS = 20
_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 408: "request_timeout", 413: "payload_too_large"}


def _error(
    status_code: int,
    code: str,
    detail: str,
    retry_after: int | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    if retry_after is None and status_code == 503:
        retry_after = ServiceUnavailable.retry_after_seconds
    answer_headers = dict(headers or {})
    if retry_after is not None:
        answer_headers["Retry-After"] = str(retry_after)
    return JSONResponse({"error": code, "detail": detail, **extra}, status_code=status_code, headers=answer_headers)


def _field_name(location: tuple[int | str, ...]) -> str:
    # ("body", "data", "annual_income") -> "data.annual_income"; headers keep their name.
    parts = [str(p) for p in location[1:]] if location and location[0] in ("body", "header", "query", "path") else []
    return ".".join(parts) or ".".join(str(p) for p in location)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SanadError)
    async def sanad_error(_: Request, exc: SanadError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if hasattr(exc, "errors"):
            extra["fields"] = [{"field": e.field, "message": e.message} for e in exc.errors]
        extra |= getattr(exc, "extra", {})  # what a program needs besides the code, e.g. the number it clashed with
        retry_after = getattr(exc, "retry_after_seconds", None)
        if retry_after is not None:
            extra["retry_after_seconds"] = retry_after
        # A 401 names the scheme that would be accepted (RFC 9110 §15.5.2).
        headers = {"WWW-Authenticate": UNAUTHORIZED_CHALLENGE} if isinstance(exc, Unauthorized) else None
        return _error(exc.status_code, exc.code, exc.message, retry_after, headers=headers, **extra)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_ERROR_CODES.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        fields = []
        # The answer lists a bounded number of problems: enough to fix a form, never an
        # echo of everything a hostile body got wrong.
        for error in errors[:MAX_LISTED_ERRORS]:
            message = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
            fields.append({"field": _field_name(tuple(error["loc"])), "message": message})
        detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        if len(errors) > MAX_LISTED_ERRORS:
            detail += f"; and {len(errors) - MAX_LISTED_ERRORS} more problems"
        return _error(422, "invalid_input", detail, fields=jsonable_encoder(fields))

    @app.exception_handler(OperationalError)
    async def database_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return _error(503, "database_unavailable", "the database is unavailable; retry shortly")

    @app.exception_handler(DBAPIError)
    async def database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return _error(503, "database_unavailable", "the database connection was lost; retry shortly")
        log.error("database error", exc_info=exc)
        return _error(500, "internal_error", "an internal error occurred")

    @app.exception_handler(StaleDataError)
    async def concurrent_change(_: Request, exc: StaleDataError) -> JSONResponse:
        # A versioned row changed between our read and our write: the other writer won.
        return _error(409, "conflict", "someone else changed this at the same moment; reload it and try again")

    @app.exception_handler(ObjectMissing)
    async def object_missing(_: Request, exc: ObjectMissing) -> JSONResponse:
        log.error("registry row without its object: %s", exc)
        return _error(500, "content_missing", "the document's content is missing from storage")


def _check_renderer_libraries(settings: Settings) -> None:
    """A production server without the Typst release the templates are made for could
    print certificates differently: it refuses to start. Elsewhere the log and ``/ready``
    say what is missing."""
    missing = missing_renderer_libraries()
    if not missing:
        return
    if settings.env == Environment.PRODUCTION:
        raise RuntimeError("the renderer is not as the templates need: " + "; ".join(missing))
    for problem in missing:
        log.error("renderer: %s (run scripts/setup.sh python)", problem)


def _build_route_handlers(app: FastAPI) -> None:
    """Builds now what FastAPI builds for an included router's routes when a request first
    passes through it: each worker's first request of a router took 100-150 ms more CPU."""
    pending = list(app.router.routes)
    while pending:
        route = pending.pop()
        build = getattr(route, "effective_candidates", None)  # FastAPI's included routers
        if callable(build):
            pending.extend(build())
            getattr(route, "effective_low_priority_routes", list)()


def create_app(settings: Settings | None = None, *, context: AppContext | None = None) -> FastAPI:
    """Build the app. Tests pass their own ``context``; otherwise one is built at start-up."""
    settings = context.settings if context else (settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = context is None
        app.state.context = context or AppContext.build(settings)
        try:
            app.state.context.prepare_storage()
        except StorageUnavailable:
            log.warning("object storage unreachable at start-up; /ready will say so")
        _check_renderer_libraries(settings)
        try:
            app.state.context.load_signing_keys()
        except DBAPIError:
            log.warning("database unreachable at start-up; keys will load on first use")
        app.state.context.lookups.start()  # the QR target's cache serves once it hears changes
        if owned and settings.in_process_worker and not uses_job_engine(settings):
            start_in_process(app.state.context)
        if owned:
            _build_route_handlers(app)
            try:
                warm_pendency(app.state.context.sessions, today_in_india())
            except DBAPIError:
                log.warning("database unreachable at start-up; the pendency report warms on first use")
            # What start-up built (modules, routes, schemas: ~250,000 objects) lives as long
            # as the process. Left to the collector, every full collection walked all of it
            # in the middle of some request: 50-100 ms, the slowest answers of the pendency
            # report. Frozen, a full collection walks only what requests left (< 1 ms).
            gc.collect()
            gc.freeze()
        yield
        if owned:
            app.state.context.close()

    app = FastAPI(
        title="Sanad",
        version="1.0",
        summary="Issue, store and verify signed government certificates.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(
        RequestGuard,
        limits=BodyLimits(
            max_body_bytes=settings.max_upload_bytes,
            max_json_bytes=settings.max_json_bytes,
            max_form_bytes=settings.max_form_bytes,
            max_json_members=settings.max_json_members,
            max_json_depth=settings.max_json_depth,
            read_timeout_seconds=settings.body_read_timeout_seconds,
        ),
    )
    app.add_middleware(CompressAnswers)
    # Added last, so outermost: its request id and timing cover every answer.
    app.add_middleware(Observe)
    # FastAPI tries routers in the order they were included, every route of each, so the
    # routes read most (probes, the QR target, trust material, the locker) go first: a
    # request for them is not matched against a hundred others. No two routes share a
    # path (tests/app/test_route_order.py), so the order changes nothing else.
    app.include_router(operations_router)
    # Submissions, the busiest write, are routes of the app itself rather than of an
    # included router: a direct route is matched by its one pattern, where reaching
    # intake's router walked some 90 routes of the routers before it (~200 µs a request).
    app.router.routes.extend(submission_router.routes)
    app.include_router(verifier_router)
    app.include_router(trust_router)
    for router in locker_routers:
        app.include_router(router)
    app.include_router(metrics_router)
    app.include_router(issuer_router)
    app.include_router(lifecycle_router)
    app.include_router(batches_router)
    app.include_router(offline_page_router)
    if settings.pki_responder:
        app.include_router(pki_router(lambda: settings.keys_dir))
    app.include_router(intake_router)
    app.include_router(appeals_router)
    for router in intake_page_routers:
        app.include_router(router)
    for router in digilocker_routers:
        app.include_router(router)
    app.mount(
        "/static/locker", StaticFiles(directory=Path(__file__).parent.parent / "locker" / "static"), name="locker"
    )
    app.mount("/static/intake", StaticFiles(packages=[("intake", "static")]), name="intake")
    app.mount("/static/fonts", StaticFiles(directory=settings.templates_dir / "fonts"), name="fonts")
    app.mount("/static", StaticFiles(directory=Path(__file__).parent.parent / "verifier" / "static"), name="static")

    return app
