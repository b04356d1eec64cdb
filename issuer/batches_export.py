"""A batch's errors and results as files: CSV for spreadsheets, JSON Lines for programs.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) are neutralised with a leading apostrophe: a value
from an uploaded file must never become a formula on a clerk's machine.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Lines per piece of a streamed answer.
_LINES_PER_PIECE = 500


def neutralise(value: object) -> str:
    """The cell's text, made inert for spreadsheets."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_lines(columns: Sequence[str], records: Iterable[Sequence[object]]) -> Iterator[str]:
    """A header row and every record, in pieces of a few hundred lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for count, record in enumerate(records, start=1):
        writer.writerow([neutralise(value) for value in record])
        if count % _LINES_PER_PIECE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_lines(columns: Sequence[str], records: Iterable[Sequence[object]]) -> Iterator[str]:
    """One JSON object per record, in pieces of a few hundred lines."""
    piece: list[str] = []
    for record in records:
        piece.append(json.dumps(dict(zip(columns, record, strict=True)), ensure_ascii=False) + "\n")
        if len(piece) >= _LINES_PER_PIECE:
            yield "".join(piece)
            piece.clear()
    yield "".join(piece)
