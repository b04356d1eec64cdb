"""Appending: an entry is written with the change it records, in its transaction, and
concurrent transactions take distinct, consecutive indices."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import audit
from audit import repository
from audit.entries import NotCanonical, parse
from audit.log import pending
from audit.merkle import leaf_hash
from sanad.departments import DepartmentNames, add_department
from sanad.models import Department
from tests.conftest import Backend


def _subject() -> str:
    return f"test:{secrets.token_hex(6)}"


def _about(backend: Backend, subject: str) -> list[tuple[int, str, str]]:
    with backend.context.sessions() as s:
        return [(e.leaf_index, e.action, e.actor) for e in repository.about(s, [subject], limit=100)]


def test_an_entry_is_written_when_the_change_commits(backend: Backend) -> None:
    subject = _subject()
    with backend.context.sessions() as s:
        audit.record(s, action="test.change", subject=subject, actor="staff:tester", details={"n": 1, "ok": True})
        assert pending(s) == 1
        assert _about(backend, subject) == []  # nothing is visible before the commit
        s.commit()
    with backend.context.sessions() as s:
        (row,) = repository.about(s, [subject], limit=10)
        stated = parse(row.entry.encode("utf-8"))
        assert stated.index == row.leaf_index
        assert (stated.action, stated.subject, stated.actor) == ("test.change", subject, "staff:tester")
        assert dict(stated.details) == {"n": 1, "ok": True}
        assert bytes(row.leaf_hash) == leaf_hash(row.entry.encode("utf-8"))
        assert repository.head_size(s) > row.leaf_index


def test_a_rolled_back_change_leaves_no_entry_and_no_gap(backend: Backend) -> None:
    subject = _subject()
    with backend.context.sessions() as s:
        before = repository.head_size(s)
    with backend.context.sessions() as s:
        audit.record(s, action="test.change", subject=subject, actor="staff:tester")
        s.rollback()
        assert pending(s) == 0
        s.commit()  # a later commit of the same session writes nothing it forgot
    assert _about(backend, subject) == []
    with backend.context.sessions() as s:
        assert repository.head_size(s) >= before
        assert repository.entry_count(s) == repository.head_size(s)


def test_an_entry_goes_with_its_change_when_the_commit_fails(backend: Backend) -> None:
    subject, code = _subject(), f"A{secrets.token_hex(3).upper()}"
    names = DepartmentNames(en="Audit Test", pa="ਟੈਸਟ", hi="परीक्षण")
    with backend.context.sessions() as s:
        add_department(s, code, names)
        s.commit()
    with backend.context.sessions() as s:
        # The same code again, behind the service's back: the commit fails.
        s.add(Department(code=code, name_en="x", name_pa="x", name_hi="x", created_at=datetime.now(UTC)))
        audit.record(s, action="department.add", subject=f"department:{code}", actor="staff:tester")
        audit.record(s, action="test.change", subject=subject, actor="staff:tester")
        with pytest.raises(IntegrityError):
            s.commit()
        s.rollback()
    assert _about(backend, subject) == []


def test_an_entry_noted_in_a_rolled_back_savepoint_is_dropped(backend: Backend) -> None:
    kept, dropped = _subject(), _subject()
    with backend.context.sessions() as s:
        audit.record(s, action="test.kept", subject=kept, actor="staff:tester")
        savepoint = s.begin_nested()
        audit.record(s, action="test.dropped", subject=dropped, actor="staff:tester")
        savepoint.rollback()
        s.commit()
    assert [a for _, a, _ in _about(backend, kept)] == ["test.kept"]
    assert _about(backend, dropped) == []


def test_several_entries_of_one_transaction_are_consecutive(backend: Backend) -> None:
    subject = _subject()
    with backend.context.sessions() as s:
        for n in range(3):
            audit.record(s, action=f"test.step{n}", subject=subject, actor="staff:tester")
        s.commit()
    found = sorted(_about(backend, subject))
    indices = [i for i, _, _ in found]
    assert indices == list(range(indices[0], indices[0] + 3))
    assert [a for _, a, _ in found] == ["test.step0", "test.step1", "test.step2"]


def test_details_that_have_no_canonical_form_are_refused_at_once(session: Session) -> None:
    with pytest.raises(NotCanonical, match="float"):
        audit.record(session, action="test.change", subject="test:x", actor="staff:tester", details={"x": 1.5})
    assert pending(session) == 0


def _at_once(count: int, work: Callable[[int], None]) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            barrier.wait()
            work(n)
        except BaseException as e:  # reported to the test
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_concurrent_transactions_take_distinct_consecutive_indices(backend: Backend) -> None:
    subject = _subject()
    names = DepartmentNames(en="Audit Test", pa="ਟੈਸਟ", hi="परीक्षण")

    def append(n: int) -> None:
        with backend.context.sessions() as s:
            # A change of its own, flushed before the entry (as every caller's is).
            add_department(s, f"C{secrets.token_hex(3).upper()}", names)
            audit.record(s, action="test.concurrent", subject=subject, actor=f"staff:t{n}", details={"n": n})
            audit.record(s, action="test.concurrent.second", subject=subject, actor=f"staff:t{n}")
            s.commit()

    assert _at_once(12, append) == []
    found = sorted(_about(backend, subject))
    assert len(found) == 24
    by_actor: dict[str, list[int]] = {}
    for index, _, actor in found:
        by_actor.setdefault(actor, []).append(index)
    # Each transaction's two entries are next to each other: no other commit came between.
    assert all(b == a + 1 for a, b in by_actor.values())
    with backend.context.sessions() as s:
        assert repository.entry_count(s) == repository.head_size(s)
        assert [e.leaf_index for e in repository.walk(s)] == list(range(repository.head_size(s)))


def test_appending_adds_no_deadlock_to_transactions_that_wait_on_each_other(backend: Backend) -> None:
    """One transaction holds a row another then waits for; both record. Had the first
    append taken the head at ``record`` time, the holder's commit would wait for the head
    while the head's holder waits for the row: a deadlock. The head is taken at commit."""
    subject = _subject()
    names = DepartmentNames(en="Audit Test", pa="ਟੈਸਟ", hi="परीक्षण")
    with backend.context.sessions() as s:
        code = f"L{secrets.token_hex(3).upper()}"
        add_department(s, code, names)
        s.commit()
    holding, waiting = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def rename(session: Session, name: str) -> None:
        session.execute(update(Department).where(Department.code == code).values(name_en=name))

    def holder() -> None:
        try:
            with backend.context.sessions() as s:
                rename(s, "first")  # holds the row
                holding.set()
                waiting.wait(10)
                time.sleep(0.3)  # the other is now blocked on the row, with its entry noted
                audit.record(s, action="test.holder", subject=subject, actor="staff:holder")
                s.commit()
        except BaseException as e:
            errors.append(e)

    def waiter() -> None:
        try:
            holding.wait(10)
            with backend.context.sessions() as s:
                audit.record(s, action="test.waiter", subject=subject, actor="staff:waiter")
                waiting.set()
                rename(s, "second")  # waits for the holder's commit
                s.commit()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert [action for _, action, _ in sorted(_about(backend, subject))] == ["test.holder", "test.waiter"]
