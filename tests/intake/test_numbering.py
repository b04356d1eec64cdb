"""Application numbers: never given twice, and on PostgreSQL no submission waits for
another's transaction to take its number."""

from __future__ import annotations

import secrets
import threading

import pytest

from intake import repository
from intake.models import ApplicationCounter
from tests.conftest import Backend


def _prefix() -> str:
    return "PB-T-" + secrets.token_hex(3).upper()


def test_numbers_follow_one_another(backend: Backend) -> None:
    prefix = _prefix()
    with backend.context.sessions() as session:
        numbers = [repository.next_serial(session, prefix, 2026) for _ in range(3)]
        other_year = repository.next_serial(session, prefix, 2027)
        session.commit()

    assert numbers == [1, 2, 3]
    assert other_year == 1


def test_numbering_carries_on_from_the_counter_row(backend: Backend) -> None:
    prefix = _prefix()
    with backend.context.sessions() as session:
        session.add(ApplicationCounter(prefix=prefix, year=2026, last=41))
        session.commit()
        number = repository.next_serial(session, prefix, 2026)
        session.commit()

    assert number == 42


def test_a_number_taken_by_a_failed_submission_is_never_given_again(backend: Backend) -> None:
    prefix = _prefix()
    with backend.context.sessions() as session:
        repository.next_serial(session, prefix, 2026)
        session.commit()
        taken = repository.next_serial(session, prefix, 2026)
        session.rollback()
        after = repository.next_serial(session, prefix, 2026)
        session.commit()

    assert taken == 2
    assert after == (3 if backend.name != "embedded" else 2)  # SQLite gives it back


def test_a_submission_does_not_wait_for_another_to_commit(backend: Backend) -> None:
    if backend.name == "embedded":
        pytest.skip("SQLite has one writer at a time: submissions wait for each other there by design")
    prefix = _prefix()
    with backend.context.sessions() as first:
        repository.next_serial(first, prefix, 2026)
        first.commit()  # the sequence exists from now on
        held = repository.next_serial(first, prefix, 2026)  # its transaction stays open
        taken: list[int] = []

        def second_submission() -> None:
            with backend.context.sessions() as second:
                taken.append(repository.next_serial(second, prefix, 2026))
                second.commit()

        thread = threading.Thread(target=second_submission)
        thread.start()
        thread.join(5)
        finished_while_first_open = not thread.is_alive()
        first.commit()
        thread.join(5)

    assert finished_while_first_open
    assert taken == [held + 1]


def test_two_prefixes_never_share_a_sequence() -> None:
    assert repository.serial_sequence("PB-REV-INC", 2026) != repository.serial_sequence("PB_REV_INC", 2026)
    assert repository.serial_sequence("PB-REV-INC", 2026).startswith("application_serial_pb_rev_inc_")
