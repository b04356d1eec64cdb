"""Whether the native libraries the renderer's fast path loads are present.

WeasyPrint subsets the embedded fonts with HarfBuzz's subset library when it can load it
(Debian: ``libharfbuzz-subset0``) and otherwise falls back, with only a log warning, to
fontTools, which made issuing ~10x slower (83% of the time in font subsetting). A
machine without the library works but cannot keep up, so start-up and ``/ready`` say so.
"""

from __future__ import annotations

from weasyprint.text import ffi as weasyprint_ffi

#: HarfBuzz's version from which WeasyPrint uses its subsetter (``fonts.py``).
SUBSETTER_MIN_VERSION = (4, 1, 0)


def missing_renderer_libraries() -> list[str]:
    """What the renderer's fast path lacks, as sentences for an operator; empty when all is there."""
    if weasyprint_ffi.harfbuzz_subset is None:
        return ["libharfbuzz-subset0 is not installed: fonts are subset with fontTools, ~10x slower"]
    if not weasyprint_ffi.harfbuzz.hb_version_atleast(*SUBSETTER_MIN_VERSION):
        return ["HarfBuzz is older than 4.1: fonts are subset with fontTools, ~10x slower"]
    return []
