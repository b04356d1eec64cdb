"""Disposal histograms of settled months, merged once and kept by each server process.

A disposal is tallied under the month it was decided in (India time), inside the
transaction that records the decision, so a month's tallies stop changing once the month
is over and its last deciding transaction has committed. The pendency report then reads
only the live months' tallies and adds the kept sum of the settled ones: a year of
tallies (~4,000 rows × 61 buckets at 1M applications) was most of the report's time, and
the live month is a twelfth of it. The figures stay exact, with no staleness to state:
open counts, appeals and the live months are read on every request.

A month counts as settled from the second day of the next month (a deciding transaction
that began on the last evening of a month has long committed by then). Kept sums are
read again all the same, so a correction made in the database by hand shows within
:data:`KEEP_FOR`: in the background once a sum is :data:`REFRESH_AFTER` old and still
read, so that the re-read (tens of milliseconds at 1M applications) is no request's
wait; in the request only when a sum has gone unread for that long.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from operator import add

from sqlalchemy import Engine
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Place = tuple[int, str, str]
"""(department id, office, service)."""
Histograms = dict[Place, tuple[int, ...]]
Loader = Callable[[Session], Sequence[tuple[int, str, str, Sequence[int]]]]
"""Reads the settled months' rows with the session it is given."""

KEEP_FOR = 600.0
"""Seconds a kept sum is trusted before the settled months are read again."""

REFRESH_AFTER = 480.0
"""Seconds after which a kept sum that is read is re-read in the background."""

MAX_FILTERS = 256
"""Filter combinations kept per database (least recently used go first)."""


def live_from(today: date) -> str:
    """The first month (``YYYY-MM``) whose tallies may still change on ``today``."""
    return (today - timedelta(days=1)).strftime("%Y-%m")


def add_into(total: list[int], more: Sequence[int]) -> None:
    """Adds ``more`` to ``total`` in place, bucket by bucket in C (``map``): a Python
    loop over the buckets was most of the report's own CPU."""
    if len(total) < len(more):
        total.extend([0] * (len(more) - len(total)))
    total[: len(more)] = map(add, total, more)


def merge(rows: Sequence[tuple[int, str, str, Sequence[int]]]) -> Histograms:
    """Each place's histograms added up (a place with only empty months keeps a row)."""
    sums: dict[Place, list[int]] = {}
    for dept, office, service, histogram in rows:
        add_into(sums.setdefault((dept, office, service), []), histogram)
    return {place: tuple(histogram) for place, histogram in sums.items()}


@dataclass(frozen=True)
class _Kept:
    histograms: Histograms
    read_at: float


def _in_a_thread(job: Callable[[], None]) -> None:
    threading.Thread(target=job, name="pendency-settled-refresh", daemon=True).start()


class SettledHistograms:
    """Merged histograms of settled months per database and filter; safe across threads.

    A kept sum older than :data:`REFRESH_AFTER` is read again in the background while
    requests go on with it, so no request waits for the settled months of a filter that
    is read regularly; only a filter first read (or unread for :data:`KEEP_FOR`) is read
    inside the request."""

    def __init__(
        self,
        keep_for: float = KEEP_FOR,
        clock: Callable[[], float] = time.monotonic,
        max_filters: int = MAX_FILTERS,
        refresh_after: float = REFRESH_AFTER,
        start: Callable[[Callable[[], None]], None] = _in_a_thread,
    ) -> None:
        self._keep_for = keep_for
        self._refresh_after = refresh_after
        self._clock = clock
        self._max_filters = max_filters
        self._start = start
        self._lock = threading.Lock()
        # Per engine, so that two databases in one process (tests, tools) never share sums.
        self._by_engine: weakref.WeakKeyDictionary[Engine, OrderedDict[tuple[object, ...], _Kept]] = (
            weakref.WeakKeyDictionary()
        )
        self._refreshing: set[tuple[int, tuple[object, ...]]] = set()

    def histograms(self, session: Session, key: tuple[object, ...], load: Loader) -> Histograms:
        """The kept sums for ``key`` (the filters and the settled months' range), or what
        ``load`` reads with ``session``, merged and kept."""
        engine = session.get_bind().engine
        now = self._clock()
        with self._lock:
            kept = self._by_engine.setdefault(engine, OrderedDict())
            found = kept.get(key)
            if found is not None and now - found.read_at < self._keep_for:
                kept.move_to_end(key)
                refresh = now - found.read_at >= self._refresh_after and self._claim(engine, key)
            else:
                found, refresh = None, False
        if found is not None:
            if refresh:
                self._start(lambda: self._refresh(engine, key, load))
            return found.histograms
        # Read outside the lock: two threads missing at once both read, and agree.
        histograms = merge(load(session))
        self._keep(engine, key, histograms, now)
        return histograms

    def _claim(self, engine: Engine, key: tuple[object, ...]) -> bool:
        """True for the one caller that is to refresh ``key`` (under the lock)."""
        claim = (id(engine), key)
        if claim in self._refreshing:
            return False
        self._refreshing.add(claim)
        return True

    def _refresh(self, engine: Engine, key: tuple[object, ...], load: Loader) -> None:
        read_at = self._clock()
        try:
            with Session(engine) as session:
                self._keep(engine, key, merge(load(session)), read_at)
        except Exception:
            # The kept sum serves on until it expires; the request after that reads itself.
            log.warning("re-reading the settled months' disposal histograms failed", exc_info=True)
        finally:
            with self._lock:
                self._refreshing.discard((id(engine), key))

    def _keep(self, engine: Engine, key: tuple[object, ...], histograms: Histograms, read_at: float) -> None:
        with self._lock:
            kept = self._by_engine.setdefault(engine, OrderedDict())
            newer = kept.get(key)
            if newer is not None and newer.read_at > read_at:
                return  # a slow re-read finishing after a request read the months itself
            kept[key] = _Kept(histograms, read_at)
            kept.move_to_end(key)
            while len(kept) > self._max_filters:
                kept.popitem(last=False)


SETTLED = SettledHistograms()
"""The server process's kept sums."""
