"""The verification QR code printed on every certificate."""

from __future__ import annotations

import base64
from io import BytesIO

import segno
from PIL import Image

#: Light modules around the symbol, inside the image. ISO/IEC 18004 asks for 4; the
#: certificate leaves white around its 40 mm box too (measured on every template: 18 modules
#: left, 22 right, more above, 3.3 below with these 2), while inside the box every module
#: counts: a version-10 symbol gets 1.86 px a module at 72 dpi with 2, 1.74 with 4. Measured
#: on sealed certificates (pdftoppm, 72 dpi): zbarimg missed 1 of 530 with 2, 5-11% with 4.
QUIET_ZONE = 2

# Choosing the mask is 80% of segno's time (it scores all eight). Any fixed mask gives
# a valid symbol that scanners decode just as well; it is merely not the best-scoring.
_MASK = 0

# Pixels per module. Viewers resample the image to their resolution, and at 72 dpi how
# poppler's scaler maps 183 image pixels onto 113 page pixels decides what zbarimg sees.
# Measured on sealed certificates (version 10, pdftoppm; bench/RESULTS.md): with 3, of 530
# at 72 dpi zxing-cpp read all and zbarimg all but one, both read all at 80 to 200 dpi, and
# from 1,400 photos (150 dpi, rotated, Gaussian blur 0.8-1 px, JPEG quality 40) zxing-cpp
# all, zbarimg 99.7%; with 2, zxing-cpp missed 9% at 72 dpi; with 4, zbarimg missed every
# one at 72 dpi. (Nothing reads 60 dpi.) A fixed mask scanned as well as segno's best.
_SCALE = 3

#: The characters of the QR code's alphanumeric mode (ISO/IEC 18004, 7.4.4): 5.5 bits each
#: against 8 in byte mode.
ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
# A segment costs a mode and a length (13-20 bits): a shorter alphanumeric run between
# other characters is cheaper left in their byte segment.
_MIN_ALPHANUMERIC_RUN = 16


def segments(text: str) -> list[str]:
    """``text`` cut into runs for the encoder's modes: a sealed URL becomes its upper-case
    address (alphanumeric), ``#`` (byte) and the seal's digits (numeric); segno picks each
    run's densest mode."""
    runs: list[str] = []
    for char in text:
        if runs and (char in ALPHANUMERIC) == (runs[-1][-1] in ALPHANUMERIC):
            runs[-1] += char
        else:
            runs.append(char)
    merged: list[str] = []
    apart: list[bool] = []  # an alphanumeric run worth its own segment
    for run in runs:
        alone = run[0] in ALPHANUMERIC and (len(run) >= _MIN_ALPHANUMERIC_RUN or len(runs) == 1)
        if merged and not alone and not apart[-1]:
            merged[-1] += run
        else:
            merged.append(run)
            apart.append(alone)
    return merged


def qr_image(url: str) -> str:
    """Return an ``<img class="qr">`` element showing :func:`qr_png` of ``url`` (for HTML
    pages; the certificate embeds the PNG itself)."""
    data = base64.b64encode(qr_png(url)).decode("ascii")
    return f'<img class="qr" alt="" src="data:image/png;base64,{data}">'


def qr_png(url: str) -> bytes:
    """The code for ``url`` as a black-and-white PNG, ``_SCALE`` pixels a module, quiet
    zone included; the certificate template sizes it (40 mm). An image rather than vector
    paths: how a viewer scales its pixels at 72 dpi is what was measured to scan."""
    # Error correction M at least: segno raises it when that fits in the same version.
    matrix = symbol(url).matrix
    size = len(matrix) + 2 * QUIET_ZONE
    # 8-bit grey, not 1-bit: the renderer of the first certificates drew 1-bit PNGs scrambled.
    image = Image.new("L", (size, size), 255)
    image.putdata([0 if dark else 255 for row in _framed(matrix, size) for dark in row])
    png = BytesIO()
    image = image.resize((size * _SCALE, size * _SCALE), Image.Resampling.NEAREST)
    image.save(png, format="PNG")
    return png.getvalue()


def symbol(text: str) -> segno.QRCode:
    """The symbol for ``text``: error correction M, or better where it fits the same version."""
    # segno's encoder takes a list of segments, each in the mode that fits it best
    # (segno.encoder.prepare_data); its stub names only a single text. tests/issuer/test_qr.py
    # holds the result: version 10 where one byte segment would need 16.
    return segno.make(segments(text), error="m", mask=_MASK, micro=False)  # type: ignore[arg-type]


def _framed(matrix: tuple[bytearray, ...], size: int) -> list[list[bool]]:
    """The symbol's rows inside the quiet zone."""
    blank = [False] * size
    margin = [False] * QUIET_ZONE
    rows = [blank] * QUIET_ZONE
    rows += [margin + [bool(m) for m in row] + margin for row in matrix]
    return rows + [blank] * QUIET_ZONE
