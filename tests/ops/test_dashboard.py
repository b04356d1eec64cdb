"""The Grafana dashboard in docs/ asks only for metrics that ``/metrics`` serves."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import IssuingDepartment, income_certificate

DASHBOARD = Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json"
_METRIC = re.compile(r"\bsanad_[a-z_]+")


def _queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_every_metric_the_dashboard_queries_is_served(client: TestClient, dept: IssuingDepartment) -> None:
    client.post("/api/v1/documents", json=income_certificate(), headers=dept.headers)  # every family has a sample
    served = set(_METRIC.findall(client.get("/metrics").text))
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))

    queried = {name for expr in _queries(dashboard) for name in _METRIC.findall(expr)}

    assert queried, "the dashboard queries nothing"
    assert queried - served == set()


def test_the_dashboard_is_importable() -> None:
    dashboard = json.loads(DASHBOARD.read_text("utf-8"))

    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
    # Every query is scoped by the dashboard's job variable, so two deployments never mix.
    assert all('job=~"$job"' in expr for expr in _queries(dashboard))
