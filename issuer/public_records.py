"""Hearing, in every server process, that a document's public record changed.

On PostgreSQL a trigger (migration 0023) calls ``pg_notify(CHANNEL, document_id)`` in the
transaction that changes anything ``service.public_record`` shows (status, reasons,
signature level, number, holder's name, successor) or deletes the row, and with an empty
payload (``EVERY_RECORD``) when a department's code or names change. PostgreSQL delivers
a notification only once its transaction commits, to every connection listening, in every
process and on every machine.

``ChangeListener`` is that connection: one daemon thread per process, with a connection
of its own, telling a ``ChangeWatcher`` what it hears and when it cannot hear. A cache of
public records built on it must stop serving while it cannot hear (nothing tells it what
changed meanwhile) and start empty once it hears again. Every ``ping_seconds`` the
connection notifies itself on a channel of its own and the watcher is told ``heard()``
when that comes back: proof that notifications reach it, end to end. So a connection that
dies without a word (a network gone silent), or one whose ``LISTEN`` does not hold (a
pooler in transaction mode between it and PostgreSQL), leaves the watcher hearing nothing,
and it refuses to serve after a while.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import psycopg
from sqlalchemy import URL

log = logging.getLogger(__name__)

CHANNEL = "sanad_public_record"
"""Written literally in migration 0023's trigger functions too."""
EVERY_RECORD = ""
"""The payload saying every record may have changed (a department renamed)."""


class ChangeWatcher(Protocol):
    def connected(self) -> None:
        """Listening again: anything may have changed while nobody was."""

    def lost(self) -> None:
        """Not listening: changes from now on go unheard."""

    def heard(self) -> None:
        """A notification the connection sent itself came back: notifications reach it."""

    def changed(self, document_id: str) -> None:
        """This document's public record changed (``EVERY_RECORD``: any may have)."""


def libpq_conninfo(url: URL) -> str:
    """The libpq address of the engine's database (its driver name dropped)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class ChangeListener:
    """A daemon thread listening on ``CHANNEL`` and reconnecting until stopped."""

    def __init__(
        self,
        conninfo: str,
        watcher: ChangeWatcher,
        *,
        ping_seconds: float = 1.0,
        reconnect_seconds: float = 0.5,
        max_reconnect_seconds: float = 5.0,
    ) -> None:
        self._conninfo = conninfo
        self._watcher = watcher
        self._ping_seconds = ping_seconds
        self._reconnect_seconds = reconnect_seconds
        self._max_reconnect_seconds = max_reconnect_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.backend_pid: int | None = None
        """The listening connection's server process, while connected (for operators and tests)."""

    def start(self) -> None:
        """Start listening (once; later calls do nothing while it runs)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="public-record-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        delay = self._reconnect_seconds
        while not self._stopping.is_set():
            try:
                self._listen()
                delay = self._reconnect_seconds
            except Exception as error:  # any failure: stop serving, then try again
                log.warning("public record changes not heard (%s); reconnecting in %.1f s", error, delay)
            finally:
                self.backend_pid = None
                self._watcher.lost()
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, self._max_reconnect_seconds)

    def _listen(self) -> None:
        # keepalives and tcp_user_timeout bound how long a silently dead connection
        # blocks the ping; the watcher stops serving on its own meanwhile.
        with psycopg.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=3,
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=2,
            tcp_user_timeout=10_000,
        ) as connection:
            self.backend_pid = connection.info.backend_pid
            echo = f"{CHANNEL}_echo_{self.backend_pid}"  # this connection's alone
            connection.execute(f"LISTEN {CHANNEL}")
            connection.execute(f"LISTEN {echo}")
            self._watcher.connected()
            while not self._stopping.is_set():
                connection.execute("SELECT pg_notify(%s, '')", (echo,))
                for notification in connection.notifies(timeout=self._ping_seconds):
                    if notification.channel == echo:
                        self._watcher.heard()
                    else:
                        self._watcher.changed(notification.payload)
