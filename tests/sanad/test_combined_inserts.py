"""Several inserts written as one statement, with PostgreSQL's numbered placeholders: each
row's values are taken in the order the statement numbers them."""

from __future__ import annotations

import pytest

from sanad.combined_inserts import combined_insert

PARENT = "INSERT INTO parent (id, name) VALUES (%(id)s, %(name)s::VARCHAR)"
CHILD = "INSERT INTO child (parent_id, note) VALUES (%(parent_id)s, %(note)s)"


def test_every_insert_but_the_last_is_a_common_table_expression() -> None:
    statement = combined_insert(((PARENT, 1), (CHILD, 2)))

    assert statement.sql == (
        b"WITH s0 AS (INSERT INTO parent (id, name) VALUES ($1, $2::VARCHAR)) "
        b"INSERT INTO child (parent_id, note) VALUES ($3, $4), ($5, $6)"
    )


def test_the_values_come_in_the_order_the_statement_numbers_them() -> None:
    statement = combined_insert(((PARENT, 1), (CHILD, 2)))

    parameters = statement.parameters(
        [[{"name": "a", "id": 1}], [{"note": "x", "parent_id": 1}, {"parent_id": 1, "note": "y"}]]
    )

    assert parameters == [1, "a", 1, "x", 1, "y"]


def test_rows_that_do_not_match_the_statement_are_refused() -> None:
    statement = combined_insert(((PARENT, 1), (CHILD, 1)))

    with pytest.raises(ValueError, match="shorter"):  # one insert's rows missing
        statement.parameters([[{"id": 1, "name": "a"}]])
    with pytest.raises(KeyError):
        statement.parameters([[{"id": 1}], [{"parent_id": 1, "note": None}]])


def test_one_insert_stays_a_plain_insert() -> None:
    assert combined_insert(((CHILD, 1),)).sql == b"INSERT INTO child (parent_id, note) VALUES ($1, $2)"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE parent SET name = %(name)s",
        PARENT + " RETURNING id",
        "INSERT INTO parent (id, name) VALUES (%(id)s, %(id)s)",
        "INSERT INTO parent (id, name) VALUES (%(id)s, '100%%')",
    ],
)
def test_a_statement_that_is_not_an_insert_of_named_values_is_refused(sql: str) -> None:
    with pytest.raises(ValueError, match="not an insert of one row of values"):
        combined_insert(((sql, 1), (CHILD, 1)))
