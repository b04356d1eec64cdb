"""Build the web pages' fonts from the vendored Noto fonts in templates/fonts: each
script's block alone, as WOFF2 (Gurmukhi 52 KB -> 16 KB, Devanagari 264 KB -> 63 KB),
and two tiny fonts holding only the language switcher's own names ("ਪੰਜਾਬੀ", "हिन्दी"),
so a Punjabi page never downloads the Devanagari font for one word.

    .venv/bin/python scripts/web_fonts.py     # writes locker/static/fonts/*.woff2
"""

from __future__ import annotations

from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "templates" / "fonts"
TARGET = ROOT / "locker" / "static" / "fonts"
GURMUKHI = [*range(0x0A00, 0x0A80), 0x0964, 0x0965, 0x25CC]
DEVANAGARI = [*range(0x0900, 0x0980), 0x25CC]


def build(source: str, target: str, *, unicodes: list[int] | None = None, text: str | None = None) -> None:
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]  # every shaping feature: conjuncts and matras must join
    font = TTFont(SOURCE / source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes or [], text=text or "")
    subsetter.subset(font)
    font.flavor = "woff2"
    font.save(TARGET / target)
    print(f"{target}: {(TARGET / target).stat().st_size:,} bytes")


if __name__ == "__main__":
    TARGET.mkdir(parents=True, exist_ok=True)
    build("NotoSerifGurmukhi-Regular.ttf", "gurmukhi.woff2", unicodes=GURMUKHI)
    build("NotoSerifDevanagari-Regular.ttf", "devanagari.woff2", unicodes=DEVANAGARI)
    build("NotoSerifGurmukhi-Regular.ttf", "name-pa.woff2", text="ਪੰਜਾਬੀ")
    build("NotoSerifDevanagari-Regular.ttf", "name-hi.woff2", text="हिन्दी")
