"""The verification QR code printed on every certificate."""

from __future__ import annotations

import segno

#: Light modules around the symbol that ISO/IEC 18004 requires for reliable scanning.
QUIET_ZONE = 4

# Choosing the mask is 80% of segno's time (it scores all eight). Any fixed mask gives
# a valid symbol that scanners decode just as well; it is merely not the best-scoring.
_MASK = 0


def qr_svg(url: str) -> str:
    """Return an inline ``<svg>`` element (class ``qr``) encoding ``url``.

    The viewBox is measured in modules, so the code scales to whatever size the CSS
    gives it and stays vector-sharp at any zoom or print resolution. Each horizontal
    run of dark modules is one stroked line: two path commands, where a filled
    rectangle takes five, and WeasyPrint parses paths in Python (~8 ms a certificate).
    """
    # Error correction M at least: segno raises it when that fits in the same version.
    matrix = segno.make(url, error="m", mask=_MASK, micro=False).matrix
    size = len(matrix) + 2 * QUIET_ZONE
    runs: list[str] = []
    for y, row in enumerate(matrix, start=QUIET_ZONE):
        x, width = 0, len(row)
        while x < width:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < width and row[x]:
                x += 1
            runs.append(f"M{start + QUIET_ZONE} {y}.5h{x - start}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" class="qr">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path stroke="#000" d="{"".join(runs)}"/></svg>'
    )
