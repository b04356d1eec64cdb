"""India's financial year (April to March) as citizens write it, and the one spelling a
certificate prints: ``2025-26``.

A form field is a financial year when it declares the template's financial-year pattern
(:data:`PATTERN`, what the income certificate requires); :mod:`intake.forms` then reads
its answer with :func:`read_financial_year` before any other check, so ``2025-2026`` is
never cut to ``2025-20`` and ``2025-27`` is never printed.
"""

from __future__ import annotations

import re
from datetime import date

PATTERN = "(19|20)[0-9]{2}-[0-9]{2}"
"""The pattern a text field declares to be read as a financial year."""
EARLIEST = 1950
"""The first year of the earliest financial year accepted (1950-51)."""

# "2025-26", "2025-2026", "2025/26", "2025 – 26", "FY 2025-26", "F.Y. 2025-26", in any
# script's digits (\d is Unicode-aware; int() reads them all).
_WRITTEN = re.compile(
    r"(?:f\.?\s*y\.?|financial\s+year)?\s*:?\s*(\d{4})\s*[-/\u2010-\u2015]\s*(\d{4}|\d{2})",
    re.IGNORECASE,
)


class NotAFinancialYear(ValueError):
    """Why an answer is not a financial year: ``reason`` is a key of
    :data:`intake.form_messages.MESSAGES`, ``values`` fill its placeholders."""

    def __init__(self, reason: str, values: dict[str, str]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


def spelled(first_year: int) -> str:
    """``2025`` → ``2025-26``."""
    return f"{first_year}-{(first_year + 1) % 100:02d}"


def current_first_year(today: date) -> int:
    """The first year of the financial year ``today`` falls in (it starts on 1 April)."""
    return today.year if today.month >= 4 else today.year - 1


def read_financial_year(text: str, today: date) -> str:
    """``text`` as ``YYYY-YY``: two years in a row, from 1950-51 up to the one after the
    current financial year. Raises :class:`NotAFinancialYear`."""
    match = _WRITTEN.fullmatch(text.strip())
    if match is None:
        raise NotAFinancialYear("not_a_financial_year", {})
    first, second = int(match.group(1)), int(match.group(2))
    follows = second == first + 1 if len(match.group(2)) == 4 else second == (first + 1) % 100
    if not follows:
        raise NotAFinancialYear("financial_year_not_consecutive", {"example": spelled(first)})
    latest = current_first_year(today) + 1
    if not EARLIEST <= first <= latest:
        raise NotAFinancialYear(
            "financial_year_out_of_range", {"earliest": spelled(EARLIEST), "latest": spelled(latest)}
        )
    return spelled(first)
