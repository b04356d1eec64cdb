"""The QR target's answers kept in memory, per server process, fresh by PostgreSQL's word.

``GET /v/{id}`` is the most-read route: every scan asks about one of a few documents
again and again. Each process keeps the answer for up to ``capacity`` documents (least
recently asked dropped first) and serves it with no database read, only while its
``ChangeListener`` hears every change (``issuer.public_records``):

- a change committed anywhere evicts the document when its notification arrives (a
  change made through this process, a lifecycle event, also right after its commit);
- while the listener is not connected, or has not heard its own echo (or any change) for
  ``silence_seconds``, the cache neither serves nor keeps answers, and it starts empty
  when the listener connects again;
- a read that began before an eviction is not kept (the ``ticket``): it may have read the
  row before the change committed;
- unknown ids are kept apart, in a list of their own (``unknown_capacity``), so a burst
  of made-up ids cannot push real answers out; a document added with such an id evicts it
  like any change (the insert's notification, and this process's own issue right after
  its commit), so a new document is found at once. A 404 then costs what a kept answer
  costs, and neither speed tells whether an id exists: an id asked for the first time is
  read from the registry whether it exists or not;
- what depends on the clock is checked at every answer: an issued document's answer
  holds only on the side of its ``valid_until`` it was read on (it reads "expired" after).

On SQLite nothing announces changes (several processes share one file), so there is no
cache there: ``LookupCache.disabled()``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from issuer.models import Document, DocumentStatus
from issuer.public_records import EVERY_RECORD, ChangeListener, libpq_conninfo
from issuer.service import PublicRecord, public_record
from sanad.db import make_engine, make_read_session_factory
from verifier.schemas import LookupResult
from web.compression import KeptBody

PAGES_PER_ANSWER = 8
"""Three languages, each under ``/v/`` and ``/V/``, and a couple of other queries; beyond
that a page is rendered each time (made-up queries cannot grow an answer)."""


@dataclass(frozen=True, slots=True)
class LookupAnswer:
    """What ``GET /v/{id}`` answers about one id, read at one moment, with the bytes sent
    for it: a kept answer is sent with no rendering, hashing nor compressing. Whatever
    drops the answer from the cache drops its bodies with it."""

    result: LookupResult
    json: KeptBody
    """The JSON answer's body, as ``JSONResponse`` encodes ``result``."""
    lapses_after: date | None
    """An issued document's last valid day: the answer reads "expired" after it."""
    pages: dict[tuple[str, str, bytes], KeptBody] = field(default_factory=dict)
    """The HTML page as rendered, by (language, path, query string): its links to the
    other languages repeat the address. Kept only for a found document, a few at most."""

    @classmethod
    def of(cls, record: PublicRecord | None) -> LookupAnswer:
        result = LookupResult.of(record)
        # Revoked, suspended or superseded stay so whatever the date; issued lapses.
        dated = record is not None and record.status in (DocumentStatus.ISSUED, "expired")
        return cls(
            result=result,
            json=KeptBody(bytes(JSONResponse(result.model_dump(mode="json")).body)),
            lapses_after=record.valid_until if dated and record is not None else None,
        )

    def keep_page(self, key: tuple[str, str, bytes], page: KeptBody) -> None:
        if self.found and len(self.pages) < PAGES_PER_ANSWER:
            self.pages[key] = page

    @property
    def found(self) -> bool:
        return self.result.document is not None

    def holds_on(self, today: date) -> bool:
        """Whether the answer is still what a read on ``today`` would give."""
        if self.lapses_after is None:
            return True
        return (today > self.lapses_after) == (self.result.status == "expired")


UNKNOWN = LookupAnswer.of(None)
"""The one answer about every id the registry does not hold."""


class LookupCache:
    """A bounded LRU of ``LookupAnswer`` by document id, served only while it hears every
    change (it is the ``ChangeWatcher`` of its listener). Safe across threads: the event
    loop reads and fills it, the listener's thread evicts."""

    def __init__(
        self,
        capacity: int,
        read_sessions: sessionmaker[Session],
        *,
        silence_seconds: float = 5.0,
        unknown_capacity: int | None = None,
    ) -> None:
        self.capacity = capacity
        # An unknown id's entry is its key alone (every one shares ``UNKNOWN``).
        self.unknown_capacity = capacity if unknown_capacity is None else unknown_capacity
        self.read_sessions = read_sessions
        """Where an answer not kept is read (``read``)."""
        self._silence_seconds = silence_seconds
        self._answers: OrderedDict[str, LookupAnswer] = OrderedDict()
        self._unknown: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._listening = False
        self._heard_at = 0.0
        self._generation = 0
        self.listener: ChangeListener | None = None
        self._own_engine: Engine | None = None

    @classmethod
    def for_engine(cls, engine: Engine, capacity: int) -> LookupCache:
        """A cache fed by a listener on ``engine``'s database (started by ``start``); on
        SQLite, or with ``capacity`` 0, one that never serves.

        On PostgreSQL the answers not kept are read through a pool of their own with no
        ``SELECT 1`` before each checkout (one round trip instead of two: what a 404
        costs); ``read`` retries once when the connection it got was dropped."""
        if capacity <= 0 or engine.dialect.name != "postgresql":
            return cls(0, make_read_session_factory(engine))
        url = engine.url.render_as_string(hide_password=False)
        own_engine = make_engine(url, pre_ping=False)
        cache = cls(capacity, make_read_session_factory(own_engine))
        cache._own_engine = own_engine
        cache.listener = ChangeListener(libpq_conninfo(engine.url), cache)
        return cache

    def start(self) -> None:
        if self.listener is not None:
            self.listener.start()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
        if self._own_engine is not None:
            self._own_engine.dispose()

    def read(self, document_id: str) -> LookupAnswer:
        """The registry's answer about ``document_id`` (a blocking read), kept when the
        cache can vouch for it."""
        ticket = self.ticket()  # before the read: a change committed during it voids keeping it
        try:
            answer = self._read(document_id)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            answer = self._read(document_id)  # dropped by a database restart: once more, on a new one
        self.put(document_id, answer, ticket)
        return answer

    def _read(self, document_id: str) -> LookupAnswer:
        with self.read_sessions() as session:
            record = public_record(session, document_id)
        return UNKNOWN if record is None else LookupAnswer.of(record)

    # --- serving ------------------------------------------------------------------

    @property
    def serving(self) -> bool:
        return self._listening and time.monotonic() - self._heard_at < self._silence_seconds

    def get(self, document_id: str, today: date) -> LookupAnswer | None:
        """The kept answer, or None: not kept, no longer true on ``today``, or the cache
        cannot vouch for anything now."""
        if not self.serving:
            return None
        with self._lock:
            answer = self._answers.get(document_id)
            if answer is None:
                if document_id in self._unknown:
                    self._unknown.move_to_end(document_id)
                    return UNKNOWN
                return None
            if not answer.holds_on(today):
                del self._answers[document_id]
                return None
            self._answers.move_to_end(document_id)
            return answer

    def ticket(self) -> int | None:
        """Taken before reading a record from the database, handed to ``put``; None when
        nothing read now may be kept."""
        return self._generation if self.serving else None

    def put(self, document_id: str, answer: LookupAnswer, ticket: int | None) -> bool:
        """Keep ``answer``, unless anything was evicted since ``ticket`` (the read may
        predate that change) or the cache cannot vouch for it."""
        if ticket is None:
            return False
        with self._lock:
            if ticket != self._generation or not self.serving:
                return False
            if answer.found:
                self._answers[document_id] = answer
                self._answers.move_to_end(document_id)
                while len(self._answers) > self.capacity:
                    self._answers.popitem(last=False)
            elif self.unknown_capacity > 0:
                self._unknown[document_id] = None
                self._unknown.move_to_end(document_id)
                while len(self._unknown) > self.unknown_capacity:
                    self._unknown.popitem(last=False)
            else:
                return False
            return True

    def __contains__(self, document_id: object) -> bool:
        return document_id in self._answers or document_id in self._unknown

    def __len__(self) -> int:
        """Answers kept about documents (not counting unknown ids)."""
        return len(self._answers)

    @property
    def unknown_kept(self) -> int:
        return len(self._unknown)

    # --- told by the listener (ChangeWatcher) ------------------------------------

    def connected(self) -> None:
        with self._lock:
            self._clear()
            self._heard_at = time.monotonic()
            self._listening = True

    def lost(self) -> None:
        with self._lock:
            self._listening = False
            self._clear()

    def heard(self) -> None:
        self._heard_at = time.monotonic()

    def changed(self, document_id: str) -> None:
        self.heard()  # a notification proves the connection alive as well as a ping
        self.evict(document_id)

    def evict(self, document_id: str) -> None:
        """Drop the answer about ``document_id`` (``EVERY_RECORD``: every answer)."""
        with self._lock:
            if document_id == EVERY_RECORD:
                self._clear()
            else:
                self._generation += 1
                self._answers.pop(document_id, None)
                self._unknown.pop(document_id, None)

    def _clear(self) -> None:
        self._generation += 1
        self._answers.clear()
        self._unknown.clear()

    # --- told by this process's lifecycle events -----------------------------------

    def evict_after_commit(self, session: Session, document: Document, _event: str) -> None:
        """An ``issuer.events`` listener: the change's own process drops the answer as soon
        as it commits, before the notification comes back to it, so whoever made the
        change sees it on their next request here."""
        document_id = document.id

        def evict(_session: Any) -> None:
            self.evict(document_id)

        sqlalchemy_event.listen(session, "after_commit", evict, once=True)
