"""Revision 0007 (holder binding) on data written before it, on SQLite and PostgreSQL:
citizen records shared by departments are split, intake's records leave the names a
department could write, every document gets the number that reaches it, and certificates
that had been shown to another number are recorded for auditors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.migrate import downgrade, upgrade
from sanad.db import make_engine
from tests.conftest import _drop_postgres_schema, _fresh_postgres_schema, _services_env

T0 = datetime(2026, 2, 1, tzinfo=UTC)
M1, E, ATTACKER, F = "9000000001", "9000000002", "9000000003", "9000000004"


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    env = _services_env()
    if env is None:
        pytest.skip("PostgreSQL is not running (scripts/services.sh start)")
    schema, url = _fresh_postgres_schema(env["DATABASE_URL"])
    engine = make_engine(url)
    yield engine
    engine.dispose()
    _drop_postgres_schema(env["DATABASE_URL"], schema)


def _insert(connection: sa.Connection, table: str, **values: object) -> None:
    columns = ", ".join(values)
    connection.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES (:{', :'.join(values)})"), values)


def _document(connection: sa.Connection, document_id: str, citizen_ref: str, department_id: int, day: int) -> None:
    _insert(
        connection,
        "documents",
        id=document_id,
        type="income-certificate",
        citizen_ref=citizen_ref,
        department_id=department_id,
        issued_at=T0 + timedelta(days=day),
        sha256=document_id.ljust(64, "0"),
        signed_sha256=document_id.ljust(64, "1"),
        size=1,
        storage_key=f"citizens/{citizen_ref}/{document_id}.pdf",
        status="issued",
        version=1,
        holder_name="x",
        data="{}",
    )


def _application(connection: sa.Connection, number: str, citizen_ref: str, mobile: str, document_id: str) -> None:
    _insert(
        connection,
        "applications",
        id=f"app-{number}",
        number=number,
        service_code="rev-income",
        department_id=3,
        office_code="TEH-SMR",
        citizen_ref=citizen_ref,
        applicant_name="x",
        mobile=mobile,
        language="en",
        channel="online",
        form="{}",
        status="issued",
        submitted_at=T0,
        due_on=date(2026, 2, 20),
        pauses="[]",
        escalation_level=0,
        document_id=document_id,
        version=1,
        updated_at=T0,
    )


def _legacy_data(connection: sa.Connection) -> None:
    for department_id, code in ((1, "A"), (2, "B"), (3, "REV")):
        _insert(
            connection,
            "departments",
            id=department_id,
            code=code,
            name_en=code,
            name_pa=code,
            name_hi=code,
            created_at=T0,
        )
    # Scenario 1: B issued to X first (with M1), then A issued to X.
    _insert(connection, "citizens", ref="r-x", citizen_id="X", mobile=M1, created_at=T0)
    _document(connection, "b-to-x", "r-x", 2, day=1)
    _document(connection, "a-to-x", "r-x", 1, day=2)
    # Scenario 2: B pre-claimed intake's id of E with an attacker's number; E's approved
    # certificate (REV) was issued to that record.
    _insert(connection, "citizens", ref="r-e", citizen_id=f"m-{E}", mobile=ATTACKER, created_at=T0)
    _document(connection, "b-claim", "r-e", 2, day=1)
    _document(connection, "e-income", "r-e", 3, day=3)
    _application(connection, "PB-REV-INC-2026-000001", "r-e", E, "e-income")
    # An ordinary application's record, and a record nothing refers to.
    _insert(connection, "citizens", ref="r-f", citizen_id=f"m-{F}", mobile=F, created_at=T0)
    _document(connection, "f-income", "r-f", 3, day=4)
    _application(connection, "PB-REV-INC-2026-000002", "r-f", F, "f-income")
    _insert(connection, "citizens", ref="r-orphan", citizen_id="NOBODY", mobile=None, created_at=T0)


def _rows(engine: sa.Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(sql))]


def test_existing_data_is_bound_and_namespaced(engine: sa.Engine) -> None:
    upgrade(engine, "0006")
    with engine.begin() as connection:
        _legacy_data(connection)

    upgrade(engine, "0007")

    documents = {
        str(d): (str(c), m)
        for d, c, m in _rows(
            engine,
            "SELECT d.id, c.citizen_id, d.holder_mobile FROM documents d JOIN citizens c ON c.ref = d.citizen_ref",
        )
    }
    records = {
        str(ref): (int(str(department)), str(citizen_id), mobile)
        for ref, department, citizen_id, mobile in _rows(
            engine, "SELECT ref, department_id, citizen_id, mobile FROM citizens"
        )
    }
    by_document = {str(d): str(ref) for d, ref in _rows(engine, "SELECT id, citizen_ref FROM documents")}
    # X: B's earliest document keeps the record; A's moves to a record of A's own.
    assert records["r-x"] == (2, "X", M1)
    assert by_document["b-to-x"] == "r-x"
    assert records[by_document["a-to-x"]] == (1, "X", M1)
    # Without the requests' own numbers, a department's documents keep their record's.
    assert documents["a-to-x"] == ("X", M1)
    # E's certificate goes to E, the number its application (and so its request) named;
    # B's claim stays B's, under the name B gave it.
    assert documents["b-claim"] == (f"m-{E}", ATTACKER)
    e_record = by_document["e-income"]
    assert e_record != "r-e"
    assert records[e_record] == (3, f"sanad.{e_record}", E)
    assert _rows(engine, "SELECT citizen_ref FROM applications WHERE number = 'PB-REV-INC-2026-000001'") == [
        (e_record,)
    ]
    # Intake's records leave the m-<mobile> names; nothing refers to the orphan, so it goes.
    assert records["r-f"] == (3, "sanad.r-f", F)
    assert documents["f-income"] == ("sanad.r-f", F)
    assert "r-orphan" not in records
    # The certificate that had been shown to the attacker's locker is on the auditors' list.
    assert _rows(
        engine,
        "SELECT department_id, document_id, previous_mobile, requested_mobile, source FROM holder_binding_mismatches",
    ) == [(3, "e-income", ATTACKER, E, "migration")]

    # One citizen id per department; another department may use it.
    with engine.begin() as connection:
        _insert(connection, "departments", id=4, code="C", name_en="C", name_pa="C", name_hi="C", created_at=T0)
        _insert(connection, "citizens", ref="r-x-c", department_id=4, citizen_id="X", created_at=T0)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        _insert(connection, "citizens", ref="r-x-a2", department_id=1, citizen_id="X", created_at=T0)


def test_it_goes_back_to_one_namespace(engine: sa.Engine) -> None:
    upgrade(engine, "0006")
    with engine.begin() as connection:
        _legacy_data(connection)
    upgrade(engine, "0007")

    downgrade(engine, "0006")

    citizen_ids = [str(c) for (c,) in _rows(engine, "SELECT citizen_id FROM citizens ORDER BY citizen_id")]
    assert citizen_ids == sorted({"X", f"m-{E}", f"m-{F}"})
    assert {str(d) for (d,) in _rows(engine, "SELECT id FROM documents")} == {
        "b-to-x",
        "a-to-x",
        "b-claim",
        "e-income",
        "f-income",
    }
    upgrade(engine, "0007")  # and forward again
