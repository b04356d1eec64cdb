"""Database engine and sessions. Engines are built once at start-up and passed in."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, CompoundSelect, DateTime, Engine, Select, Table, create_engine, event, insert
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from sanad.combined_inserts import MAX_PARAMETERS, combined_insert


class Base(DeclarativeBase):
    pass


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the single writer; the busy timeout makes
    # concurrent writers wait instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str, *, pre_ping: bool = True) -> Engine:
    """``pre_ping=False``: no ``SELECT 1`` round trip at each checkout, for a caller that
    retries once on a connection found dead (``DBAPIError.connection_invalidated``)."""
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(
        url,
        pool_size=10,
        max_overflow=10,
        pool_pre_ping=pre_ping,
        pool_timeout=5,
        connect_args={"connect_timeout": 3},
    )


def make_read_engine(engine: Engine) -> Engine:
    """The engine :class:`PreparedRead` runs on: on PostgreSQL a pool of its own without
    pre-ping (one round trip a read instead of two; a read retries once on a connection
    found dropped); elsewhere ``engine`` itself (SQLite has no connection to lose)."""
    if engine.dialect.name != "postgresql":
        return engine
    return make_engine(engine.url.render_as_string(hide_password=False), pre_ping=False)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions for a request that only reads, each statement its own transaction: on
    PostgreSQL no ``BEGIN`` and ``COMMIT`` round trips around a single lookup (the QR
    target's two of four). Nothing written through one is ever committed."""
    return sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


class ReadRow:
    """One row of a :class:`PreparedRead`: its columns by label, as attributes and in
    ``_mapping`` (as a SQLAlchemy ``Row`` offers them)."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    order: tuple[str, ...] | None
    """Parameter names in placeholder order for a positional driver (SQLite), else None."""
    fixed: Mapping[str, Any]
    """Values the statement carries itself (its literals), by parameter name."""
    binders: Mapping[str, Callable[[Any], Any]]
    labels: tuple[str, ...]
    readers: tuple[Callable[[Any], Any] | None, ...]


class PreparedRead:
    """A SELECT run straight on a pooled driver connection, outside any transaction
    (:meth:`rows`), or on a session's, in its transaction (:meth:`rows_in`).

    SQLAlchemy's per-statement machinery (a ``Session``, a ``Connection``, the statement's
    cache key, result objects) costs several times the driver's own work for a one-row
    lookup on the hottest routes. The statement is compiled once per dialect, with its
    parameters' and columns' type conversions, so what runs per call is the driver's
    ``execute`` and those conversions. The connection comes from the engine's pool (with
    its pre-ping, if any: :func:`make_read_engine` makes one without) and goes back in its
    default isolation, or is discarded after any failure. A connection found dropped
    starts a new pool and the read is tried once more, so a database restart costs no read
    an error. Errors surface as SQLAlchemy's (``OperationalError``, ``DBAPIError``), which
    the app answers as for any other query (503 for an outage). Statements with expanding
    parameters (``IN`` lists) are not supported.
    """

    def __init__(self, statement: Select[Any] | CompoundSelect[Any]) -> None:
        self.statement = statement
        self._compiled: dict[tuple[type[Dialect], str], _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (type(dialect), dialect.paramstyle)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("PreparedRead cannot run a statement with expanding parameters")
        binders = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        columns = list(self.statement.selected_columns)
        return _Compiled(
            sql=compiled.string,
            order=tuple(compiled.positiontup) if compiled.positiontup else None,
            fixed={name: bind.value for name, bind in compiled.binds.items() if not bind.required},
            binders=binders,
            labels=tuple(self.statement.selected_columns.keys()),
            readers=tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns),
        )

    def rows(self, engine: Engine, parameters: Mapping[str, Any]) -> list[ReadRow]:
        compiled = self._for(engine.dialect)
        bound = self._bound(compiled, parameters)
        try:
            return self._run(engine, compiled, bound)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            # A restart drops every pooled connection at once: the next one in this pool
            # would be dead too. Start a new pool and read once more on it.
            engine.dispose()
            return self._run(engine, compiled, bound)

    def rows_in(self, session: Session, parameters: Mapping[str, Any]) -> list[ReadRow]:
        """The rows, read on the session's connection, in its transaction (which this
        begins, as any query would, after an autoflush of what is pending). Listeners of the
        engine's ``before_cursor_execute`` see the statement; errors surface as
        SQLAlchemy's. Not inside :func:`pipelined`."""
        if session.autoflush and (session.new or session.dirty or session.deleted):
            session.flush()
        connection = session.connection()
        compiled = self._for(connection.dialect)
        bound = self._bound(compiled, parameters)
        cursor = connection.connection.cursor()
        try:
            if connection.engine.dispatch.before_cursor_execute:
                connection.engine.dispatch.before_cursor_execute(connection, cursor, compiled.sql, bound, None, False)
            cursor.execute(compiled.sql, bound)
            fetched = cursor.fetchall()
        except connection.dialect.loaded_dbapi.Error as error:
            raise _as_sqlalchemy_error(connection, compiled.sql, bound, error, cursor) from error
        finally:
            cursor.close()
        return self._read(compiled, fetched)

    @staticmethod
    def _bound(compiled: _Compiled, parameters: Mapping[str, Any]) -> Any:
        values = {**compiled.fixed, **parameters}
        for name, processor in compiled.binders.items():
            values[name] = processor(values[name])
        return tuple(values[name] for name in compiled.order) if compiled.order else values

    def _run(self, engine: Engine, compiled: _Compiled, bound: Any) -> list[ReadRow]:
        dialect = engine.dialect
        connection, driver, cursor, done = None, None, None, False
        try:
            connection = engine.raw_connection()
            driver = connection.dbapi_connection
            assert driver is not None  # a checked-out connection always has one
            cursor = connection.cursor()
            dialect.set_isolation_level(driver, "AUTOCOMMIT")  # no BEGIN, and no ROLLBACK on return
            cursor.execute(compiled.sql, bound)
            fetched = cursor.fetchall()
            cursor.close()
            dialect.reset_isolation_level(driver)
            done = True
        except dialect.loaded_dbapi.Error as error:
            # Not connecting at all is an outage (OperationalError), not a dropped connection.
            dropped = connection is not None and dialect.is_disconnect(error, driver, cursor)
            raise DBAPIError.instance(
                compiled.sql, bound, error, dialect.loaded_dbapi.Error, connection_invalidated=dropped, dialect=dialect
            ) from error
        finally:
            if connection is not None:
                if not done:  # never back to the pool in autocommit, nor in doubt
                    connection.invalidate()
                connection.close()
        return self._read(compiled, fetched)

    @staticmethod
    def _read(compiled: _Compiled, fetched: Sequence[Any]) -> list[ReadRow]:
        labels, readers = compiled.labels, compiled.readers
        return [
            ReadRow(
                {
                    label: (value if reader is None else reader(value))
                    for label, reader, value in zip(labels, readers, row, strict=True)
                }
            )
            for row in fetched
        ]


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    order: tuple[str, ...] | None
    """Parameter names in placeholder order for a positional driver (SQLite), else None."""
    defaults: tuple[tuple[str, Callable[[], Any]], ...]
    """The Python-side defaults of the columns the rows leave out, by parameter name."""
    binders: Mapping[str, Callable[[Any], Any]]


def _default_of(column: Column[Any]) -> Callable[[], Any]:
    default: Any = column.default
    if default.is_callable:
        # SQLAlchemy wraps a callable that takes no context in one that takes it.
        return lambda: default.arg(None)
    value = default.arg
    return lambda: value


class PreparedInsert:
    """An INSERT of whole rows into ``table``, compiled once per dialect and set of
    columns, run straight on the driver connection of a session's transaction.

    It stores what ``Connection.execute(insert(table), rows)`` would (the columns'
    Python-side defaults for the columns the rows leave out, their type conversions), for
    a fraction of SQLAlchemy's per-statement CPU, and reads nothing back: no generated
    key, no row count. Inside :func:`pipelined` on PostgreSQL it is held, and sent with
    the block's other inserts when the block ends. Objects still pending in the session
    are flushed first, as an ORM insert would flush them. Listeners of the engine's ``before_cursor_execute`` see the
    statement; errors surface as SQLAlchemy's (``IntegrityError``, ``OperationalError``
    ...), as from any other statement. (A column default that reads the statement's
    execution context is not supported.)
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._compiled: dict[tuple[type[Dialect], str, tuple[str, ...]], _CompiledInsert] = {}

    def _for(self, dialect: Dialect, keys: tuple[str, ...]) -> _CompiledInsert:
        key = (type(dialect), dialect.paramstyle, keys)
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compile(dialect, keys)
        return found

    def _compile(self, dialect: Dialect, keys: tuple[str, ...]) -> _CompiledInsert:
        # As for several rows: no RETURNING of a generated key, which nothing reads.
        compiled = insert(self.table).compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        binders = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        return _CompiledInsert(
            sql=compiled.string,
            order=tuple(compiled.positiontup) if compiled.positiontup else None,
            defaults=tuple((column.key, _default_of(column)) for column in compiled.insert_prefetch),
            binders=binders,
        )

    def run(self, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (column values by column key, the same columns in every row)
        in the session's transaction."""
        if not rows:
            return
        if session.new or session.dirty or session.deleted:
            session.flush()
        connection = session.connection()
        compiled = self._for(connection.dialect, tuple(rows[0]))
        bound = [self._bound(compiled, row) for row in rows]
        queued = session.info.get(_QUEUED)
        if queued is not None:
            queued.append((compiled.sql, bound))
            return
        _run_on_driver(connection, compiled.sql, bound)

    @staticmethod
    def _bound(compiled: _CompiledInsert, row: Mapping[str, Any]) -> Any:
        values = dict(row)
        for name, default in compiled.defaults:
            values[name] = default()
        for name, processor in compiled.binders.items():
            values[name] = processor(values[name])
        return tuple(values[name] for name in compiled.order) if compiled.order else values


def _run_on_driver(connection: Connection, sql: str, bound: list[Any]) -> None:
    cursor = connection.connection.cursor()
    many = len(bound) > 1
    parameters = bound if many else bound[0]
    try:
        if connection.engine.dispatch.before_cursor_execute:
            connection.engine.dispatch.before_cursor_execute(connection, cursor, sql, parameters, None, many)
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
    except connection.dialect.loaded_dbapi.Error as error:
        raise _as_sqlalchemy_error(connection, sql, parameters, error, cursor) from error
    finally:
        cursor.close()  # in a pipeline too: the outcome still arrives, and is checked, at its end


def _as_sqlalchemy_error(
    connection: Connection, sql: str, parameters: Any, error: Any, cursor: Any = None
) -> Exception:
    """The error SQLAlchemy would have raised; a dropped connection is invalidated, so the
    pool never hands it out again."""
    dialect = connection.dialect
    dropped = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    if dropped:
        connection.invalidate(error)
    wrapped: Exception = DBAPIError.instance(
        sql, parameters, error, dialect.loaded_dbapi.Error, connection_invalidated=dropped, dialect=dialect
    )
    return wrapped


_QUEUED = "sanad.queued_inserts"
"""The ``Session.info`` key of the inserts :func:`pipelined` holds until its block ends."""


@contextmanager
def pipelined(session: Session) -> Iterator[None]:
    """On PostgreSQL, the :class:`PreparedInsert` statements run in the block are held,
    and sent when it ends as one statement (:mod:`sanad.combined_inserts`): one round
    trip, and one execution on the server, instead of one each. Listeners of the
    engine's ``before_cursor_execute`` still see each insert. A query in the block runs
    at once and does not see the rows held, so nothing in it may read them (nor flush:
    objects pending in the session are flushed before it starts). Elsewhere the
    statements simply run."""
    if session.new or session.dirty or session.deleted:
        session.flush()
    connection = session.connection()
    if connection.dialect.name != "postgresql" or _QUEUED in session.info:
        yield
        return
    queued: list[tuple[str, list[Any]]] = []
    session.info[_QUEUED] = queued
    try:
        yield
    finally:
        del session.info[_QUEUED]  # a block that failed sends nothing: its transaction is lost
    _run_together(connection, queued)


def _run_together(connection: Connection, queued: Sequence[tuple[str, list[Any]]]) -> None:
    if len(queued) <= 1 or sum(len(rows) * len(rows[0]) for _, rows in queued) > MAX_PARAMETERS:
        for sql, rows in queued:
            _run_on_driver(connection, sql, rows)
        return
    statement = combined_insert(tuple((part, len(rows)) for part, rows in queued))
    parameters = statement.parameters([rows for _, rows in queued])
    # Imported here, on PostgreSQL only: an embedded deployment never loads the driver.
    from psycopg import RawCursor

    driver = connection.connection.driver_connection
    assert driver is not None  # the block's transaction holds a connection
    # A raw cursor takes the statement's $n placeholders as they are (sanad.combined_inserts).
    cursor = RawCursor(driver)
    try:
        if connection.engine.dispatch.before_cursor_execute:
            for part, rows in queued:
                many = len(rows) > 1
                connection.engine.dispatch.before_cursor_execute(
                    connection, cursor, part, rows if many else rows[0], None, many
                )
        cursor.execute(statement.sql, parameters)
    except connection.dialect.loaded_dbapi.Error as error:
        raise _as_sqlalchemy_error(connection, statement.sql.decode(), parameters, error, cursor) from error
    finally:
        cursor.close()
