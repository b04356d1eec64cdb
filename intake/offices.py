"""The offices that receive applications, read from ``catalogue/offices/*.yaml`` at start-up:
which department, which kind, which district."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from intake.exceptions import CatalogueError
from sanad.config_file import LANGUAGE_LIST, ConfigFile
from sanad.i18n import LANGUAGES, LocalizedText

_KEYS = frozenset({"code", "department", "kind", "district", "name"})


@dataclass(frozen=True)
class Office:
    """One office a citizen can apply at."""

    code: str
    """Stable code, e.g. ``TEH-LDH``; part of the officer's desk and of pendency reports."""
    department: str
    """Code of the department it belongs to, e.g. ``REV``."""
    kind: str
    """Matches a service's ``office_kind``: a tehsil handles tehsil services."""
    district: str
    """The district it serves, e.g. ``Ludhiana``."""
    name: LocalizedText
    """Its name as the citizen reads it."""


def load_offices(directory: Path) -> Mapping[str, Office]:
    """Every ``directory/*.yaml`` list of offices, by code. Errors name file, entry and reason."""
    offices: dict[str, Office] = {}
    for path in sorted(directory.glob("*.yaml")):
        _OfficesReader(path).read_into(offices)
    return offices


class _OfficesReader(ConfigFile):
    """Parses one list of offices; every error names the file and the entry."""

    error = CatalogueError

    def read_into(self, offices: dict[str, Office]) -> None:
        """Add this file's offices to ``offices``; a code already there is an error."""
        entries = self.load()
        if not isinstance(entries, list):
            self.fail("", "must be a list of offices")
        for n, entry in enumerate(entries):
            where = f"[{n}]"
            if not isinstance(entry, dict) or set(entry) != _KEYS:
                self.fail(where, f"needs exactly the keys {', '.join(sorted(_KEYS))}")
            name = entry["name"]
            if not isinstance(name, dict) or not all(isinstance(name.get(k), str) and name[k] for k in LANGUAGES):
                self.fail(f"{where}.name", f"needs {LANGUAGE_LIST}")
            code = str(entry["code"])
            if code in offices:
                self.fail(f"{where}.code", f"{code} is declared twice")
            offices[code] = Office(
                code=code,
                department=str(entry["department"]),
                kind=str(entry["kind"]),
                district=str(entry["district"]),
                name=LocalizedText(**{language: name[language] for language in LANGUAGES}),
            )
