"""A signed-in citizen's documents as the JSON the API sends, written straight from what
the read found: the very bytes pydantic writes for ``LockerDocument`` and ``DocumentPage``
(tests/locker/test_answers.py holds the two equal), without building three models per
document first: for a page of 50 that cost several times the page's database read."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime
from json.encoder import encode_basestring  # the C encoder; escapes as pydantic does

from locker.documents import HeldDocument
from sanad.i18n import LocalizedText


def _text(value: str | None) -> str:
    escaped: str = "null" if value is None else encode_basestring(value)
    return escaped


def _moment(value: datetime) -> str:
    # pydantic writes a zero UTC offset as "Z" and any other as isoformat does.
    text = value.isoformat()
    return f'"{text[:-6]}Z"' if text.endswith("+00:00") else f'"{text}"'


def _day(value: date | None) -> str:
    return "null" if value is None else f'"{value.isoformat()}"'


@functools.lru_cache(maxsize=1024)  # a few templates and departments, on every row
def _localized(en: str, pa: str, hi: str) -> str:
    return f'{{"en":{_text(en)},"pa":{_text(pa)},"hi":{_text(hi)}}}'


@functools.lru_cache(maxsize=1024)
def _department(code: str, en: str, pa: str, hi: str) -> str:
    return f'{{"code":{_text(code)},"name":{_localized(en, pa, hi)}}}'


def document_json(held: HeldDocument, title: LocalizedText | None, verify_url: str) -> str:
    """``LockerDocument.of(held, title, verify_url).model_dump_json()``, field for field."""
    document, department = held.document, held.department
    shown_title = "null" if title is None else _localized(title.en, title.pa, title.hi)
    issuer = _department(department.code, department.name_en, department.name_pa, department.name_hi)
    return (
        f'{{"id":{_text(document.id)},"number":{_text(document.number)},"type":{_text(document.type)},'
        f'"title":{shown_title},"department":{issuer},"status":{_text(held.status)},'
        f'"issued_at":{_moment(document.issued_at)},"valid_until":{_day(document.valid_until)},'
        f'"holder_name":{_text(document.holder_name)},"sha256":{_text(document.sha256)},'
        f'"size":{int(document.size)},"verify_url":{_text(verify_url)},'
        f'"revocation_reason":{_text(document.revocation_reason)}}}'
    )


def page_json(items: Iterable[str], next_cursor: str | None) -> bytes:
    """``DocumentPage(items=..., next_cursor=...).model_dump_json()`` of documents already
    written by :func:`document_json`."""
    return f'{{"items":[{",".join(items)}],"next_cursor":{_text(next_cursor)}}}'.encode()
