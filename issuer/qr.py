"""The verification QR code printed on every certificate."""

from __future__ import annotations

import base64
from io import BytesIO

import segno
from PIL import Image

#: Light modules around the symbol that ISO/IEC 18004 requires for reliable scanning.
QUIET_ZONE = 4

# Choosing the mask is 80% of segno's time (it scores all eight). Any fixed mask gives
# a valid symbol that scanners decode just as well; it is merely not the best-scoring.
_MASK = 0

# Pixels per module. Viewers resample the image to their resolution; measured with
# pdftoppm + zbarimg on the longest sealed URL (symbol version 24 in 40 mm), 2 and 4
# scan from 150 dpi, while 1 (too coarse) and 8 (smoothed away when downsampled) do not.
_SCALE = 4


def qr_image(url: str) -> str:
    """Return an ``<img class="qr">`` element encoding ``url``.

    The image is a black-and-white PNG, ``_SCALE`` pixels per module, quiet zone
    included; the certificate's CSS sizes it. An image rather than SVG: a sealed URL makes
    a version-18 symbol, and WeasyPrint parses SVG paths in Python (~40–80 ms a
    certificate), while it embeds a PNG as it is.
    """
    # Error correction M at least: segno raises it when that fits in the same version.
    matrix = segno.make(url, error="m", mask=_MASK, micro=False).matrix
    size = len(matrix) + 2 * QUIET_ZONE
    # 8-bit grey, not 1-bit: WeasyPrint 70 draws 1-bit PNGs scrambled.
    image = Image.new("L", (size, size), 255)
    image.putdata([0 if dark else 255 for row in _framed(matrix, size) for dark in row])
    png = BytesIO()
    image = image.resize((size * _SCALE, size * _SCALE), Image.Resampling.NEAREST)
    image.save(png, format="PNG")
    data = base64.b64encode(png.getvalue()).decode("ascii")
    return f'<img class="qr" alt="" src="data:image/png;base64,{data}">'


def _framed(matrix: tuple[bytearray, ...], size: int) -> list[list[bool]]:
    """The symbol's rows inside the quiet zone."""
    blank = [False] * size
    margin = [False] * QUIET_ZONE
    rows = [blank] * QUIET_ZONE
    rows += [margin + [bool(m) for m in row] + margin for row in matrix]
    return rows + [blank] * QUIET_ZONE
