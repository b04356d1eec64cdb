"""The QR code image: exactly segno's symbol (drawn from a cached layout that never
differs from it), a quiet zone, and it scans; a sealed URL is cut into alphanumeric, byte
and numeric segments (the issued PDF and a photo of it are read back in
``test_qr_scanning``)."""

from __future__ import annotations

import base64
import random
import re
import subprocess
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import pytest
import segno
import segno.consts
import segno.encoder
from PIL import Image

from issuer import qr_symbol
from issuer.qr import _SCALE as SCALE
from issuer.qr import ALPHANUMERIC, QUIET_ZONE, qr_image, segments, symbol
from tests.conftest import require_tool

URL = "http://127.0.0.1:8000/v/k7q3xz5m2v9n4c8b6w1r0t5y3a"
LONG_URL = "https://verify.sanad.punjab.gov.in/v/k7q3xz5m2v9n4c8b6w1r0t5y3a?lang=pa"
# As issued (issuer.seal.sealed_url): upper case up to the fragment, the seal in digits.
SEALED_URL = "HTTP://127.0.0.1:8000/V/K7Q3XZ5M2VDN4CCB6WBRAT5Y3A#" + "5925521407457024420" * 20
LEGACY_SEALED_URL = URL + "#" + "e" * 480  # about the length of a JWS seal


def png_of(element: str) -> Image.Image:
    found = re.fullmatch(r'<img class="qr" alt="" src="data:image/png;base64,([A-Za-z0-9+/=]+)">', element)
    assert found is not None, element
    return Image.open(BytesIO(base64.b64decode(found.group(1))))


def dark_modules(element: str) -> tuple[int, set[tuple[int, int]]]:
    """Read the symbol back out of the image: its size in modules and the dark (x, y) cells."""
    image = png_of(element).convert("L")
    width, height = image.size
    assert width == height
    assert width % SCALE == 0
    size = width // SCALE
    cells: set[tuple[int, int]] = set()
    for y in range(size):
        for x in range(size):
            block = image.crop((x * SCALE, y * SCALE, (x + 1) * SCALE, (y + 1) * SCALE))
            low, high = block.getextrema()
            assert low == high, f"module ({x}, {y}) is not one solid square"
            if low == 0:
                cells.add((x, y))
            else:
                assert low == 255
    return size, cells


@pytest.mark.parametrize("url", [URL, LONG_URL, SEALED_URL, LEGACY_SEALED_URL])
def test_image_draws_exactly_the_qr_symbol_with_quiet_zone(url: str) -> None:
    size, cells = dark_modules(qr_image(url))
    # The format information inside the matrix pins the error level (M or better) and mask.
    expected_symbol = segno.make(segments(url), error="m", mask=0, micro=False)
    assert expected_symbol.error in {"M", "Q", "H"}
    expected = {
        (x + QUIET_ZONE, y + QUIET_ZONE)
        for y, row in enumerate(expected_symbol.matrix)
        for x, dark in enumerate(row)
        if dark
    }
    assert size == len(expected_symbol.matrix) + 2 * QUIET_ZONE
    assert cells == expected
    assert all(QUIET_ZONE <= x < size - QUIET_ZONE and QUIET_ZONE <= y < size - QUIET_ZONE for x, y in cells)


def test_image_is_deterministic_and_stands_alone() -> None:
    element = qr_image(URL)
    assert element == qr_image(URL)
    assert png_of(element).format == "PNG"
    assert png_of(element).mode == "L"  # 8-bit grey: 1-bit PNGs were drawn scrambled once
    assert URL not in element  # nothing user-controlled is embedded in the markup


def test_a_sealed_url_is_alphanumeric_then_one_byte_then_digits() -> None:
    head, _, seal = SEALED_URL.partition("#")
    assert segments(SEALED_URL) == [head, "#", seal]
    assert "".join(segments(URL)) == URL
    assert "".join(segments(LEGACY_SEALED_URL)) == LEGACY_SEALED_URL
    # Against one byte segment for the whole text: 6 versions smaller.
    assert symbol(SEALED_URL).version == 10
    assert segno.make(SEALED_URL, error="m", micro=False, mode="byte").version == 16
    # A short alphanumeric run inside other text stays in their byte segment.
    assert segments("http://x/v/abc#eyJhbGciOiJFUzI1NiJ9.AB.cd") == ["http://x/v/abc#eyJhbGciOiJFUzI1NiJ9.AB.cd"]


@pytest.mark.parametrize("url", [URL, LONG_URL, SEALED_URL, LEGACY_SEALED_URL])
def test_code_scans_to_exactly_the_url(tmp_path: Path, url: str) -> None:
    zbarimg = require_tool("zbarimg")
    png = tmp_path / "qr.png"
    png_of(qr_image(url)).save(png)  # the very image the certificate embeds
    result = subprocess.run([zbarimg, "--raw", "-q", str(png)], capture_output=True, text=True, check=True)
    assert result.stdout.rstrip("\n") == url


def _texts(seed: int) -> list[str]:
    """Sealed URLs with a few digits to thousands (versions 3 to 22), and shorter and byte-mode texts."""
    rng = random.Random(seed)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    texts = []
    for length in [*range(0, 200, 7), *range(200, 1800, 45)]:
        document_id = "".join(rng.choice(letters) for _ in range(26))
        texts.append(
            f"HTTP://127.0.0.1:8000/V/{document_id}#" + "".join(rng.choice("0123456789") for _ in range(length))
        )
    texts += ["x", "ab", "https://x.example/v/" + "ਨਾਮ " * rng.randint(1, 80)]
    return texts


@pytest.mark.parametrize("seed", range(2))
def test_the_drawn_matrix_is_segnos_module_for_module(seed: int) -> None:
    versions = set()
    for text in _texts(seed):
        expected = segno.make(segments(text), error="m", mask=0, micro=False)
        versions.add((expected.version, expected.error))
        assert qr_symbol.matrix(segments(text), 0) == [bytes(row) for row in expected.matrix], text
    # Each length of remainder bits (0, 7, 3 and 4) and an error level raised above M.
    assert {version for version, _ in versions} >= {1, 3, 7, 14, 21}
    assert {error for _, error in versions} > {"M"}


def _segment_texts(seed: int) -> list[str]:
    """Texts in every mode segno picks: digits, alphanumeric runs of odd and even length,
    Latin-1 and UTF-8 bytes, Kanji, control characters, and sealed URLs cut into segments."""
    rng = random.Random(seed)
    alphabets = ["0123456789", sorted(ALPHANUMERIC), "abc#?=&ਨਾਮ\n", [chr(code) for code in range(256)], ["日", "本"]]
    texts = ["", "1", "12", "123", "007", "A", "AB", "ABC", "é", "日本", *_texts(seed)]
    for _ in range(300):
        alphabet = rng.choice(alphabets)
        texts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 200))))
    return texts


@pytest.mark.parametrize("seed", range(2))
def test_segments_are_encoded_exactly_as_segno_encodes_them(seed: int) -> None:
    modes = set()
    for text in _segment_texts(seed):
        for parts in ([text], segments(text)):
            expected = segno.encoder.prepare_data(parts, None, None)
            drawn = qr_symbol._prepare(parts)
            assert [tuple(segment) for segment in drawn] == [tuple(segment) for segment in expected], text
            assert (drawn.bit_length, drawn.modes) == (expected.bit_length, expected.modes)
            modes.update(expected.modes)
    assert modes == {
        segno.consts.MODE_NUMERIC,
        segno.consts.MODE_ALPHANUMERIC,
        segno.consts.MODE_BYTE,
        segno.consts.MODE_KANJI,
    }


def test_a_layout_that_differs_from_segno_is_never_used(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_layout = qr_symbol._layout

    def damaged(version: int, error: int, mask: int) -> qr_symbol._Layout:
        layout = real_layout(version, error, mask)
        blank = bytearray(layout.blank)
        blank[0] ^= 1  # one finder module the other colour
        return replace(layout, blank=bytes(blank))

    monkeypatch.setattr(qr_symbol, "_layout", damaged)
    monkeypatch.setattr(qr_symbol, "_checked", {})
    expected = [bytes(row) for row in symbol(SEALED_URL).matrix]

    assert qr_symbol.matrix(segments(SEALED_URL), 0) == expected
    assert qr_symbol.matrix(segments(SEALED_URL), 0) == expected
    assert list(qr_symbol._checked.values()) == [False]
    assert "differs from segno's symbol" in caplog.text
