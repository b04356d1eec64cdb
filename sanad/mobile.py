"""Indian mobile numbers: the one spelling Sanad stores (ten digits, no prefix)."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-()]")
_MOBILE = re.compile(r"[6-9]\d{9}")


def normalize_mobile(raw: str) -> str:
    """``+91 98765-43210``, ``098765 43210`` and ``9876543210`` all become ``9876543210``.

    Raises ``ValueError`` with a message for a person when it is not a mobile number.
    """
    digits = _SEPARATORS.sub("", raw.strip())
    if digits.startswith("+91"):
        digits = digits[3:]
    elif digits.startswith("91") and len(digits) == 12:
        digits = digits[2:]
    elif digits.startswith("0") and len(digits) == 11:
        digits = digits[1:]
    if not _MOBILE.fullmatch(digits):
        raise ValueError("must be a 10-digit Indian mobile number starting with 6, 7, 8 or 9")
    return digits


def masked_mobile(mobile: str) -> str:
    """``98xxxxxx10``: enough for the owner to recognise, not enough to dial."""
    return f"{mobile[:2]}xxxxxx{mobile[-2:]}"
