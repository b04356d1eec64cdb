"""A served app (one that builds its own context) does at start-up what a fresh worker's
first requests used to pay for: FastAPI's route handlers, the pendency report's settled
sums and statements; and it freezes what start-up built, so that a full garbage
collection in the middle of a request walks only what requests left behind."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from accounts.models import StaffRole
from app.factory import create_app
from intake import repository
from tests.conftest import Backend
from tests.intake.helpers import staff_headers


@pytest.fixture
def served(backend: Backend) -> Iterator[TestClient]:
    try:
        with TestClient(create_app(backend.settings)) as client:
            yield client
    finally:
        gc.unfreeze()  # the rest of the test run makes and drops many apps


def test_start_up_is_frozen(backend: Backend) -> None:
    before = gc.get_freeze_count()
    try:
        with TestClient(create_app(backend.settings)) as client:
            assert client.get("/health").status_code == 200
            frozen = gc.get_freeze_count() - before
    finally:
        gc.unfreeze()
    assert frozen > 50_000, "start-up builds the modules, routes and schemas"


def test_the_first_report_builds_nothing_and_reads_no_settled_month(
    served: TestClient, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []
    populate = fastapi.routing._populate_api_route_state

    def counting_populate(*args: Any, **kwargs: Any) -> Any:
        built.append(args)
        return populate(*args, **kwargs)

    settled_reads: list[str | None] = []
    histograms = repository.disposal_histograms

    def counting_histograms(*args: Any, **kwargs: Any) -> Any:
        settled_reads.append(kwargs.get("before"))
        return histograms(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "_populate_api_route_state", counting_populate)
    monkeypatch.setattr(repository, "disposal_histograms", counting_histograms)

    head_office = staff_headers(served, backend, StaffRole.HEAD_OFFICE, department=None)
    response = served.get("/api/v1/pendency", headers=head_office)

    assert response.status_code == 200, response.text
    assert built == []
    assert [before for before in settled_reads if before is not None] == [], "summed at start-up"


def test_an_app_given_its_context_leaves_the_collector_alone(backend: Backend) -> None:
    """Tests build many apps in one process: frozen, their garbage would stay for good."""
    before = gc.get_freeze_count()
    with TestClient(create_app(context=backend.context)) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() == before
