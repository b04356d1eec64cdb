"""The renderer's engine is the Typst release the templates are made for: /ready names a
missing or different one, and production refuses to start without it."""

from __future__ import annotations

import tomllib
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from app.factory import create_app
from issuer import render_libraries
from issuer.render_libraries import TYPST_VERSION, missing_renderer_libraries
from sanad.settings import Environment
from tests.conftest import REPO, Backend


def test_this_machine_has_the_pinned_typst() -> None:
    assert missing_renderer_libraries() == []


def test_the_pin_in_pyproject_is_the_version_checked() -> None:
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    assert f"typst=={TYPST_VERSION}" in dependencies


def test_another_typst_release_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_libraries, "installed_typst_version", lambda: "0.99.0")

    assert missing_renderer_libraries() == [
        f"typst 0.99.0 is installed; the certificate templates are made for {TYPST_VERSION}"
    ]


def test_ready_names_a_missing_typst(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_libraries, "installed_typst_version", lambda: None)

    with TestClient(create_app(context=backend.context)) as client:
        ready = client.get("/ready")

    assert ready.status_code == 503
    assert "typst package is not installed" in ready.json()["renderer"]
    assert ready.json()["database"] == "ok"


def test_ready_with_every_library(backend: Backend) -> None:
    with TestClient(create_app(context=backend.context)) as client:
        ready = client.get("/ready")

    assert ready.status_code == 200
    assert ready.json()["renderer"] == "ok"


def test_production_refuses_to_start_without_typst(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_libraries, "installed_typst_version", lambda: None)
    settings = backend.context.settings.model_copy(update={"env": Environment.PRODUCTION})
    context = replace(backend.context, settings=settings)

    with pytest.raises(RuntimeError, match="typst package is not installed"), TestClient(create_app(context=context)):
        pass
