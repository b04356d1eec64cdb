"""``python -m bench render``: what rendering one certificate costs, and issuing one in process.

Renders each template's example with the renderer the server builds (Typst), pinned to one
core, and reports per certificate the CPU time (what bounds throughput on a shared
machine) and the wall time, as the median and the 10th-90th percentile spread. Then
issues documents with ``issue_document`` in this process on the embedded deployment
(SQLite and a directory, ``sanad init`` + ``demo-seed``) at the deployment's default
signature level, and the same certificate signed at B-B, to show render's share. The
machine's load average is recorded with the figures: other work on it slows the wall
times, much less the CPU times. ``--record`` appends the run to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from app.context import AppContext
from bench.backends import deploy, development_pki
from bench.machine import REPO, describe_machine
from bench.report import Section, format_load, record_in_section
from bench.stages import _Stages, one_core
from bench.stats import percentile
from issuer.render import CertificateRenderer, IssuerInfo
from issuer.sign import DepartmentSigner
from issuer.templates import TemplateSpec, load_templates, validate_data
from sanad.i18n import LocalizedText

SECTION = Section(
    text=(
        "## Rendering (`python -m bench render`, `bench/render.py`)\n\n"
        "One certificate rendered on one core (CPU and wall ms per certificate: median and\n"
        "10th-90th percentile), and `issue_document` in process on the embedded deployment.\n\n"
        "<!-- render runs -->\n\n<!-- end render runs -->\n\n"
    ),
    runs="<!-- render runs -->",
    run="<!-- render run -->",
    end="<!-- end render runs -->",
)
ISSUER = IssuerInfo("REV", LocalizedText(en="Department of Revenue", pa="ਮਾਲ ਵਿਭਾਗ", hi="राजस्व विभाग"))


@dataclass(frozen=True)
class Timed:
    """Milliseconds per operation, CPU and wall, every sample."""

    name: str
    cpu: tuple[float, ...]
    wall: tuple[float, ...]

    def row(self) -> str:
        def cell(values: Sequence[float]) -> str:
            low, high = percentile(values, 10), percentile(values, 90)
            return f"{statistics.median(values):.1f} | {low:.1f}–{high:.1f}"

        return f"| {self.name} | {cell(self.cpu)} | {cell(self.wall)} | {len(self.cpu)} |"


def timed(name: str, operation: Callable[[int], object], count: int, warmup: int = 3) -> Timed:
    for i in range(warmup):
        operation(-1 - i)
    cpu: list[float] = []
    wall: list[float] = []
    for i in range(count):
        cpu_started, started = time.process_time(), time.perf_counter()
        operation(i)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    print(f"bench: {name}: {statistics.median(cpu):.1f} ms CPU (median)", flush=True)
    return Timed(name, tuple(cpu), tuple(wall))


def measure_renders(count: int) -> list[Timed]:
    templates = load_templates(REPO / "templates")
    renderer = CertificateRenderer(templates)
    results = []
    for name, spec in sorted(templates.items()):
        data = validate_data(spec, json.loads((spec.directory / "example.json").read_text("utf-8"))["data"])

        def render(i: int, spec: TemplateSpec = spec, data: dict[str, object] = data) -> bytes:
            document_id = f"bench{i + 10:021d}"
            return renderer.render(
                spec,
                document_id=document_id,
                verify_url=f"http://127.0.0.1:8000/v/{document_id}",
                data=data,
                issuer=ISSUER,
                issued_at=datetime.now(UTC),
                valid_until=None,
            )

        results.append(timed(f"render {name}", render, count))
    return results


def measure_issuing(count: int) -> list[Timed]:
    with deploy("embedded") as deployment:
        context = AppContext.build(deployment.settings())
        context.prepare_storage()
        with development_pki(deployment.env):
            stages = _Stages(deployment, context)
            plain = DepartmentSigner.load(Path(deployment.env["SANAD_KEYS_DIR"]), "REV")
            level = stages.signer.profile.level
            return [
                timed("render income-certificate (issuing objects)", stages.render, count),
                timed("render + sign at B-B", lambda i: plain.sign(stages.render(i)), count),
                timed(f"issue_document in process, default level ({level})", stages.issue_in_process(), count),
            ]


def render_table(rows: Sequence[Timed], renders: int, issues: int, load: tuple[float, float, float]) -> str:
    machine = describe_machine()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            f"### {started} · render · {renders} renders a template, {issues} documents issued",
            "",
            f"{machine.describe()}; load average {format_load(load)} (1/5/15 min) at the start",
            "",
            "| what, one core | CPU ms median | CPU p10–p90 | wall ms median | wall p10–p90 | samples |",
            "|---|---|---|---|---|---|",
            *(row.row() for row in rows),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench render", description=__doc__)
    parser.add_argument("--renders", type=int, default=60, help="renders of each template (default 60)")
    parser.add_argument("--issues", type=int, default=30, help="documents issued in process (default 30)")
    parser.add_argument("--record", action="store_true", help="append the run to bench/RESULTS.md")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    with one_core():
        rows = measure_renders(args.renders) + measure_issuing(args.issues)
    table = render_table(rows, args.renders, args.issues, load)
    print(table)
    if args.record:
        record_in_section(table, SECTION)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
