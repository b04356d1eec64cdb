"""A registry-sized database for the locker benchmark, seeded in bulk and kept between runs.

The database ``sanad_bench_locker_<documents>`` on the test PostgreSQL holds
``documents`` rows spread over ``citizens`` citizens, plus one bench citizen (with a
mobile number) who holds ``holder_documents`` of them. Each document carries its
citizen's number as ``holder_mobile`` (a fifth of the citizens have none), as the issuing
requests would have named it: the locker lists by that column. The bench citizen's rows are
interleaved through the whole table, as documents issued over years would be, and each
has a real ~100 KB PDF under its storage key, in a MinIO bucket and in a filesystem
store (the other rows have no objects: only the listing reads them).

Seeding is plain SQL (``INSERT ... SELECT generate_series``) with the table's indexes
and constraints dropped and rebuilt afterwards, then ``VACUUM ANALYZE``. A later run
reuses the database when its recorded parameters and exact row counts match.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench.backends import _service_pids, _services_env, run_sanad
from bench.machine import REPO
from sanad.storage import FilesystemStore, MinioStore, ObjectStore

SEED_VERSION = "2"
"""Bump when the generated data changes, so older bench databases are seeded again."""
BENCH_DIR = REPO / "var" / "bench-locker"
MOBILE = "9876500001"
"""The bench citizen's number; every other citizen's starts with 6, 7 or 8."""
HOLDER_REF = hashlib.md5(b"bench-holder").hexdigest()  # noqa: S324 (an identifier, not security)
DEPARTMENT = "REV"
CHUNK_ROWS = 500_000
"""Rows per INSERT statement; two run at once, one per core."""
IMAGE_SIDE = 320
"""The PDF's page image is IMAGE_SIDE² random grey pixels: 100 KiB that do not compress."""

_HOLDER_NAMES = [
    "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ",
    "ਹਰਪ੍ਰੀਤ ਕੌਰ",
    "ਮਨਜੀਤ ਸਿੰਘ ਸੰਧੂ",
    "ਜਸਵਿੰਦਰ ਕੌਰ ਗਿੱਲ",
    "ਅਮਨਦੀਪ ਸਿੰਘ",
    "ਸੁਖਵਿੰਦਰ ਕੌਰ ਬਰਾੜ",
    "ਰਾਜਿੰਦਰ ਕੁਮਾਰ",
    "ਪਰਮਜੀਤ ਕੌਰ ਧਾਲੀਵਾਲ",
]
_EXAMPLE = REPO / "templates" / "income-certificate" / "example.json"

# 26 characters of [a-z2-7] like sanad.ids.new_document_id, derived from the row number.
_DOCUMENT_ID = (
    "left(translate(lower(encode(sha256(int8send(g.i) || decode('01', 'hex')), 'base64')), '0189+/', 'wxyzab'), 26)"
)
_POSITIVE = "9223372036854775807"  # bigint mask: hash values as non-negative numbers


@dataclass(frozen=True)
class Scale:
    """How much data the bench database holds."""

    documents: int = 10_000_000
    """Rows in ``documents``, the bench citizen's included."""
    citizens: int = 1_500_000
    """Other citizens the documents are spread over (uniformly at random)."""
    holder_documents: int = 1_000
    """Documents of the bench citizen."""

    @property
    def stride(self) -> int:
        """Every ``stride``-th generated row belongs to the bench citizen."""
        return self.documents // self.holder_documents

    def holder_rows(self) -> list[int]:
        return [self.stride * k + self.stride // 2 for k in range(self.holder_documents)]

    def recorded(self) -> dict[str, str]:
        return {
            "version": SEED_VERSION,
            "documents": str(self.documents),
            "citizens": str(self.citizens),
            "holder_documents": str(self.holder_documents),
            "mobile": MOBILE,
        }


@dataclass(frozen=True)
class HeldObject:
    """One of the bench citizen's documents, as the registry records it."""

    id: str
    storage_key: str
    sha256: str
    size: int


@dataclass(frozen=True)
class LockerData:
    """A seeded bench deployment: one database, two stores (MinIO and filesystem)."""

    scale: Scale
    database_url: str
    """SQLAlchemy URL of the bench database."""
    minio_env: dict[str, str]
    """``SANAD_*`` for a server on PostgreSQL + MinIO."""
    filesystem_env: dict[str, str]
    """``SANAD_*`` for a server on PostgreSQL + the filesystem store."""
    workdir: Path
    service_pids: dict[str, int]
    held: tuple[HeldObject, ...]
    """The bench citizen's documents, newest first."""
    seeded_at: str
    seed_seconds: float
    """How long seeding took (when it was done)."""
    reused: bool
    table_bytes: dict[str, int] = field(default_factory=dict)
    """On-disk size of ``documents``: heap, indexes."""

    @property
    def libpq_url(self) -> str:
        return libpq_url(self.database_url)


def libpq_url(sqlalchemy_url: str) -> str:
    return make_url(sqlalchemy_url).set(drivername="postgresql").render_as_string(hide_password=False)


def holder_pdf(document_id: str) -> bytes:
    """A valid one-page PDF of ~101 KiB, the same bytes every time for one id."""
    pixels = random.Random(document_id).randbytes(IMAGE_SIDE * IMAGE_SIDE)
    text = f"BT /F1 14 Tf 72 760 Td (Sanad locker benchmark, document {document_id}) Tj ET\n"
    content = f"q 400 0 0 400 97 300 cm /Im1 Do Q\n{text}".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> /XObject << /Im1 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Type /XObject /Subtype /Image /Width {IMAGE_SIDE} /Height {IMAGE_SIDE} /ColorSpace /DeviceGray "
        f"/BitsPerComponent 8 /Length {len(pixels)} >>\nstream\n".encode()
        + pixels
        + b"\nendstream",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"endstream",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


# --- the database ------------------------------------------------------------------------


def _database_name(scale: Scale) -> str:
    return f"sanad_bench_locker_{scale.documents}"


def _recorded_seed(url: str) -> dict[str, str] | None:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            if conn.execute("SELECT to_regclass('bench_seed')").fetchone() == (None,):
                return None
            return {str(k): str(v) for k, v in conn.execute("SELECT name, value FROM bench_seed").fetchall()}
    except psycopg.OperationalError:
        return None  # no such database yet


def _counts_match(url: str, scale: Scale) -> bool:
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM documents").fetchone()
        held = conn.execute("SELECT count(*) FROM documents WHERE holder_mobile = %s", (MOBILE,)).fetchone()
        mobile = conn.execute("SELECT count(*) FROM citizens WHERE mobile = %s", (MOBILE,)).fetchone()
    return total == (scale.documents,) and held == (scale.holder_documents,) and mobile == (1,)


def _recreate_database(admin_url: str, name: str) -> None:
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@dataclass(frozen=True)
class _Rebuild:
    """The keys and indexes of the bulk-loaded tables, dropped while loading."""

    constraints: list[tuple[str, str, str, str]]
    """(table, name, definition, kind): kind p (primary key), u (unique), f (foreign key)."""
    indexes: list[tuple[str, str]]
    """(name, CREATE INDEX statement) of indexes no constraint owns."""


@contextmanager
def _without_keys(conn: psycopg.Connection[tuple[object, ...]], tables: list[str]) -> Iterator[None]:
    """Drop the tables' keys and indexes (and foreign keys pointing at them), then rebuild
    them from the definitions PostgreSQL printed: the schema ends exactly as migrated."""
    oids = "ARRAY[" + ", ".join(f"'{t}'::regclass" for t in tables) + "]"
    constraints = [
        (str(t), str(n), str(d), str(k))
        for t, n, d, k in conn.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            f"WHERE contype IN ('p', 'u', 'f') AND (conrelid = ANY({oids}) OR confrelid = ANY({oids}))"
        ).fetchall()
    ]
    indexes = [
        (str(n), str(d))
        for n, d in conn.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
            f"WHERE indrelid = ANY({oids}) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
        ).fetchall()
    ]
    rebuild = _Rebuild(constraints, indexes)
    order = {"f": 0, "u": 1, "p": 2}
    for table, name, _, _ in sorted(rebuild.constraints, key=lambda c: order[c[3]]):
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in rebuild.indexes:
        conn.execute(f"DROP INDEX {name}")
    conn.commit()
    yield
    for table, name, definition, kind in sorted(rebuild.constraints, key=lambda c: -order[c[3]]):
        started = time.monotonic()
        conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        conn.commit()
        print(f"bench: rebuilt {name} ({kind}) in {time.monotonic() - started:.0f} s", flush=True)
    for name, statement in rebuild.indexes:
        started = time.monotonic()
        conn.execute(statement)
        conn.commit()
        print(f"bench: rebuilt {name} in {time.monotonic() - started:.0f} s", flush=True)


def _citizen_mobile(i: str) -> str:
    """SQL for the mobile number of generated citizen ``i`` (none for every fifth)."""
    return (
        f"CASE WHEN mod({i}, 5) <> 0 THEN (6 + mod({i}, 3))::text "
        f"|| lpad(mod(hashint8extended({i}, 7) & {_POSITIVE}, 1000000000)::text, 9, '0') END"
    )


_CITIZENS_SQL = f"""
INSERT INTO citizens (ref, department_id, citizen_id, mobile, created_at)
SELECT md5('citizen-' || g.i),
       %(department)s,
       'PB-CIT-' || lpad(g.i::text, 10, '0'),
       {_citizen_mobile("g.i")},
       timestamptz '2019-01-01 00:00+00' + mod(hashint8extended(g.i, 8) & {_POSITIVE}, 157680000) * interval '1 second'
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g(i)
"""

_DOCUMENTS_SQL = f"""
INSERT INTO documents (id, type, citizen_ref, holder_mobile, department_id, issued_at, valid_until, sha256, size,
                       storage_key, status, version, holder_name, data, revoked_at, revocation_reason,
                       idempotency_key, request_hash)
SELECT d.id, 'income-certificate', d.ref, d.mobile, %(department)s, d.issued_at,
       (d.issued_at AT TIME ZONE 'Asia/Kolkata')::date + 365,
       coalesce(hc.sha256, encode(sha256(int8send(g.i)), 'hex')),
       coalesce(hc.size, 30000 + mod(h.a / 7, 30000)::int),
       'citizens/' || d.ref || '/' || d.id || '.pdf',
       d.status, 1, d.name,
       (%(data)s::jsonb || jsonb_build_object('holder_name', d.name,
                                              'annual_income', 50000 + mod(h.c / 1000, 950) * 1000))::json,
       CASE WHEN d.status = 'revoked' THEN d.issued_at + interval '30 days' END,
       CASE WHEN d.status = 'revoked' THEN 'issued in error; a corrected certificate replaces it' END,
       CASE WHEN mod(h.c / 100000, 10) < 3 THEN 'req-' || g.i END,
       encode(sha256(int8send(g.i) || decode('02', 'hex')), 'hex')
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g(i)
CROSS JOIN LATERAL (
    SELECT hashint8extended(g.i, 1) & {_POSITIVE} AS a,
           hashint8extended(g.i, 2) & {_POSITIVE} AS b,
           hashint8extended(g.i, 3) & {_POSITIVE} AS c
) AS h
LEFT JOIN bench_holder_content hc ON hc.i = g.i
CROSS JOIN LATERAL (
    SELECT CASE WHEN hc.i IS NOT NULL THEN %(holder_ref)s
                ELSE md5('citizen-' || (1 + mod(h.a, %(citizens)s))) END AS ref,
           CASE WHEN hc.i IS NOT NULL THEN %(holder_mobile)s
                ELSE {_citizen_mobile("(1 + mod(h.a, %(citizens)s))")} END AS mobile,
           {_DOCUMENT_ID} AS id,
           timestamptz '2021-01-01 00:00+00' + mod(h.b, 157680000) * interval '1 second' AS issued_at,
           CASE WHEN mod(h.c, 100) < 2 THEN 'revoked' WHEN mod(h.c, 100) = 2 THEN 'superseded'
                ELSE 'issued' END AS status,
           (%(names)s::text[])[1 + mod(h.c / 100, %(name_count)s)] AS name
) AS d
"""


def _chunks(total: int, size: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + size - 1, total)) for lo in range(1, total + 1, size)]


def _run_chunks(url: str, sql: str, params: dict[str, object], total: int, what: str) -> None:
    chunks = _chunks(total, CHUNK_ROWS)
    done = 0
    started = time.monotonic()

    def run(chunk: tuple[int, int]) -> int:
        with psycopg.connect(url) as conn:
            conn.execute("SET synchronous_commit = off")
            conn.execute(sql, {**params, "lo": chunk[0], "hi": chunk[1]})
        return chunk[1] - chunk[0] + 1

    with ThreadPoolExecutor(max_workers=2) as pool:
        for rows in pool.map(run, chunks):
            done += rows
            rate = done / max(time.monotonic() - started, 1e-9)
            print(f"bench: {what}: {done:,} of {total:,} rows ({rate:,.0f}/s)", flush=True)


def _holder_content(conn: psycopg.Connection[tuple[object, ...]], scale: Scale) -> None:
    """The bench citizen's rows get the digest and size of their real PDFs before loading,
    so no later UPDATE moves them to the end of the table."""
    conn.execute("CREATE TABLE bench_holder_content (i bigint PRIMARY KEY, sha256 text NOT NULL, size int NOT NULL)")
    ids = conn.execute(
        f"SELECT g.i, {_DOCUMENT_ID} FROM unnest(%s::bigint[]) AS g(i)", (scale.holder_rows(),)
    ).fetchall()
    rows = []
    for row, document_id in ids:
        pdf = holder_pdf(str(document_id))
        rows.append((row, hashlib.sha256(pdf).hexdigest(), len(pdf)))
    with conn.cursor() as cursor:
        cursor.executemany("INSERT INTO bench_holder_content (i, sha256, size) VALUES (%s, %s, %s)", rows)
    conn.commit()


def _seed(url: str, scale: Scale) -> None:
    data = json.loads(_EXAMPLE.read_text("utf-8"))["data"]
    with psycopg.connect(url) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        department = conn.execute("SELECT id FROM departments WHERE code = %s", (DEPARTMENT,)).fetchone()
        if department is None:
            raise RuntimeError(f"department {DEPARTMENT} missing: sanad demo-seed did not run")
        _holder_content(conn, scale)
        with _without_keys(conn, ["documents", "citizens"]):
            _run_chunks(url, _CITIZENS_SQL, {"department": department[0]}, scale.citizens, "citizens")
            conn.execute(
                "INSERT INTO citizens (ref, department_id, citizen_id, mobile, created_at) VALUES (%s, %s, %s, %s, %s)",
                (HOLDER_REF, department[0], "PB-CIT-BENCH-HOLDER", MOBILE, datetime(2019, 6, 1, tzinfo=UTC)),
            )
            conn.commit()
            params: dict[str, object] = {
                "department": department[0],
                "data": json.dumps(data, ensure_ascii=False),
                "holder_ref": HOLDER_REF,
                "holder_mobile": MOBILE,
                "citizens": scale.citizens,
                "names": _HOLDER_NAMES,
                "name_count": len(_HOLDER_NAMES),
            }
            _run_chunks(url, _DOCUMENTS_SQL, params, scale.documents, "documents")
        conn.execute("DROP TABLE bench_holder_content")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        print("bench: VACUUM ANALYZE documents, citizens ...", flush=True)
        conn.execute("VACUUM (ANALYZE) documents")
        conn.execute("VACUUM (ANALYZE) citizens")


def _record_seed(url: str, scale: Scale, seconds: float) -> None:
    values = scale.recorded() | {
        "seeded_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": f"{seconds:.0f}",
    }
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_seed (name text PRIMARY KEY, value text NOT NULL)")
        conn.execute("DELETE FROM bench_seed")
        with conn.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_seed (name, value) VALUES (%s, %s)", list(values.items()))


def _table_bytes(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT pg_table_size('documents'), pg_indexes_size('documents'), pg_total_relation_size('citizens')"
        ).fetchone()
    assert row is not None
    return {"documents heap": int(row[0]), "documents indexes": int(row[1]), "citizens": int(row[2])}


def _held(url: str) -> tuple[HeldObject, ...]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id, storage_key, sha256, size FROM documents WHERE holder_mobile = %s "
            "ORDER BY issued_at DESC, id DESC",
            (MOBILE,),
        ).fetchall()
    return tuple(HeldObject(str(i), str(k), str(s), int(n)) for i, k, s, n in rows)


# --- the objects --------------------------------------------------------------------------


def _ensure_objects(store: ObjectStore, held: tuple[HeldObject, ...], what: str) -> None:
    present = {info.key for info in store.list(f"citizens/{HOLDER_REF}/")}
    missing = [h for h in held if h.storage_key not in present]
    for h in missing:
        pdf = holder_pdf(h.id)
        if hashlib.sha256(pdf).hexdigest() != h.sha256:
            raise RuntimeError(f"the PDF generated for {h.id} does not match its row: seed again (--reseed)")
        store.put(h.storage_key, pdf, "application/pdf")
    if missing:
        print(f"bench: put {len(missing)} PDFs into {what}", flush=True)


def prepare(scale: Scale, *, reseed: bool) -> LockerData:
    """The bench database and stores for ``scale``: reused when they match, else seeded."""
    if scale.documents < 2 * scale.holder_documents or scale.citizens < 1:
        raise ValueError("need documents >= 2 × holder documents and at least one citizen")
    services = _services_env()
    name = _database_name(scale)
    database_url = make_url(services["DATABASE_URL"]).set(database=name).render_as_string(hide_password=False)
    url = libpq_url(database_url)
    workdir = BENCH_DIR / str(scale.documents)
    workdir.mkdir(parents=True, exist_ok=True)
    common = {
        "SANAD_ENV": "test",
        "SANAD_DATABASE_URL": database_url,
        "SANAD_KEYS_DIR": str(BENCH_DIR / "keys"),
        "SANAD_PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    }
    minio_env = common | {
        "SANAD_STORAGE_BACKEND": "minio",
        "SANAD_MINIO_ENDPOINT": services["MINIO_ENDPOINT"],
        "SANAD_MINIO_ACCESS_KEY": services["MINIO_ACCESS_KEY"],
        "SANAD_MINIO_SECRET_KEY": services["MINIO_SECRET_KEY"],
        "SANAD_MINIO_BUCKET": f"sanad-bench-locker-{scale.documents}",
    }
    filesystem_env = common | {"SANAD_STORAGE_BACKEND": "filesystem", "SANAD_STORAGE_PATH": str(workdir / "objects")}

    recorded = None if reseed else _recorded_seed(url)
    reuse = recorded is not None and all(recorded.get(k) == v for k, v in scale.recorded().items())
    if reuse:
        print(f"bench: checking the row counts of {name} ...", flush=True)
        reuse = _counts_match(url, scale)
    seconds = 0.0
    if not reuse:
        print(f"bench: seeding {name}: {scale.documents:,} documents, {scale.citizens:,} citizens", flush=True)
        started = time.monotonic()
        _recreate_database(services["DATABASE_URL"], name)
        run_sanad(minio_env, workdir, "init")
        run_sanad(minio_env, workdir, "demo-seed")
        _seed(url, scale)
        seconds = time.monotonic() - started
        _record_seed(url, scale, seconds)
        print(f"bench: seeded in {seconds / 60:.1f} min", flush=True)
        recorded = _recorded_seed(url)
    assert recorded is not None
    # Idempotent: the schema at head, the bucket, the store directory, the signing keys.
    run_sanad(minio_env, workdir, "init")
    run_sanad(filesystem_env, workdir, "init")
    held = _held(url)
    minio = MinioStore.connect(
        services["MINIO_ENDPOINT"],
        services["MINIO_ACCESS_KEY"],
        services["MINIO_SECRET_KEY"],
        minio_env["SANAD_MINIO_BUCKET"],
    )
    _ensure_objects(minio, held, "MinIO")
    _ensure_objects(FilesystemStore(workdir / "objects"), held, "the filesystem store")
    return LockerData(
        scale=scale,
        database_url=database_url,
        minio_env=minio_env,
        filesystem_env=filesystem_env,
        workdir=workdir,
        service_pids=_service_pids(services),
        held=held,
        seeded_at=recorded.get("seeded_at", "?"),
        seed_seconds=float(recorded.get("seconds", "0")),
        reused=reuse,
        table_bytes=_table_bytes(url),
    )
