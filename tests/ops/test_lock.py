"""The lock files pin every Python dependency with hashes, were made from pyproject.toml's
current pins, and are what the set-up script and the image install."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEV_LOCK = REPO / "requirements-dev.lock"
RUNTIME_LOCK = REPO / "requirements.lock"
PIP_LOCK = REPO / "requirements-pip.lock"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, str]:
    """Package -> version; fails on any requirement without a pin or without a hash."""
    pins: dict[str, str] = {}
    body = "\n".join(line for line in path.read_text("utf-8").splitlines() if not line.startswith("#"))
    entries = re.split(r"\n(?=[A-Za-z0-9])", body)
    for entry in entries:
        match = _PIN.match(entry)
        assert match, f"{path.name}: not pinned with ==: {entry.splitlines()[0]}"
        assert "--hash=sha256:" in entry, f"{path.name}: {match[1]} has no hash"
        pins[_normal(match[1])] = match[2]
    return pins


def _direct_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    specs = [*project["dependencies"], *(s for group in project["optional-dependencies"].values() for s in group)]
    pins = {}
    for spec in specs:
        name, _, version = spec.partition("==")
        if version:
            pins[_normal(name.split("[")[0])] = version.strip()
    return pins


def test_the_locks_were_made_from_the_current_pyproject() -> None:
    # Fails after a dependency changes in pyproject.toml until `make lock` is run.
    check = subprocess.run(["bash", "scripts/lock.sh", "check"], cwd=REPO, capture_output=True, text=True)

    assert check.returncode == 0, check.stderr


def test_every_package_is_pinned_with_hashes_and_every_direct_pin_is_kept() -> None:
    dev = locked(DEV_LOCK)
    runtime = locked(RUNTIME_LOCK)

    for name, version in _direct_pins().items():
        assert dev.get(name) == version, f"{name}: pyproject pins {version}, the lock has {dev.get(name)}"
    # The image's set is the development set less the tools, at the same versions.
    assert {name: dev.get(name) for name in runtime} == runtime
    assert "pytest" in dev
    assert "pytest" not in runtime
    assert "prometheus-client" in runtime


def test_pip_itself_is_pinned_with_hashes_and_is_newer_than_a_venv_s_own() -> None:
    # A venv's own pip (23.2) refuses the dev lock: pip-audit asks for CacheControl[filecache].
    pins = locked(PIP_LOCK)

    assert list(pins) == ["pip"]
    assert tuple(int(part) for part in pins["pip"].split(".")[:2]) >= (24, 0)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("scripts/setup.sh", "pip install --require-hashes -r requirements-pip.lock"),
        ("scripts/setup.sh", "pip install --require-hashes -r requirements-dev.lock"),
        ("Dockerfile", "pip install --require-hashes -r /app/requirements-pip.lock"),
        ("Dockerfile", "pip install --require-hashes -r /app/requirements.lock"),
        ("Makefile", "bash scripts/lock.sh check"),
        ("Makefile", "bash scripts/audit.sh"),
    ],
)
def test_installs_go_through_the_lock(path: str, expected: str) -> None:
    assert expected in (REPO / path).read_text("utf-8")
