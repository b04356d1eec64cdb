"""Several inserts written as one statement: each row's values keep their own names."""

from __future__ import annotations

import pytest

from sanad.combined_inserts import combined_parameters, combined_sql

PARENT = "INSERT INTO parent (id, name) VALUES (%(id)s, %(name)s::VARCHAR)"
CHILD = "INSERT INTO child (parent_id) VALUES (%(parent_id)s)"


def test_every_insert_but_the_last_is_a_common_table_expression() -> None:
    sql = combined_sql(((PARENT, 1), (CHILD, 2)))

    assert sql == (
        "WITH s0 AS (INSERT INTO parent (id, name) VALUES (%(s0r0_id)s, %(s0r0_name)s::VARCHAR)) "
        "INSERT INTO child (parent_id) VALUES (%(s1r0_parent_id)s), (%(s1r1_parent_id)s)"
    )


def test_the_values_are_named_as_the_statement_names_them() -> None:
    parameters = combined_parameters([[{"id": 1, "name": "a"}], [{"parent_id": 1}, {"parent_id": 1}]])

    assert parameters == {"s0r0_id": 1, "s0r0_name": "a", "s1r0_parent_id": 1, "s1r1_parent_id": 1}


def test_one_insert_stays_a_plain_insert() -> None:
    assert combined_sql(((CHILD, 1),)) == "INSERT INTO child (parent_id) VALUES (%(s0r0_parent_id)s)"


@pytest.mark.parametrize("sql", ["UPDATE parent SET name = %(name)s", PARENT + " RETURNING id"])
def test_a_statement_that_is_not_an_insert_of_values_is_refused(sql: str) -> None:
    with pytest.raises(ValueError, match="not an insert of one row of values"):
        combined_sql(((sql, 1), (CHILD, 1)))
