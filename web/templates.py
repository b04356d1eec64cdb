"""The Jinja environment of every domain's pages, with the filters they all share: dates in
India time with translated month names, masked mobile numbers, and catalogue texts in the
page's language."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context as TemplateContext

from sanad.clock import IST
from sanad.mobile import masked_mobile
from web.i18n import Messages, localized

MESSAGES = Messages(Path(__file__).with_name("messages.yaml"))
"""The toolkit's own texts (month names), the same on every domain's pages."""


def month_names(language: str) -> list[str]:
    """January to December, as dates in ``language`` print them."""
    return MESSAGES.translator(language)("date.months").split()


def day_in_language(day: date, language: str) -> str:
    """``24 Nov 2025`` in English, ``24 ਨਵੰਬਰ 2025`` in Punjabi: month names are translated."""
    return f"{day.day:02d} {month_names(language)[day.month - 1]} {day.year}"


@pass_context
def _india_date(page: TemplateContext, moment: date) -> str:
    day = moment.astimezone(IST).date() if isinstance(moment, datetime) else moment
    return day_in_language(day, page.get("lang", "en"))


@pass_context
def _india_time(page: TemplateContext, moment: datetime) -> str:
    local = moment.astimezone(IST)
    return f"{day_in_language(local.date(), page.get('lang', 'en'))}, {local:%H:%M} IST"


@pass_context
def _in_language(page: TemplateContext, text: Any) -> str:
    """``{{ service.name | loc }}``: the page's language of a catalogue text."""
    return localized(text, page.get("lang", "en"))


def page_templates(directory: Path) -> Jinja2Templates:
    """The templates in ``directory``, with the shared filters."""
    templates = Jinja2Templates(directory=directory)
    templates.env.filters.update(
        india_date=_india_date, india_time=_india_time, masked_mobile=masked_mobile, loc=_in_language
    )
    return templates
