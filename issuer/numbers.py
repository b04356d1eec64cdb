"""Certificate numbers a person can read over the phone: ``PB-REV-INC-C-2026-000123``.

State, department code, type abbreviation, ``C`` for certificate, year of issue (in
India) and a serial per (department, type, year). The ``C`` keeps a certificate's number
apart from the application numbers intake gives the same service
(``PB-REV-INC-2026-000123``): a holder who reads one out, or types it into DigiLocker,
means one thing. The random document id stays what the QR code and the URL
carry; this number is what is printed, said and searched for.

The serial is taken before rendering (it is printed inside the signed file) in a short
transaction of its own, as the status-list index is: taken in the issuance's
transaction it would hold SQLite's write lock through rendering and signing, or make
PostgreSQL's issuers of one type wait in line on a counter row. An issuance that fails
after taking its number leaves a gap; the unique index on ``documents.number`` keeps
every printed number on one document.
"""

from __future__ import annotations

import re

from sanad import sequences

#: The state every number starts with.
STATE = "PB"
#: The longest number :func:`certificate_number` can make (the column's width).
MAX_LENGTH = 40
#: Words a type name carries that say nothing about which certificate it is.
_GENERIC_WORDS = frozenset({"certificate"})
#: A department code's letters that a number may carry.
_NOT_CODE = re.compile(r"[^A-Z0-9]+")
#: What a printed number can look like at all (anything else is not looked up).
_PRINTED = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)*")


def type_abbreviation(document_type: str) -> str:
    """``income-certificate`` → ``INC``; ``learner-licence`` → ``LL``: one word's first three
    letters, or the initials of several."""
    words = [word for word in document_type.lower().split("-") if word and word not in _GENERIC_WORDS]
    if not words:
        return "DOC"
    if len(words) == 1:
        return words[0][:3].upper()
    return "".join(word[0] for word in words).upper()[:4]


def number_prefix(department_code: str, document_type: str) -> str:
    """``PB-REV-INC`` for the REV department's income certificates. A code that already
    starts with the state (``PB-REV``) does not repeat it."""
    code = _NOT_CODE.sub("-", department_code.upper()).strip("-")
    code = code.removeprefix(f"{STATE}-")[:14] or "GEN"
    return f"{STATE}-{code}-{type_abbreviation(document_type)}"


#: What sets a certificate's number apart from an application's.
CERTIFICATE_MARK = "C"


def certificate_number(prefix: str, year: int, serial: int) -> str:
    """``PB-REV-INC-C-2026-000123``: six digits at least, more once a year needs them."""
    return f"{prefix}-{CERTIFICATE_MARK}-{year:04d}-{serial:06d}"


def sequence_name(prefix: str, year: int) -> str:
    """The PostgreSQL sequence of ``prefix`` and ``year``."""
    return sequences.sequence_name("certificate_number", prefix, year)


def normalise(query: str) -> str:
    """A number as a person may type it (lower case, spaces, another dash) in its printed
    form, for looking it up."""
    return re.sub(r"[\s\-‐-―_/]+", "-", query.strip().upper()).strip("-")


def could_be_printed(number: str) -> bool:
    """Whether a normalised ``number`` has a printed number's letters and length (a search
    for anything else finds nothing without asking the database)."""
    return len(number) <= MAX_LENGTH and _PRINTED.fullmatch(number) is not None
