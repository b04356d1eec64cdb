"""The package graph runs one way (docs/architecture.md): import-linter checks the
contracts of ``[tool.importlinter]`` in pyproject.toml, and every package is in them."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The venv's own script, beside its python (not resolved: the venv's python is a link).
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def test_packages_import_only_the_packages_below_them() -> None:
    assert LINT_IMPORTS.exists(), (
        f"{LINT_IMPORTS} is missing: import-linter is a dev dependency (pip install -e '.[dev]')"
    )
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    assert result.returncode == 0, (
        "imports against the package graph of docs/architecture.md (lint-imports):\n" + result.stdout + result.stderr
    )


def test_every_package_has_a_layer() -> None:
    """A new top-level package must take its place in the graph before it ships."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    shipped = {pattern.rstrip("*") for pattern in config["tool"]["setuptools"]["packages"]["find"]["include"]}
    linter = config["tool"]["importlinter"]
    (contract,) = (c for c in linter["contracts"] if c["type"] == "layers")
    layered = {name.strip() for layer in contract["layers"] for name in layer.split("|")}
    assert set(linter["root_packages"]) == shipped
    assert layered == shipped
