"""DigiLocker document type codes for Sanad's templates.

DigiLocker names each kind of certificate by a short code, the middle part of every URI
(``<issuer id>-<DOCTYPE>-<document id>``). Punjab eDistrict already publishes INCER,
RSCER, SHCER, OBCER and BTCER on API Setu (``edistrictpb``); licences have no national
code, so a department names its own (``sanad digilocker configure --doc-type``)."""

from __future__ import annotations

import re

DEFAULT_DOC_TYPES: dict[str, str] = {
    "income-certificate": "INCER",
    "residence-certificate": "RSCER",
    "caste-certificate": "SHCER",
    "birth-certificate": "BTCER",
}
"""Template type → doc type, unless a department's configuration says otherwise. The
caste certificate is issued to Scheduled Castes as SHCER; a department issuing it to
Backward Classes maps it to OBCER."""

DOC_TYPE_PATTERN = re.compile(r"^[A-Z0-9]{3,10}$")


def doc_types_for(overrides: dict[str, str]) -> dict[str, str]:
    """A department's template type → doc type map."""
    return {**DEFAULT_DOC_TYPES, **overrides}


def template_for(overrides: dict[str, str], doc_type: str) -> str | None:
    """The template a doc type code stands for in this department, if any."""
    for template, code in doc_types_for(overrides).items():
        if code == doc_type:
            return template
    return None
