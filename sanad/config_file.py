"""Reading one hand-edited YAML configuration file into typed values, or failing with an
error that names the file, the key path and the reason.

Certificate templates (``issuer/templates.py``), the service catalogue, the holiday
calendar and the office list (``intake/``) each subclass :class:`ConfigFile`: the subclass
names its domain's error class and holds its own schema; the getters here only check a
value's shape, so a message reads the same whichever file it comes from::

    /srv/sanad/catalogue/rev-income.yaml: fields[2].validation.max: must be an integer
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import ClassVar, NoReturn, TypeGuard, TypeVar, cast

import yaml

from sanad.i18n import LANGUAGES, LocalizedText
from sanad.strict_yaml import load_yaml

_Choice = TypeVar("_Choice", bound=str)

_LANGUAGE_SET = frozenset(LANGUAGES)
#: "en, pa and hi": how a message lists the languages a text must be given in.
LANGUAGE_LIST = f"{', '.join(LANGUAGES[:-1])} and {LANGUAGES[-1]}"
_SNAKE_CASE = re.compile(r"[a-z][a-z0-9_]*")
_SLUG = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def is_int(value: object) -> TypeGuard[int]:
    """Whether ``value`` is an integer and not a boolean: JSON and YAML booleans load as
    ``bool``, which Python counts as ``int``."""
    return isinstance(value, int) and not isinstance(value, bool)


class ConfigFile:
    """One configuration file being read. Subclasses set :attr:`error` and add the schema."""

    error: ClassVar[type[Exception]]
    """What :meth:`fail` raises: the domain's own start-up error, e.g. ``CatalogueError``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, reason: str) -> NoReturn:
        """Raise :attr:`error` as ``<file>: <where>: <reason>`` (``<file>: <reason>``
        when ``where`` is empty)."""
        raise self.error(f"{self.path}: {where}: {reason}" if where else f"{self.path}: {reason}")

    def load(self) -> object:
        """The file's YAML, strictly (:func:`sanad.strict_yaml.load_yaml`: a repeated key is
        an error); a file that cannot be read or parsed fails as ``cannot read``."""
        try:
            return load_yaml(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise self.error(f"{self.path}: cannot read: {exc}") from exc

    # --- containers ----------------------------------------------------------------

    def mapping(self, raw: object, where: str, keys: frozenset[str]) -> dict[str, object]:
        """A mapping whose keys are all in ``keys``; ``where=""`` is the top level."""
        if not isinstance(raw, dict):
            self.fail(where or "(top level)", "must be a mapping")
        for key in raw:
            if key not in keys:
                self.fail(f"{where}.{key}" if where else str(key), "unknown key")
        return cast("dict[str, object]", raw)

    def need(self, item: Mapping[str, object], key: str, where: str) -> object:
        """``item[key]``, which must be present and not null; ``where`` is ``item``'s path."""
        if item.get(key) is None:
            self.fail(f"{where}.{key}" if where else key, "is required")
        return item[key]

    def non_empty_list(self, raw: object, where: str, *, of: str = "") -> list[object]:
        """A list of at least one item; ``of`` says what the items are, for the message."""
        if not isinstance(raw, list) or not raw:
            self.fail(where, f"must be a non-empty list of {of}" if of else "must be a non-empty list")
        return cast("list[object]", raw)

    # --- scalars -------------------------------------------------------------------

    def string(self, raw: object, where: str) -> str:
        """Text that is not blank."""
        if not isinstance(raw, str) or not raw.strip():
            self.fail(where, "must be a non-empty string")
        return raw

    def boolean(self, raw: object, where: str) -> bool:
        if not isinstance(raw, bool):
            self.fail(where, "must be true or false")
        return raw

    def integer(self, raw: object, where: str, *, low: int | None = None) -> int:
        """An integer (``true`` and ``false`` are not), at least ``low`` when given."""
        if not is_int(raw):
            self.fail(where, "must be an integer")
        if low is not None and raw < low:
            self.fail(where, f"must be at least {low}")
        return raw

    def positive_integer(self, raw: object, where: str) -> int:
        """An integer above zero; anything else fails as "must be a positive integer"."""
        if not is_int(raw) or raw <= 0:
            self.fail(where, "must be a positive integer")
        return raw

    def bounds(self, item: Mapping[str, object], where: str) -> tuple[int | None, int | None]:
        """The optional integers ``min`` and ``max`` of ``item``; ``min`` must not exceed ``max``."""
        low = None if item.get("min") is None else self.integer(item["min"], f"{where}.min")
        high = None if item.get("max") is None else self.integer(item["max"], f"{where}.max")
        if low is not None and high is not None and low > high:
            self.fail(f"{where}.min", "must not exceed max")
        return low, high

    def day(self, raw: object, where: str) -> date:
        """A calendar date: YAML reads ``2026-01-26`` as one, a quoted date arrives as text;
        a date with a time of day is refused."""
        if isinstance(raw, str):
            try:
                raw = date.fromisoformat(raw)
            except ValueError:
                self.fail(where, "must be a date in YYYY-MM-DD form")
        if type(raw) is not date:  # a datetime is a date too
            self.fail(where, "must be a date in YYYY-MM-DD form")
        return raw

    def one_of(self, raw: object, where: str, choices: Sequence[_Choice]) -> _Choice:
        """One of ``choices``, e.g. a field type."""
        if raw not in choices:
            self.fail(where, f"must be one of {', '.join(choices)}")
        return cast("_Choice", raw)

    def snake_case(self, raw: object, where: str) -> str:
        """A name such as ``date_of_birth``."""
        value = self.string(raw, where)
        if not _SNAKE_CASE.fullmatch(value):
            self.fail(where, "must be lowercase snake_case")
        return value

    def slug(self, raw: object, where: str) -> str:
        """A name such as ``tehsil`` or ``municipal-corporation``."""
        value = self.string(raw, where)
        if not _SLUG.fullmatch(value):
            self.fail(where, "must be lowercase words joined by hyphens")
        return value

    def pattern(self, raw: object, where: str) -> re.Pattern[str]:
        """A regular expression, compiled."""
        source = self.string(raw, where)
        try:
            return re.compile(source)
        except re.error as exc:
            self.fail(where, f"invalid regular expression: {exc}")

    def localized(self, raw: object, where: str) -> LocalizedText:
        """A text in every language of :data:`sanad.i18n.LANGUAGES`, none blank."""
        if not isinstance(raw, dict) or raw.keys() != _LANGUAGE_SET:
            self.fail(where, f"must map exactly {LANGUAGE_LIST} to text")
        return LocalizedText(**{language: self.string(raw[language], f"{where}.{language}") for language in LANGUAGES})
