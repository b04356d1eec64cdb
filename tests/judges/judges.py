"""Running the independent judges (EU DSS, veraPDF: Java programs under tests/judges/,
built and cached by scripts/judges.sh) and OpenSSL on signed files, and reading what
they say."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conftest import REPO, require_tool

JUDGES = REPO / "scripts" / "judges.sh"
# One JVM per judge validates every file; the first build downloads from Maven Central.
TIMEOUT = 900


def require_judges() -> None:
    """Java and Maven, or (in CI, under SANAD_REQUIRE_SERVICES=1) a failure saying so."""
    require_tool("java")
    require_tool("javac")
    require_tool("mvn")


def run_judge(name: str, arguments: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Run judge ``name`` once over every file in ``arguments``; its verdicts by file
    (veraPDF: by file and flavour, ``file|flavour``)."""
    done = subprocess.run(
        ["bash", str(JUDGES), "run", name, *arguments],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"judge {name} exited {done.returncode}: {done.stderr[-3000:]}")
    verdicts: dict[str, dict[str, Any]] = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            verdict = json.loads(line)
            key = verdict["file"] if "flavour" not in verdict else f"{verdict['file']}|{verdict['flavour']}"
            verdicts[key] = verdict
    return verdicts


def openssl(*arguments: str | Path) -> str:
    """OpenSSL's output (stdout and stderr); a non-zero exit fails."""
    done = subprocess.run(
        [require_tool("openssl"), *map(str, arguments)], capture_output=True, text=True, timeout=60, check=False
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise AssertionError(f"openssl {' '.join(map(str, arguments))} failed: {output}")
    return output
