"""The verification QR code printed on every certificate, as inline SVG."""

from __future__ import annotations

import segno

#: Light modules around the symbol that ISO/IEC 18004 requires for reliable scanning.
QUIET_ZONE = 4

# Mask choice is most of segno's time (it scores all eight); any fixed mask is a valid
# symbol, it is merely not the prettiest, and scanners decode it all the same.
_MASK = 0


def qr_svg(url: str) -> str:
    """Return an ``<svg>`` element encoding ``url`` for embedding in the HTML.

    Error correction is at least M (segno raises it when that fits in the same version).
    The viewBox is measured in modules, so the symbol scales to whatever size the CSS
    gives the element and stays vector-sharp in the PDF. Each horizontal run of dark
    modules is one stroked line, two path commands: WeasyPrint parses SVG paths in
    Python, and this halves its work compared with a rectangle per run.
    """
    symbol = segno.make(url, error="m", mask=_MASK, micro=False)
    size = len(symbol.matrix) + 2 * QUIET_ZONE
    runs: list[str] = []
    for y, row in enumerate(symbol.matrix, start=QUIET_ZONE):
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
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
        f'class="qr" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path stroke="#000" stroke-width="1" d="{"".join(runs)}"/></svg>'
    )
