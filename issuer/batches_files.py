"""Reading a batch file: CSV with a header row, or JSON Lines, as UTF-8.

A problem with the file as a whole (its encoding, its columns, a line too long, too many
rows) refuses it at once with :class:`BadBatchFile`. Each row comes out as the issuing
request's fields (``citizen_id``, ``citizen_mobile``, ``valid_until``, ``data``) with the
raw values, for the caller to check like any issuing request.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from issuer.templates import TemplateSpec
from sanad.errors import FieldError, InvalidInput, PayloadTooLarge

#: The columns a CSV may have besides the template's data fields.
REQUEST_COLUMNS = ("citizen_id", "citizen_mobile", "valid_until")
_INTEGER = re.compile(r"[+-]?\d{1,18}")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"


class BadBatchFile(InvalidInput):
    """The file cannot be read as a batch at all; nothing of it is kept."""

    code = "invalid_file"


class TooManyRows(PayloadTooLarge):
    code = "too_many_rows"


@dataclass(frozen=True)
class FileRow:
    row: int
    """1-based: the first row after the CSV header, or the first JSON line."""
    fields: dict[str, Any]
    """``citizen_id``, ``citizen_mobile``, ``valid_until`` and ``data`` as given."""
    problems: list[FieldError]
    """What is wrong with the row's shape (a value count, a line that is not JSON)."""


@dataclass(frozen=True)
class Limits:
    max_rows: int
    max_line_bytes: int


def _bad(message: str, field: str = "file") -> BadBatchFile:
    return BadBatchFile([FieldError(field, message)])


def _lines(stream: IO[bytes], limits: Limits) -> Iterator[str]:
    """The file's lines as text (line endings kept for the CSV reader), refusing a line
    over the limit and anything that is not UTF-8."""
    head = stream.read(4)
    if head.startswith(_UTF16_BOMS):
        raise _bad("the file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in a spreadsheet) and send it again")
    stream.seek(len(_UTF8_BOM) if head.startswith(_UTF8_BOM) else 0)
    number = 0
    while raw := stream.readline(limits.max_line_bytes + 3):
        number += 1
        content = raw.rstrip(b"\r\n")
        if len(content) > limits.max_line_bytes:
            raise _bad(f"line {number} is longer than {limits.max_line_bytes // 1024} KB; no row may be that long")
        if b"\x00" in content:
            raise _bad(f"line {number} contains a NUL byte: the file is not text (is it UTF-16 or a spreadsheet?)")
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError as e:
            byte = content[e.start : e.start + 1].hex().upper() if e.start < len(content) else ""
            raise _bad(
                f"line {number} is not UTF-8 text (byte 0x{byte} at position {e.start + 1}); "
                "save the file as UTF-8 (CSV UTF-8 in a spreadsheet) and send it again"
            ) from e


def detect_format(stream: IO[bytes]) -> str:
    """``jsonl`` when the first non-blank character is ``{``, else ``csv``."""
    head = stream.read(4096).lstrip(_UTF8_BOM).lstrip()
    stream.seek(0)
    return "jsonl" if head.startswith(b"{") else "csv"


def read_rows(stream: IO[bytes], spec: TemplateSpec, limits: Limits, file_format: str) -> Iterator[FileRow]:
    """Every row of the file, in order. Raises :class:`BadBatchFile` or :class:`TooManyRows`
    (possibly after some rows have come out) when the file as a whole is unusable."""
    rows = _csv_rows(stream, spec, limits) if file_format == "csv" else _jsonl_rows(stream, spec, limits)
    for count, row in enumerate(rows, start=1):
        if count > limits.max_rows:
            raise TooManyRows(f"the file has more than {limits.max_rows:,} rows, the most one batch may have")
        yield row


def _columns(header: list[str], spec: TemplateSpec) -> list[str]:
    names = [name.strip() for name in header]
    known = {*REQUEST_COLUMNS, *(field.name for field in spec.fields)}
    errors = []
    for name in names:
        if not name:
            errors.append(FieldError("header", "a column has no name"))
        elif name not in known:
            errors.append(FieldError(name, f"unknown column; {spec.type} takes: {', '.join(_ordered(spec))}"))
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(FieldError(name, "the column appears more than once"))
    required = ["citizen_id", *(field.name for field in spec.fields if field.required)]
    errors.extend(FieldError(name, "missing column") for name in required if name not in names)
    if errors:
        raise BadBatchFile(errors)
    return names


def _ordered(spec: TemplateSpec) -> list[str]:
    return [*REQUEST_COLUMNS, *(field.name for field in spec.fields)]


def _csv_rows(stream: IO[bytes], spec: TemplateSpec, limits: Limits) -> Iterator[FileRow]:
    reader = csv.reader(_lines(stream, limits), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise _bad("the file is empty; it needs a header row and at least one row")
        columns = _columns(header, spec)
        integers = {field.name for field in spec.fields if field.type == "integer"}
        number = 0
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines carry no row
            number += 1
            problems = []
            if len(cells) != len(columns):
                problems.append(FieldError("row", f"has {len(cells)} values; the header has {len(columns)} columns"))
            fields: dict[str, Any] = {"data": {}}
            for name, cell in zip(columns, cells, strict=False):
                value: object = cell.strip() or None
                if isinstance(value, str) and name in integers and _INTEGER.fullmatch(value):
                    value = int(value)
                if name in REQUEST_COLUMNS:
                    fields[name] = value
                elif value is not None:
                    fields["data"][name] = value
            yield FileRow(number, fields, problems)
    except csv.Error as e:
        raise _bad(f"line {reader.line_num} is not valid CSV: {e}") from e
    if number == 0:
        raise _bad("the file has a header row but no rows")


def _jsonl_rows(stream: IO[bytes], spec: TemplateSpec, limits: Limits) -> Iterator[FileRow]:
    number = 0
    for line in _lines(stream, limits):
        if not line.strip():
            continue
        number += 1
        try:
            value = json.loads(line)
        except ValueError as e:
            yield FileRow(number, {}, [FieldError("row", f"is not valid JSON: {e}")])
            continue
        if not isinstance(value, dict):
            yield FileRow(number, {}, [FieldError("row", "must be a JSON object")])
            continue
        problems = []
        if value.pop("type", spec.type) != spec.type:
            problems.append(FieldError("type", f"must be {spec.type}, the batch's type (or left out)"))
        problems.extend(
            FieldError(key, f"unknown field; a line takes {', '.join((*REQUEST_COLUMNS, 'data'))}")
            for key in value
            if key not in (*REQUEST_COLUMNS, "data")
        )
        yield FileRow(number, value, problems)
    if number == 0:
        raise _bad("the file has no rows")
