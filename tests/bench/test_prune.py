"""Which of a running batch's documents the bench may remove from MinIO."""

from __future__ import annotations

from typing import Any

from bench.prune import removable


def _rows(*rows: tuple[int, str, str | None, bool | None]) -> list[Any]:
    return list(rows)


def test_rows_are_removed_up_to_the_first_one_still_pending() -> None:
    rows = _rows((1, "issued", "a.pdf", False), (2, "issued", "b.pdf", False), (3, "pending", None, None))
    rows.append((4, "issued", "d.pdf", False))  # a later chunk done first: left for the next pass
    assert removable(rows, 0) == (["a.pdf", "b.pdf"], 2)


def test_a_document_still_at_b_t_stops_the_pass_and_a_failed_row_is_passed_over() -> None:
    rows = _rows((5, "failed", None, None), (6, "issued", "f.pdf", False), (7, "issued", "g.pdf", True))
    assert removable(rows, 4) == (["f.pdf"], 6)


def test_nothing_removable_leaves_the_cursor_where_it_was() -> None:
    assert removable(_rows((9, "pending", None, None)), 8) == ([], 8)
    assert removable([], 8) == ([], 8)
