"""The catalogue's YAML loader means what ``yaml.safe_load`` means, and refuses what a
hand-edited file should not contain."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sanad.strict_yaml import load_yaml

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", sorted((REPO / "catalogue").rglob("*.yaml")), ids=lambda p: p.name)
def test_shipped_files_load_as_safe_load_would(path: Path) -> None:
    text = path.read_text("utf-8")
    assert load_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text",
    [
        "flags: [yes, No, on, OFF, true, False]",
        "empty: [~, null, '', Null]",
        "numbers: [0, -0, 7, -12, +5, 0x1F, 0o17, 017, 1_000, 190:20:30, 3.5, -.inf, .NaN]",
        "dates: [2026-01-26, 2026-01-26 10:30:00, 2026-01-26T10:30:00+05:30]",
        "strings: ['12', \"yes\", ਪੰਜਾਬ, पंजाब, 'a: b']",
        "anchors: {base: &b {x: 1}, again: *b, list: &l [1, 2], same: *l}",
        "nested: {a: [{b: [1, {c: d}]}]}",
        "multi: |\n  line one\n  line two\n",
        "tags: [!!str 12, !!int '7', ! 12, !!float 1, '', \"\", -, .5, ~]",
        "",
        "just a string",
    ],
)
def test_values_mean_what_safe_load_says(text: str) -> None:
    expected = yaml.safe_load(text)
    loaded = load_yaml(text)
    if isinstance(expected, dict) and "numbers" in expected:  # NaN is not equal to itself
        assert repr(loaded) == repr(expected)
    else:
        assert loaded == expected


def test_aliases_share_one_object_as_in_safe_load() -> None:
    loaded = load_yaml("a: &x [1]\nb: *x\n")
    assert isinstance(loaded, dict)
    assert loaded["a"] is loaded["b"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: 1\nb: 2\na: 3\n", "found duplicate key 'a'"),
        ("outer:\n  x: 1\n  x: 1\n", "found duplicate key 'x'"),
        ("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n", r"merge keys \(<<\) are not supported"),
        ("? [a, b]\n: 1\n", "unhashable key"),
        ("a: !!python/object:os.system 'ls'\n", "could not determine a constructor"),
        ("a: [1\n", "expected ',' or ']'"),
    ],
)
def test_refused(text: str, problem: str) -> None:
    with pytest.raises(yaml.YAMLError, match=problem):
        load_yaml(text)
