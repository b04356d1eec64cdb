"""The offices that receive applications: which department, which kind, which district."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from intake.exceptions import CatalogueError
from sanad.i18n import LocalizedText

_KEYS = frozenset({"code", "department", "kind", "district", "name"})


@dataclass(frozen=True)
class Office:
    code: str
    """Stable code, e.g. ``TEH-LDH``; part of the officer's desk and of pendency reports."""
    department: str
    kind: str
    """Matches a service's ``office_kind``: a tehsil handles tehsil services."""
    district: str
    name: LocalizedText


def load_offices(directory: Path) -> Mapping[str, Office]:
    """Every ``directory/*.yaml`` list of offices, by code. Errors name file, entry and reason."""
    offices: dict[str, Office] = {}
    for path in sorted(directory.glob("*.yaml")):
        entries = yaml.safe_load(path.read_text("utf-8"))
        if not isinstance(entries, list):
            raise CatalogueError(f"{path}: must be a list of offices")
        for n, entry in enumerate(entries):
            where = f"{path}: [{n}]"
            if not isinstance(entry, dict) or set(entry) != _KEYS:
                raise CatalogueError(f"{where}: needs exactly the keys {', '.join(sorted(_KEYS))}")
            name = entry["name"]
            if not isinstance(name, dict) or not all(
                isinstance(name.get(k), str) and name[k] for k in ("en", "pa", "hi")
            ):
                raise CatalogueError(f"{where}.name: needs en, pa and hi")
            code = str(entry["code"])
            if code in offices:
                raise CatalogueError(f"{where}.code: {code} is declared twice")
            offices[code] = Office(
                code=code,
                department=str(entry["department"]),
                kind=str(entry["kind"]),
                district=str(entry["district"]),
                name=LocalizedText(en=name["en"], pa=name["pa"], hi=name["hi"]),
            )
    return offices
