"""The verification QR code printed on every certificate."""

from __future__ import annotations

import base64
import re
import struct
import zlib

import segno

from issuer import qr_symbol

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
# Runs of alphanumeric characters and runs of the others, alternating.
_RUNS = re.compile(r"[0-9A-Z $%*+\-./:]+|[^0-9A-Z $%*+\-./:]+")


def segments(text: str) -> list[str]:
    """``text`` cut into runs for the encoder's modes: a sealed URL becomes its upper-case
    address (alphanumeric), ``#`` (byte) and the seal's digits (numeric); segno picks each
    run's densest mode."""
    runs: list[str] = _RUNS.findall(text)
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
    return _png(qr_symbol.matrix(segments(url), _MASK))


def symbol(text: str) -> segno.QRCode:
    """The symbol for ``text``: error correction M, or better where it fits the same version."""
    # tests/issuer/test_qr.py holds the result: version 10 where one byte segment would need 16.
    return qr_symbol.symbol(segments(text), _MASK)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_LIGHT, _DARK = 255, 0
_GREY = bytes([_LIGHT, _DARK]) + bytes(254)  # a module's value (0 light, 1 dark) to its grey
# Each line starts with its filter: 0 the pixels as they are, 2 ("up") the difference
# from the line above, all zeros for the repeated lines of a row of modules.
_AS_IS, _UP = b"\x00", b"\x02"
# Level 3 is smaller than Pillow's PNG (6) already; 9 took 5 ms on these long runs.
_COMPRESSION = 3


def _png(rows: list[bytes]) -> bytes:
    """``rows`` of modules (1 dark) as an 8-bit grey PNG inside the quiet zone, each
    module a square of ``_SCALE`` pixels. 8-bit grey, not 1-bit: the renderer of the first
    certificates drew 1-bit PNGs scrambled. Written directly (zlib and three chunks):
    Pillow took longer to copy the pixels than segno to make the symbol."""
    size = (len(rows) + 2 * QUIET_ZONE) * _SCALE
    margin = bytes([_LIGHT]) * (QUIET_ZONE * _SCALE)
    repeat = _UP + bytes(size)
    lines = [_AS_IS + bytes([_LIGHT]) * size] + [repeat] * (QUIET_ZONE * _SCALE - 1)
    for row in rows:
        pixels = bytearray(len(row) * _SCALE)
        grey = row.translate(_GREY)
        for offset in range(_SCALE):
            pixels[offset::_SCALE] = grey
        lines.append(_AS_IS + margin + pixels + margin)
        lines += [repeat] * (_SCALE - 1)
    lines.append(_AS_IS + bytes([_LIGHT]) * size)
    lines += [repeat] * (QUIET_ZONE * _SCALE - 1)
    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8 bits, grey, no interlace
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(lines), _COMPRESSION))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
