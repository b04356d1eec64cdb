"""A state-sized intake database for the intake benchmark, seeded in bulk and kept between runs.

The database ``sanad_bench_intake`` on the test PostgreSQL holds ``applications`` rows
(1,000,000 by default) for the 9 catalogue services in 40 offices of the 3 departments,
submitted over the last 365 days in time order (as the table fills in production), a
few per cent still open with due dates around the seeding day, the rest issued or
rejected; the citizens they belong to; ``disposal_tallies`` histograms computed from the
seeded decisions (one row per office, service and month); and ``application_counters``
continuing after the seeded numbers.

Seeding is plain SQL (``INSERT ... SELECT generate_series``) with the tables' keys and
indexes dropped and rebuilt afterwards (``bench.locker_seed``'s helpers), then
``VACUUM ANALYZE``. A later run reuses the database when its recorded parameters and
row count match. Rows the benchmark itself creates (its citizens' mobile numbers start
with ``95``; seeded ones with 6, 7 or 8) are removed before and after every run.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.engine import make_url

from bench.backends import _service_pids, _services_env, run_sanad
from bench.locker_seed import _recorded_seed, _recreate_database, _run_chunks, _without_keys, libpq_url
from bench.machine import REPO
from intake.applications import number_prefix
from intake.catalogue import load_catalogue
from intake.offices import load_offices
from issuer.templates import load_templates

SEED_VERSION = "1"
"""Bump when the generated data changes, so older bench databases are seeded again."""
DATABASE = "sanad_bench_intake"
BENCH_DIR = REPO / "var" / "bench-intake"
BENCH_MOBILE_PREFIX = "95"
"""The benchmark's own citizens; seeded citizens' numbers start with 6, 7 or 8."""
LOOKUP_SIZE = 10_000
"""Office-and-service combinations are drawn from a table of this many weighted slots."""
INDIA = ZoneInfo("Asia/Kolkata")

# Offices beyond the catalogue's sample (catalogue/offices/punjab.yaml), so the state has
# ~40: (code, department, kind, district). Pendency reads office codes from the rows.
_MORE_OFFICES = (
    *(
        (f"TEH-{c}", "REV", "tehsil", d)
        for c, d in (
            ("JAL", "Jalandhar"),
            ("BTI", "Bathinda"),
            ("MOG", "Moga"),
            ("FZR", "Firozpur"),
            ("FDK", "Faridkot"),
            ("MSA", "Mansa"),
            ("SGR", "Sangrur"),
            ("BNL", "Barnala"),
            ("RPR", "Rupnagar"),
            ("MHL", "Mohali"),
            ("HSP", "Hoshiarpur"),
            ("GSP", "Gurdaspur"),
            ("PTK", "Pathankot"),
            ("KPT", "Kapurthala"),
            ("NSR", "Nawanshahr"),
            ("TTN", "Tarn Taran"),
            ("FKA", "Fazilka"),
            ("MKT", "Sri Muktsar Sahib"),
        )
    ),
    *(
        (f"MC-{c}", "LG", "municipal-corporation", d)
        for c, d in (
            ("JAL", "Jalandhar"),
            ("BTI", "Bathinda"),
            ("MOG", "Moga"),
            ("MHL", "Mohali"),
            ("PTK", "Pathankot"),
            ("HSP", "Hoshiarpur"),
            ("PGW", "Kapurthala"),
            ("ABH", "Fazilka"),
            ("BTL", "Gurdaspur"),
        )
    ),
    *(
        (f"RTO-{c}", "TPT", "regional-transport-office", d)
        for c, d in (("JAL", "Jalandhar"), ("PTL", "Patiala"), ("BTI", "Bathinda"), ("MHL", "Mohali"))
    ),
)
_BIG_DISTRICTS = {"Ludhiana": 4.0, "Amritsar": 3.0, "Jalandhar": 3.0, "Patiala": 2.5, "Mohali": 2.0, "Bathinda": 2.0}
# How often each service is applied for, relative to the others.
_SERVICE_WEIGHTS = {
    "rev-income": 30.0,
    "rev-residence": 22.0,
    "rev-caste-sc": 9.0,
    "rev-caste-bc": 7.0,
    "lg-birth": 14.0,
    "lg-trade-licence": 3.0,
    "lg-trade-licence-renewal": 5.0,
    "tpt-learner-licence": 25.0,
}
_NAMES = [
    "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
    "ਹਰਪ੍ਰੀਤ ਕੌਰ",
    "ਮਨਜੀਤ ਸਿੰਘ ਸੰਧੂ",
    "ਜਸਵਿੰਦਰ ਕੌਰ ਗਿੱਲ",
    "ਅਮਨਦੀਪ ਸਿੰਘ",
    "ਸੁਖਵਿੰਦਰ ਕੌਰ ਬਰਾੜ",
    "ਰਾਜਿੰਦਰ ਕੁਮਾਰ",
    "ਪਰਮਜੀਤ ਕੌਰ ਧਾਲੀਵਾਲ",
]
# A typical stored form (the answers as validated); the name and mobile are per row.
_FORM = {
    "applicant_name_en": "Gurpreet Singh",
    "relation": "son_of",
    "relation_name": "ਹਰਜੀਤ ਸਿੰਘ",
    "relation_name_en": "Harjeet Singh",
    "address": "ਮਕਾਨ ਨੰਬਰ 112, ਵਾਰਡ 7, ਪਿੰਡ ਖੇੜੀ, ਡਾਕਖਾਨਾ ਸਮਰਾਲਾ",
    "address_en": "House No. 112, Ward 7, Village Kheri, Post Office Samrala",
    "district": "ਲੁਧਿਆਣਾ",
    "district_en": "Ludhiana",
    "annual_income": 240000,
    "financial_year": "2025-26",
    "purpose": "Scholarship application",
}
_POSITIVE = "9223372036854775807"  # bigint mask: hash values as non-negative numbers


@dataclass(frozen=True)
class Scale:
    """How much data the bench database holds."""

    applications: int = 1_000_000
    citizens: int = 300_000
    """Citizens the applications are spread over (uniformly at random)."""
    days: int = 365
    """Applications were submitted over this many days up to the seeding day."""

    def recorded(self) -> dict[str, str]:
        return {
            "version": SEED_VERSION,
            "applications": str(self.applications),
            "citizens": str(self.citizens),
            "days": str(self.days),
        }


@dataclass(frozen=True)
class Combination:
    """One office and one of the services it delivers, with its share of applications."""

    department: str
    office: str
    service: str
    prefix: str
    """Application numbers' prefix, e.g. ``PB-REV-INC``."""
    limit_days: int
    """The service's time limit in working days."""
    weight: float


@dataclass(frozen=True)
class IntakeData:
    """A seeded bench database and how to serve it."""

    scale: Scale
    database_url: str
    """SQLAlchemy URL of the bench database."""
    env: dict[str, str]
    """``SANAD_*`` for a server on PostgreSQL + MinIO (a fresh bucket per run)."""
    workdir: Path
    service_pids: dict[str, int]
    seeded_at: str
    seed_seconds: float
    reused: bool
    facts: dict[str, str]
    """Counts and sizes as found before measuring (open share, tallies, table size ...)."""

    @property
    def libpq_url(self) -> str:
        return libpq_url(self.database_url)


def combinations() -> list[Combination]:
    """Every (office, service) pair of the state, from the catalogue and ``_MORE_OFFICES``."""
    catalogue = load_catalogue(REPO / "catalogue", load_templates(REPO / "templates"))
    offices = [
        (o.code, o.department, o.kind, o.district) for o in load_offices(REPO / "catalogue" / "offices").values()
    ]
    offices += list(_MORE_OFFICES)
    found = []
    for code, department, kind, district in offices:
        for service in catalogue:
            if service.department == department and service.office_kind == kind:
                weight = _BIG_DISTRICTS.get(district, 1.0) * _SERVICE_WEIGHTS.get(service.code, 5.0)
                found.append(
                    Combination(
                        department, code, service.code, number_prefix(service), service.time_limit_working_days, weight
                    )
                )
    return found


def _lookup(found: list[Combination]) -> list[int]:
    """LOOKUP_SIZE slots, each naming a combination (1-based), in proportion to the weights."""
    total = sum(c.weight for c in found)
    slots: list[int] = []
    for index, combination in enumerate(found, 1):
        slots += [index] * max(1, round(LOOKUP_SIZE * combination.weight / total))
    return (slots + [1] * LOOKUP_SIZE)[:LOOKUP_SIZE]


_CITIZENS_SQL = """
INSERT INTO citizens (ref, department_id, citizen_id, mobile, created_at)
SELECT md5('intake-citizen-' || g.i), (SELECT min(id) FROM departments), 'sanad.' || md5('intake-citizen-' || g.i),
       m.mobile,
       %(start)s::timestamptz - interval '400 days' + mod(g.i * 7919, 34560000) * interval '1 second'
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g(i)
CROSS JOIN LATERAL (
    SELECT (6 + mod(g.i, 3))::text || lpad(mod(g.i * 7919 + 12345, 1000000000)::text, 9, '0') AS mobile
) AS m
"""

# Row g.i was submitted at start + (g.i / total) of the period: the heap is in time order.
# A row is open with probability 0.92 while within its time limit (in calendar days,
# about 1.4 × the working days), then 0.2 · e^(-(days past the limit) / 40): a tail of
# late cases, mostly recent. Closed rows took d working days (80% within the limit).
_APPLICATIONS_SQL = f"""
INSERT INTO applications (id, number, service_code, department_id, office_code, citizen_ref, applicant_name,
                          mobile, language, channel, operator_id, form, status, submitted_at, due_on, paused_at,
                          pauses, escalation_level, decided_at, decided_by, decision_reason, document_id, version,
                          updated_at)
SELECT left(translate(lower(encode(sha256(int8send(g.i) || decode('0a', 'hex')), 'base64')), '0189+/', 'wxyzab'), 26),
       c.prefix || '-' || to_char(r.submitted_at AT TIME ZONE 'Asia/Kolkata', 'YYYY') || '-'
           || lpad(g.i::text, greatest(6, length(g.i::text)), '0'),
       c.service_code, c.department_id, c.office_code, md5('intake-citizen-' || r.citizen), r.name, r.mobile,
       CASE WHEN mod(h.e, 10) < 6 THEN 'pa' WHEN mod(h.e, 10) < 9 THEN 'en' ELSE 'hi' END,
       CASE WHEN mod(h.e / 10, 20) < 8 THEN 'online' WHEN mod(h.e / 10, 20) < 19 THEN 'sewa_kendra'
            ELSE 'doorstep' END,
       NULL,
       (%(form)s::jsonb || jsonb_build_object('applicant_name', r.name, 'mobile', r.mobile))::json,
       s.status, r.submitted_at, r.due_on,
       CASE WHEN s.status = 'returned' THEN least(r.submitted_at + interval '2 days', %(start)s::timestamptz) END,
       '[]'::json,
       CASE WHEN s.status IN ('submitted', 'under_review') AND r.due_on < %(today)s::date - 15 THEN 2
            WHEN s.status IN ('submitted', 'under_review') AND r.due_on < %(today)s::date THEN 1 ELSE 0 END,
       s.decided_at, NULL,
       CASE WHEN s.status = 'rejected' THEN 'income proof not attached; apply again with it' END,
       CASE WHEN s.status = 'issued'
            THEN left(translate(lower(encode(sha256(int8send(g.i) || decode('0b', 'hex')), 'base64')),
                                '0189+/', 'wxyzab'), 26) END,
       CASE s.status WHEN 'submitted' THEN 1 WHEN 'under_review' THEN 2 WHEN 'returned' THEN 2
                     WHEN 'approved' THEN 3 WHEN 'rejected' THEN 3 ELSE 4 END,
       coalesce(s.decided_at, r.submitted_at)
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g(i)
CROSS JOIN LATERAL (
    SELECT hashint8extended(g.i, 11) & {_POSITIVE} AS a,
           hashint8extended(g.i, 12) & {_POSITIVE} AS b,
           hashint8extended(g.i, 13) & {_POSITIVE} AS d,
           hashint8extended(g.i, 14) & {_POSITIVE} AS e
) AS h
JOIN bench_combinations c ON c.idx = (%(lookup)s::int[])[1 + mod(h.a, {LOOKUP_SIZE})]
CROSS JOIN LATERAL (
    SELECT ts AS submitted_at,
           (ts AT TIME ZONE 'Asia/Kolkata')::date + ceil(c.limit_days * 1.4)::int AS due_on,
           extract(epoch FROM %(start)s::timestamptz - ts) / 86400 - ceil(c.limit_days * 1.4) - 1 AS late_days,
           1 + mod(h.b / 1000, %(citizens)s) AS citizen,
           (%(names)s::text[])[1 + mod(h.b / 1000 / %(citizens)s, %(name_count)s)] AS name,
           (6 + mod(1 + mod(h.b / 1000, %(citizens)s), 3))::text
               || lpad(mod((1 + mod(h.b / 1000, %(citizens)s)) * 7919 + 12345, 1000000000)::text, 9, '0') AS mobile,
           CASE WHEN mod(h.d, 100) < 80 THEN mod(h.d / 100, c.limit_days + 1)
                WHEN mod(h.d, 100) < 95 THEN c.limit_days + 1 + mod(h.d / 100, 20)
                ELSE c.limit_days + 21 + mod(h.d / 100, 70) END AS disposal_days
    FROM (SELECT %(start)s::timestamptz - %(days)s * interval '1 day'
                 + (g.i - 0.5) / %(total)s * %(days)s * interval '1 day'
                 + mod(h.e / 1000, 3600) * interval '1 second' AS ts) AS t
) AS r
CROSS JOIN LATERAL (
    SELECT CASE WHEN o.open THEN
                    CASE WHEN mod(h.e / 100000, 100) < 55 THEN 'submitted'
                         WHEN mod(h.e / 100000, 100) < 90 THEN 'under_review'
                         WHEN mod(h.e / 100000, 100) < 99 THEN 'returned' ELSE 'approved' END
                WHEN mod(h.e / 100000, 100) < 12 THEN 'rejected' ELSE 'issued' END AS status,
           CASE WHEN o.open AND mod(h.e / 100000, 100) >= 99
                    THEN %(start)s::timestamptz - mod(h.d, 600) * interval '1 second'
                WHEN NOT o.open
                    THEN least(r.submitted_at + r.disposal_days * interval '1.4 days'
                                              + mod(h.d / 10000, 28800) * interval '1 second',
                               %(start)s::timestamptz - mod(h.d, 3600) * interval '1 second') END AS decided_at
    FROM (SELECT CASE WHEN r.late_days < 0 THEN mod(h.b, 1000000) < 920000
                      ELSE mod(h.b, 1000000) < 200000 * exp(-r.late_days / 40.0) END AS open) AS o
) AS s
"""

_TALLIES_SQL = """
INSERT INTO disposal_tallies (department_id, office_code, service_code, month, histogram)
WITH counts AS (
    SELECT department_id, office_code, service_code,
           to_char(decided_at AT TIME ZONE 'Asia/Kolkata', 'YYYY-MM') AS month,
           least(floor(extract(epoch FROM decided_at - submitted_at) / 86400 * 5 / 7), %(last)s)::int AS bucket,
           count(*) AS n
    FROM applications WHERE status IN ('issued', 'rejected')
    GROUP BY 1, 2, 3, 4, 5
), keys AS (SELECT DISTINCT department_id, office_code, service_code, month FROM counts)
SELECT k.department_id, k.office_code, k.service_code, k.month,
       json_agg(coalesce(c.n, 0) ORDER BY b.bucket)
FROM keys k
CROSS JOIN generate_series(0, %(last)s) AS b(bucket)
LEFT JOIN counts c USING (department_id, office_code, service_code, month, bucket)
GROUP BY k.department_id, k.office_code, k.service_code, k.month
"""

_COUNTERS_SQL = """
INSERT INTO application_counters (prefix, year, last)
SELECT substring(number FROM '^(.*)-[0-9]{4}-[0-9]+$'), substring(number FROM '-([0-9]{4})-[0-9]+$')::int,
       max(substring(number FROM '-([0-9]+)$')::int)
FROM applications GROUP BY 1, 2
"""


def _seed(url: str, scale: Scale, start: datetime) -> None:
    found = combinations()
    today = start.astimezone(INDIA).date()
    with psycopg.connect(url) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        departments = {str(code): int(i) for code, i in conn.execute("SELECT code, id FROM departments").fetchall()}
        missing = {c.department for c in found} - set(departments)
        if missing:
            raise RuntimeError(f"departments {sorted(missing)} missing: sanad demo-seed did not create them")
        conn.execute(
            "CREATE TABLE bench_combinations (idx int PRIMARY KEY, department_id int, office_code text, "
            "service_code text, prefix text, limit_days int)"
        )
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_combinations VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (i, departments[c.department], c.office, c.service, c.prefix, c.limit_days)
                    for i, c in enumerate(found, 1)
                ],
            )
        conn.commit()
        with _without_keys(conn, ["applications", "citizens"]):
            _run_chunks(url, _CITIZENS_SQL, {"start": start}, scale.citizens, "citizens")
            params: dict[str, object] = {
                "start": start,
                "today": today,
                "days": scale.days,
                "total": scale.applications,
                "citizens": scale.citizens,
                "lookup": _lookup(found),
                "names": _NAMES,
                "name_count": len(_NAMES),
                "form": json.dumps(_FORM, ensure_ascii=False),
            }
            _run_chunks(url, _APPLICATIONS_SQL, params, scale.applications, "applications")
        conn.execute("DROP TABLE bench_combinations")
        print("bench: disposal tallies and number counters ...", flush=True)
        conn.execute("DELETE FROM disposal_tallies")
        conn.execute(_TALLIES_SQL, {"last": 60})
        conn.execute("DELETE FROM application_counters")
        conn.execute(_COUNTERS_SQL)
        conn.commit()
    vacuum(url)


def vacuum(url: str) -> None:
    """``VACUUM (ANALYZE)`` the intake tables: fresh statistics and a set visibility map,
    as autovacuum keeps them on a live system."""
    with psycopg.connect(url, autocommit=True) as conn:
        print("bench: VACUUM ANALYZE applications, citizens, disposal_tallies ...", flush=True)
        for table in ("applications", "citizens", "disposal_tallies", "application_counters"):
            conn.execute(f"VACUUM (ANALYZE) {table}")


def migration_files() -> list[Path]:
    return sorted((REPO / "app" / "migrations" / "versions").glob("*.py"))


def schema_fingerprint() -> str:
    """The migrations' digest: a migration edited in place (before a release) means the
    bench database's schema is stale, so it is seeded again."""
    digest = hashlib.sha256()
    for path in migration_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _record_seed(url: str, scale: Scale, seconds: float) -> None:
    values = scale.recorded() | {
        "schema": schema_fingerprint(),
        "seeded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": f"{seconds:.0f}",
    }
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_seed (name text PRIMARY KEY, value text NOT NULL)")
        conn.execute("DELETE FROM bench_seed")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_seed (name, value) VALUES (%s, %s)", list(values.items()))


_BENCH_ROWS_SQL = (
    "CREATE TEMP TABLE bench_apps ON COMMIT DROP AS SELECT id FROM applications WHERE mobile LIKE %(p)s",
    "DELETE FROM application_events WHERE application_id IN (SELECT id FROM bench_apps)",
    "DELETE FROM application_attachments WHERE application_id IN (SELECT id FROM bench_apps)",
    "DELETE FROM notifications WHERE application_id IN (SELECT id FROM bench_apps) OR recipient LIKE %(p)s",
    "DELETE FROM applications WHERE id IN (SELECT id FROM bench_apps)",
    "DELETE FROM holder_binding_mismatches WHERE citizen_ref IN (SELECT ref FROM citizens WHERE mobile LIKE %(p)s)",
    "DELETE FROM documents WHERE citizen_ref IN (SELECT ref FROM citizens WHERE mobile LIKE %(p)s)",
    "DELETE FROM locker_sessions WHERE account_id IN (SELECT id FROM locker_accounts WHERE mobile LIKE %(p)s)",
    "DELETE FROM locker_accounts WHERE mobile LIKE %(p)s",
    "DELETE FROM citizens WHERE mobile LIKE %(p)s",
    "DELETE FROM dev_messages WHERE recipient LIKE %(p)s",
    "DELETE FROM staff_sessions",
    "DELETE FROM staff_users WHERE username LIKE 'bench-%%'",
)


def remove_bench_rows(url: str) -> int:
    """Remove what earlier runs created (their citizens, applications, documents, sessions);
    returns how many applications went. The seeded rows are left as they were."""
    with psycopg.connect(url) as conn:
        removed = 0
        for statement in _BENCH_ROWS_SQL:
            cursor = conn.execute(statement, {"p": BENCH_MOBILE_PREFIX + "%"})
            if statement.startswith("DELETE FROM applications"):
                removed = cursor.rowcount
        conn.commit()
    return removed


def _facts(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        total, open_count, overdue = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('submitted', 'under_review', 'returned', 'approved')),"
            " count(*) FILTER (WHERE status IN ('submitted', 'under_review', 'returned', 'approved')"
            " AND due_on < (now() AT TIME ZONE 'Asia/Kolkata')::date) FROM applications"
        ).fetchone() or (0, 0, 0)
        groups = conn.execute(
            "SELECT count(DISTINCT (department_id, office_code, service_code)), count(DISTINCT office_code) "
            "FROM applications"
        ).fetchone() or (0, 0)
        tallies, months = conn.execute("SELECT count(*), count(DISTINCT month) FROM disposal_tallies").fetchone() or (
            0,
            0,
        )
        sizes = conn.execute(
            "SELECT pg_size_pretty(pg_table_size('applications')), pg_size_pretty(pg_indexes_size('applications')),"
            " pg_size_pretty(pg_relation_size('ix_applications_open'))"
        ).fetchone() or ("?", "?", "?")
        citizens = conn.execute("SELECT count(*) FROM citizens").fetchone() or (0,)
    share = 100 * int(open_count) / max(int(total), 1)
    return {
        "applications": f"{int(total):,}",
        "open": f"{int(open_count):,} ({share:.1f}%), {int(overdue):,} of them overdue",
        "offices": f"{groups[1]} offices, {groups[0]} office × service combinations",
        "disposal_tallies": f"{int(tallies):,} rows over {months} months",
        "citizens": f"{int(citizens[0]):,}",
        "applications heap": str(sizes[0]),
        "applications indexes": f"{sizes[1]} (ix_applications_open {sizes[2]})",
    }


def _row_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM applications WHERE mobile NOT LIKE '{BENCH_MOBILE_PREFIX}%'"
        ).fetchone()
    return int(row[0]) if row else -1


def prepare(scale: Scale, *, reseed: bool, bucket: str) -> IntakeData:
    """The bench database for ``scale`` (reused when it matches, else seeded), cleaned of
    earlier runs' rows, with a server environment using MinIO bucket ``bucket``."""
    services = _services_env()
    database_url = make_url(services["DATABASE_URL"]).set(database=DATABASE).render_as_string(hide_password=False)
    url = libpq_url(database_url)
    workdir = BENCH_DIR / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    env = {
        "SANAD_ENV": "test",
        "SANAD_DATABASE_URL": database_url,
        "SANAD_KEYS_DIR": str(BENCH_DIR / "keys"),
        "SANAD_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "SANAD_STORAGE_BACKEND": "minio",
        "SANAD_MINIO_ENDPOINT": services["MINIO_ENDPOINT"],
        "SANAD_MINIO_ACCESS_KEY": services["MINIO_ACCESS_KEY"],
        "SANAD_MINIO_SECRET_KEY": services["MINIO_SECRET_KEY"],
        "SANAD_MINIO_BUCKET": bucket,
    }
    recorded = None if reseed else _recorded_seed(url)
    expected = scale.recorded() | {"schema": schema_fingerprint()}
    reuse = recorded is not None and all(recorded.get(k) == v for k, v in expected.items())
    if reuse:
        print(f"bench: checking the row count of {DATABASE} ...", flush=True)
        reuse = _row_count(url) == scale.applications
    seconds = 0.0
    if not reuse:
        print(
            f"bench: seeding {DATABASE}: {scale.applications:,} applications, {scale.citizens:,} citizens", flush=True
        )
        started = time.monotonic()
        _recreate_database(services["DATABASE_URL"], DATABASE)
        run_sanad(env, workdir, "init")
        run_sanad(env, workdir, "demo-seed")
        _seed(url, scale, datetime.now(UTC).replace(microsecond=0))
        seconds = time.monotonic() - started
        _record_seed(url, scale, seconds)
        print(f"bench: seeded in {seconds / 60:.1f} min", flush=True)
        recorded = _recorded_seed(url)
    assert recorded is not None
    removed = remove_bench_rows(url)
    if removed:
        print(f"bench: removed {removed:,} applications an earlier run left", flush=True)
    vacuum(url)  # whatever ran since (tests of this module, a killed run): the visibility map set again
    run_sanad(env, workdir, "init")  # idempotent: the schema at head, this run's bucket, the keys
    return IntakeData(
        scale=scale,
        database_url=database_url,
        env=env,
        workdir=workdir,
        service_pids=_service_pids(services),
        seeded_at=recorded.get("seeded_at", "?"),
        seed_seconds=float(recorded.get("seconds", "0")),
        reused=reuse,
        facts=_facts(url),
    )
