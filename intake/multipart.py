"""Multipart form bodies (RFC 7578) parsed in memory, in one pass.

A submission's body (a few text fields and attachments of 50-150 KB) is held whole
before it is filed anyway. Cut at its boundaries with ``bytes.find``, it costs a few
calls per part; a streaming parser called back for every chunk the socket delivered, and
spooled each file through a temporary file object, for a tenth of a submission's CPU.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from python_multipart.multipart import parse_options_header

from sanad.errors import BadRequest

MAX_FIELD_BYTES = 1024 * 1024
"""The largest text part: answers are a few kilobytes, only files are large."""


class MalformedBody(BadRequest):
    code = "malformed_body"


@dataclass(frozen=True, slots=True)
class Part:
    """One part of the body: a text field (``filename`` None) or a file."""

    name: str
    data: bytes
    filename: str | None
    content_type: str | None

    def text(self, charset: str) -> str:
        return _decoded(self.data, charset)


@dataclass(frozen=True, slots=True)
class Body:
    parts: list[Part]
    charset: str
    """How text parts are encoded (the body type's ``charset``, UTF-8 unless it says)."""


def is_multipart(content_type: str) -> bool:
    return content_type.partition(";")[0].strip().lower() == "multipart/form-data"


def parse(body: bytes, content_type: str, *, max_files: int, max_fields: int) -> Body:
    """The parts of ``body``, a ``multipart/form-data`` body of ``content_type``;
    :class:`MalformedBody` (400) when it is not one, or has more parts than allowed."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise MalformedBody("the multipart body's type names no boundary")
    charset = _charset(params.get(b"charset", b"utf-8"))
    delimiter = b"--" + boundary
    # Whatever precedes the first delimiter is a preamble, which readers ignore.
    start = 0 if body.startswith(delimiter) else body.find(b"\r\n" + delimiter)
    if start < 0:
        raise MalformedBody("the multipart body has no part")
    position = start + (0 if start == 0 else 2) + len(delimiter)
    parts: list[Part] = []
    files = fields = 0
    while True:
        if body.startswith(b"--", position):
            return Body(parts, charset)
        if not body.startswith(b"\r\n", position):
            raise MalformedBody("a multipart boundary is not followed by a line end")
        headers_end = body.find(b"\r\n\r\n", position)
        end = body.find(b"\r\n" + delimiter, position)
        if end < 0:
            raise MalformedBody("the multipart body ends before its last boundary")
        if headers_end < 0 or headers_end > end:
            raise MalformedBody("a multipart part has no blank line after its headers")
        part = _part(body[position + 2 : headers_end], body[headers_end + 4 : end], charset)
        if part.filename is not None:
            files += 1
            if files > max_files:
                raise MalformedBody(f"too many files: at most {max_files}")
        else:
            fields += 1
            if fields > max_fields:
                raise MalformedBody(f"too many fields: at most {max_fields}")
            if len(part.data) > MAX_FIELD_BYTES:
                raise MalformedBody(f"the field {part.name[:64]!r} is over {MAX_FIELD_BYTES // 1024} KB")
        parts.append(part)
        position = end + 2 + len(delimiter)


def _charset(name: bytes | str) -> str:
    text = name.decode("latin-1") if isinstance(name, bytes) else name
    try:
        return codecs.lookup(text).name
    except LookupError:
        return "latin-1"


def _part(head: bytes, data: bytes, charset: str) -> Part:
    disposition = content_type = None
    for line in head.split(b"\r\n") if head else ():
        name, colon, value = line.partition(b":")
        if not colon:
            raise MalformedBody("a multipart part has a header line without a colon")
        name = name.strip().lower()
        if name == b"content-disposition":
            disposition = value.strip()
        elif name == b"content-type":
            content_type = value.strip().decode("latin-1")
    if disposition is None:
        raise MalformedBody("a multipart part has no Content-Disposition")
    _, options = parse_options_header(disposition)
    field_name = options.get(b"name")
    if field_name is None:
        raise MalformedBody('a multipart part\'s Content-Disposition names no "name"')
    filename = options.get(b"filename")
    return Part(
        name=_decoded(field_name, charset),
        data=data,
        filename=None if filename is None else _decoded(filename, charset),
        content_type=content_type,
    )


def _decoded(value: bytes, charset: str) -> str:
    """As Starlette decodes: bytes not of ``charset`` are read as Latin-1, never refused."""
    try:
        return value.decode(charset)
    except UnicodeDecodeError:
        return value.decode("latin-1")
