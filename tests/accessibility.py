"""An accessibility check for the browser tests: axe-core (npm, pinned in
scripts/setup.sh) run inside the page Playwright shows, failing on any serious or
critical violation of WCAG 2.1 A/AA (colour contrast included).

The script is evaluated through the DevTools protocol, which the pages' content policy
(no scripts) does not apply to, so the pages are checked exactly as they are served."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page

AXE_VERSION = "4.14.1"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = frozenset({"serious", "critical"})


def axe_path() -> Path:
    """Where scripts/setup.sh put axe-core (or ``SANAD_AXE_JS``)."""
    if configured := os.environ.get("SANAD_AXE_JS"):
        return Path(configured)
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache_home / "sanad" / f"axe-core-{AXE_VERSION}" / "node_modules" / "axe-core" / "axe.min.js"


@cache
def _axe_source() -> str:
    return axe_path().read_text("utf-8")


def require_axe() -> None:
    """Skip without axe-core; in CI (or with the services required) fail instead."""
    if axe_path().is_file():
        return
    message = f"axe-core is not installed at {axe_path()} (scripts/setup.sh test installs it)"
    if os.environ.get("CI") or os.environ.get("SANAD_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    found: list[dict[str, Any]] = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations",
        TAGS,
    )
    return [v for v in found if v.get("impact") in FAILING_IMPACTS]


def assert_accessible(page: Page) -> None:
    """No serious or critical accessibility problem on the page; each one found is named
    with the elements it concerns."""
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:5]]}" for v in violations(page)
    ]
    assert problems == [], f"{page.url}: " + "; ".join(problems)
