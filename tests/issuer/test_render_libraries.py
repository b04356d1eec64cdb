"""A renderer without HarfBuzz's subsetter is ~10x slower: /ready says so, production refuses to start."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from weasyprint.text import ffi as weasyprint_ffi

from app.factory import create_app
from issuer.render_libraries import missing_renderer_libraries
from sanad.settings import Environment
from tests.conftest import Backend


def test_this_machine_has_the_fast_subsetter() -> None:
    # scripts/setup.sh installs it for `make run` as well as for the suite.
    assert missing_renderer_libraries() == []


def test_ready_names_the_missing_subsetter(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weasyprint_ffi, "harfbuzz_subset", None)

    with TestClient(create_app(context=backend.context)) as client:
        ready = client.get("/ready")

    assert ready.status_code == 503
    assert "libharfbuzz-subset0" in ready.json()["renderer"]
    assert ready.json()["database"] == "ok"


def test_ready_with_every_library(backend: Backend) -> None:
    with TestClient(create_app(context=backend.context)) as client:
        ready = client.get("/ready")

    assert ready.status_code == 200
    assert ready.json()["renderer"] == "ok"


def test_production_refuses_to_start_without_the_subsetter(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(weasyprint_ffi, "harfbuzz_subset", None)
    settings = backend.context.settings.model_copy(update={"env": Environment.PRODUCTION})
    context = replace(backend.context, settings=settings)

    with pytest.raises(RuntimeError, match="libharfbuzz-subset0"), TestClient(create_app(context=context)):
        pass
