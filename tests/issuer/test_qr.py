"""The QR code SVG: exactly segno's symbol, a 4-module quiet zone, and it scans."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import segno
from PIL import Image

from issuer.qr import QUIET_ZONE, qr_svg
from tests.conftest import require_tool

URL = "http://127.0.0.1:8000/v/k7q3xz5m2v9n4c8b6w1r0t5y3a"
LONG_URL = "https://verify.sanad.punjab.gov.in/v/k7q3xz5m2v9n4c8b6w1r0t5y3a?lang=pa"
SVG = "{http://www.w3.org/2000/svg}"


def dark_modules(svg: str) -> tuple[int, set[tuple[int, int]]]:
    """Read the symbol back out of the SVG: its size and the dark (x, y) cells."""
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    _, _, width, height = (int(v) for v in root.attrib["viewBox"].split())
    assert width == height
    path = root.find(f"{SVG}path")
    assert path is not None
    cells: set[tuple[int, int]] = set()
    for x, y, run in re.findall(r"M(\d+) (\d+)\.5h(\d+)", path.attrib["d"]):
        cells.update((int(x) + i, int(y)) for i in range(int(run)))
    assert re.sub(r"M\d+ \d+\.5h\d+", "", path.attrib["d"]) == ""  # nothing else in the path
    return width, cells


@pytest.mark.parametrize("url", [URL, LONG_URL])
def test_svg_draws_exactly_the_qr_symbol_with_quiet_zone(url: str) -> None:
    size, cells = dark_modules(qr_svg(url))
    # The format information inside the matrix pins the error level (M or better) and mask.
    symbol = segno.make(url, error="m", mask=0, micro=False)
    assert symbol.error in {"M", "Q", "H"}
    expected = {
        (x + QUIET_ZONE, y + QUIET_ZONE) for y, row in enumerate(symbol.matrix) for x, dark in enumerate(row) if dark
    }
    assert size == len(symbol.matrix) + 2 * QUIET_ZONE
    assert cells == expected
    assert all(QUIET_ZONE <= x < size - QUIET_ZONE and QUIET_ZONE <= y < size - QUIET_ZONE for x, y in cells)


def test_svg_is_deterministic_and_stands_alone() -> None:
    svg = qr_svg(URL)
    assert svg == qr_svg(URL)
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    assert root.attrib["class"] == "qr"
    assert URL not in svg  # nothing user-controlled is embedded in the markup


@pytest.mark.parametrize("url", [URL, LONG_URL])
def test_code_scans_to_exactly_the_url(tmp_path: Path, url: str) -> None:
    zbarimg = require_tool("zbarimg")
    size, cells = dark_modules(qr_svg(url))
    image = Image.new("1", (size, size), 1)
    for cell in cells:
        image.putpixel(cell, 0)
    png = tmp_path / "qr.png"
    image.resize((size * 4, size * 4), Image.Resampling.NEAREST).save(png)
    result = subprocess.run([zbarimg, "--raw", "-q", str(png)], capture_output=True, text=True, check=True)
    assert result.stdout.rstrip("\n") == url
