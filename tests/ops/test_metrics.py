"""``/metrics``: request latency by route template, issuing stages, verification outcomes,
signing errors, job queues and Right to Service Act pendency — on both backends."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from app.context import AppContext
from app.factory import create_app
from intake.models import Application
from sanad.settings import Environment
from tests.conftest import Backend, IssuingDepartment, client_address, income_certificate
from tests.intake.helpers import apply, ensure_department
from tests.locker.conftest import new_mobile, sign_in
from tests.ops.helpers import scrape, total, value
from trust.local import free_port

REQUESTS = "sanad_http_request_duration_seconds_count"


def test_request_latency_is_labelled_by_route_template_never_by_raw_path(client: TestClient) -> None:
    ids = [secrets.token_hex(8).upper() for _ in range(3)]
    before = scrape(client)

    for document_id in ids:
        client.get(f"/v/{document_id}", headers={"Accept": "application/json"})
    client.get(f"/no-such-page/{ids[0]}")

    after = scrape(client)
    series = {"method": "GET", "route": "/v/{document_id}", "status": "404"}
    assert value(after, REQUESTS, **series) - value(before, REQUESTS, **series) == 3
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert value(after, REQUESTS, **unmatched) - value(before, REQUESTS, **unmatched) == 1
    text_form = client.get("/metrics").text
    assert not any(document_id in text_form for document_id in ids)


def test_issuing_times_render_sign_and_store_and_counts_the_level(client: TestClient, dept: IssuingDepartment) -> None:
    before = scrape(client)

    response = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)

    assert response.status_code == 201, response.text
    after = scrape(client)
    for stage in ("render", "sign", "store"):
        name = "sanad_issue_stage_duration_seconds_count"
        assert value(after, name, stage=stage) - value(before, name, stage=stage) == 1
        assert value(after, "sanad_issue_stage_duration_seconds_sum", stage=stage) > 0
    issued = "sanad_documents_issued_total"
    assert value(after, issued, level="B-LTA") - value(before, issued, level="B-LTA") == 1
    route = {"method": "POST", "route": "/api/v1/documents", "status": "201"}
    assert value(after, REQUESTS, **route) - value(before, REQUESTS, **route) == 1


def test_verification_outcomes_are_counted_by_indication(client: TestClient, dept: IssuingDepartment) -> None:
    issued = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers).json()
    pdf = client.get(f"/api/v1/documents/{issued['id']}/content", headers=dept.headers).content
    before = scrape(client)

    passed = client.post("/api/v1/verify", files={"file": ("c.pdf", pdf, "application/pdf")})
    tampered = client.post("/api/v1/verify", files={"file": ("c.pdf", pdf.replace(b"/Type", b"/Tipe", 1), "x")})
    refused = client.post("/api/v1/verify", files={"file": ("c.pdf", b"not a pdf at all", "application/pdf")})

    assert passed.json()["indication"] == "TOTAL_PASSED"
    assert tampered.json()["indication"] == "TOTAL_FAILED"
    assert refused.status_code == 400
    after = scrape(client)
    name = "sanad_verifications_total"
    for indication in ("TOTAL_PASSED", "TOTAL_FAILED"):
        assert value(after, name, indication=indication) - value(before, name, indication=indication) == 1
    # A file refused before any check is no verdict: its route's 400s count it.
    assert total(after, name) - total(before, name) == 2
    route = {"method": "POST", "route": "/api/v1/verify", "status": "400"}
    assert value(after, REQUESTS, **route) - value(before, REQUESTS, **route) == 1


def test_an_unreachable_timestamp_authority_is_counted_as_a_signing_error(
    backend: Backend, dept: IssuingDepartment
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/pki/tsa"
    settings = backend.settings.model_copy(update={"tsa_url": closed})
    context = AppContext.assemble(
        settings, backend.engine, backend.store, backend.context.kit.templates, backend.context.kit.renderer
    )
    with TestClient(create_app(context=context), client=client_address()) as client:
        before = scrape(client)

        response = client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)

        assert response.status_code == 503
        assert response.headers["Retry-After"]
        after = scrape(client)
    name = "sanad_issue_errors_total"
    labels = {"stage": "sign", "error": "signing_unavailable"}
    assert value(after, name, **labels) - value(before, name, **labels) == 1


def test_job_queue_depth_and_age(client: TestClient, backend: Backend) -> None:
    context = backend.context
    queue = "periodic" if backend.name == "postgres-minio" else "local"
    before = scrape(client)

    with context.sessions() as session:
        context.jobs.defer(session, "intake:deliver_notices", {}, queueing_lock=f"ops-test-{secrets.token_hex(4)}")
        session.commit()

    try:
        after = scrape(client)
        assert (
            value(after, "sanad_job_queue_depth", queue=queue) - value(before, "sanad_job_queue_depth", queue=queue)
            == 1
        )
        assert 0 <= value(after, "sanad_job_queue_oldest_age_seconds", queue=queue) < 3600
        assert value(after, "sanad_scrape_figures_up") == 1
    finally:
        if backend.name == "postgres-minio":
            with context.engine.begin() as connection:
                connection.execute(
                    text("UPDATE procrastinate_jobs SET status = 'cancelled' WHERE queueing_lock LIKE 'ops-test-%'")
                )
        else:
            context.jobs.run_pending(context)


def test_open_and_overdue_applications_under_the_rts_act(client: TestClient, backend: Backend) -> None:
    ensure_department(backend, "REV")
    headers = sign_in(client, backend, new_mobile())
    before = scrape(client)

    submitted = apply(client, headers)
    assert submitted.status_code == 201, submitted.text
    middle = scrape(client)
    with backend.context.sessions() as session:
        session.execute(
            update(Application)
            .where(Application.number == submitted.json()["number"])
            .values(due_on=date.today() - timedelta(days=3))
        )
        session.commit()
    after = scrape(client)

    where = {"department": "REV", "service": "rev-income"}
    opened = "sanad_rts_open_applications"
    assert total(middle, opened, **where) - total(before, opened, **where) == 1
    assert value(middle, opened, status="submitted", **where) >= 1
    overdue = "sanad_rts_overdue_applications"
    assert value(after, overdue, **where) - value(middle, overdue, **where) == 1


def _with_settings(backend: Backend, **changes: object) -> AppContext:
    settings = backend.settings.model_copy(update=changes)
    return dataclasses.replace(backend.context, settings=settings)


def test_a_metrics_token_is_required_when_one_is_set(backend: Backend) -> None:
    token = secrets.token_urlsafe(24)
    context = _with_settings(backend, metrics_token=token)
    with TestClient(create_app(context=context), client=client_address()) as client:
        missing = client.get("/metrics")
        wrong = client.get("/metrics", headers={"Authorization": f"Bearer {token}x"})
        right = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "sanad_http_request_duration_seconds" in right.text


def test_production_without_a_token_does_not_serve_metrics(backend: Backend) -> None:
    context = _with_settings(backend, env=Environment.PRODUCTION, metrics_token=None)
    with TestClient(create_app(context=context), client=client_address()) as client:
        answer = client.get("/metrics")

    assert answer.status_code == 404
    assert "sanad_" not in answer.text


def test_metrics_are_not_in_the_public_api_description(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize("backend", ["embedded"], indirect=True)
def test_an_unreadable_database_keeps_the_scrape_answering(backend: Backend) -> None:
    from sqlalchemy import create_engine

    broken = create_engine("sqlite:////nonexistent/dir/sanad.db")
    context = dataclasses.replace(backend.context, sessions=backend.context.sessions.__class__(bind=broken))
    with TestClient(create_app(context=context), client=client_address()) as client:
        samples = scrape(client)

    assert value(samples, "sanad_scrape_figures_up") == 0
