"""Open a stampede database read-only: an SQLite file, or a ``sqlite://``/``mysql://``/``postgresql://``
URL. Every failure is one :class:`DataError` line; nothing here ever writes or holds a write lock."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import adbc_driver_manager as adbc
import sqlalchemy as sa
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.pegasus.submitdir import is_db_url
from flowsleuth.workflows.pegasus.tables import SUPPORTED_VERSIONS, dbversion, workflow
from sqlalchemy.engine import Engine, make_url

_SQLITE_MAGIC = b"SQLite format 3\x00"
T = TypeVar("T")

LOCK_RETRIES = 8  # monitord commits in short transactions; a reader waits them out
LOCK_WAIT_S = 0.25


def check_sqlite_file(path: Path) -> None:
    """Empty, non-SQLite and truncated files fail here, before SQLite sees them."""
    if not path.is_file():
        raise DataError(path, "no such file")
    size = path.stat().st_size
    if size == 0:
        raise DataError(path, "empty file (not a stampede database)")
    with path.open("rb") as fh:
        header = fh.read(100)
    if not header.startswith(_SQLITE_MAGIC):
        raise DataError(path, "not an SQLite database (no SQLite header), so not a stampede DB")
    if len(header) < 100:
        raise DataError(path, f"truncated SQLite database ({size} bytes, shorter than its header)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    change, valid_for = header[24:28], header[92:96]
    if pages and change == valid_for and size < page_size * pages:
        raise DataError(path, f"truncated SQLite database ({size} of {page_size * pages} bytes)")


def _sqlite_engine(path: Path) -> Engine:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"

    def connect() -> sqlite3.Connection:
        con = sqlite3.connect(uri, uri=True, timeout=LOCK_WAIT_S, check_same_thread=False)
        con.execute("PRAGMA query_only = 1")
        return con

    # the URL names the file (the fast path reads it through ADBC); ``creator`` opens it read-only
    url = sa.URL.create("sqlite", database=str(path.resolve()))
    return sa.create_engine(url, creator=connect, poolclass=sa.pool.NullPool)


def sqlite_file(engine: Engine) -> Path | None:
    """The SQLite file an engine of :func:`open_engine` reads (None: a MySQL/PostgreSQL server)."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    return Path(engine.url.database)


def open_engine(source: str | Path) -> tuple[Engine, str]:
    """(read-only engine, display name) for a DB file path or a database URL."""
    text = str(source)
    if not is_db_url(text):
        path = Path(text)
        check_sqlite_file(path)
        return _sqlite_engine(path), str(path)
    try:
        url = make_url(text)
    except sa.exc.ArgumentError as err:
        raise DataError(text, f"not a database URL ({err})") from None
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        if not url.database:
            raise DataError(shown, "an in-memory sqlite URL holds no stampede data")
        path = Path(url.database)
        check_sqlite_file(path)
        return _sqlite_engine(path), shown
    if url.get_backend_name() not in ("mysql", "postgresql"):
        raise DataError(shown, "unsupported database; use sqlite:///, mysql:// or postgresql://")
    opts = {"postgresql_readonly": True} if url.get_backend_name() == "postgresql" else {}
    try:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool).execution_options(**opts)
    except ModuleNotFoundError as err:
        raise DataError(shown, f"the database driver is not installed ({err.name}); pip install it") from None
    if url.get_backend_name() == "mysql":  # the server refuses any write in this session
        sa.event.listen(engine, "connect", _mysql_read_only)
    return engine, shown


def _mysql_read_only(dbapi_con: Any, _record: Any) -> None:
    cur = dbapi_con.cursor()
    cur.execute("SET SESSION TRANSACTION READ ONLY")
    cur.close()


def _message(err: Exception) -> str:
    if isinstance(err, UnicodeDecodeError):  # the schema inspector decodes names itself
        return "not valid UTF-8"
    orig = err.orig if isinstance(err, sa.exc.DBAPIError) and err.orig is not None else err
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def with_retry(name: str, fn: Callable[[], T]) -> T:
    """Run a read; wait out 'database is locked' (monitord writing); other DB errors are one line.
    Raw sqlite3 errors count too: the bulk reads fetch from the DBAPI cursor directly; so do ADBC's
    (the SQLite fast path), which say "database is locked" in more than one error class."""
    for attempt in range(LOCK_RETRIES):
        try:
            return fn()
        except (sa.exc.DBAPIError, sqlite3.Error, adbc.Error, UnicodeDecodeError) as err:
            msg = _message(err)
            locked = "database is locked" in msg.lower() or "database table is locked" in msg.lower()
            if locked and attempt < LOCK_RETRIES - 1:
                time.sleep(LOCK_WAIT_S * (attempt + 1))
                continue
            if locked:
                raise DataError(name, f"database is locked (still, after {LOCK_RETRIES} tries)") from None
            raise DataError(name, _reason(msg)) from None
    raise AssertionError("unreachable")


def _reason(msg: str) -> str:
    if "UTF-8" in msg:  # SQLite stores what it is given; monitord writes valid text
        return "corrupt or tampered SQLite database (a text value is not valid UTF-8)"
    if "malformed" in msg or "not a database" in msg or "disk image" in msg:
        return f"truncated or corrupt SQLite database ({msg})"
    return f"cannot read the stampede database ({msg})"


def check_schema(engine: Engine, name: str) -> int:
    """The schema version; one clear line when the DB is empty, not stampede, or the wrong version."""

    def read() -> tuple[set[str], int | None, int]:
        with engine.connect() as con:
            tables = set(sa.inspect(con).get_table_names())
            if not {"dbversion", "workflow", "job", "job_instance", "jobstate"} <= tables:
                return tables, None, 0
            version = con.execute(
                sa.select(dbversion.c.version_number).order_by(dbversion.c.id.desc()).limit(1)
            ).scalar()
            n_wf = con.execute(sa.select(sa.func.count()).select_from(workflow)).scalar() or 0
            return tables, version, int(n_wf)

    tables, version, n_wf = with_retry(name, read)
    if not tables:
        raise DataError(name, "empty database (no tables): not a stampede DB, or monitord never ran")
    if version is None:
        missing = {"dbversion", "workflow", "job", "job_instance", "jobstate"} - tables
        raise DataError(name, f"not a stampede database (no table {sorted(missing)[0]!r})")
    if int(version) not in SUPPORTED_VERSIONS:
        lo, hi = min(SUPPORTED_VERSIONS), max(SUPPORTED_VERSIONS)
        raise DataError(
            name, f"stampede schema version {version}; flowsleuth reads versions {lo}-{hi} (Pegasus 4.9 on)"
        )
    if n_wf == 0:
        raise DataError(name, "the stampede database holds no workflow yet")
    return int(version)
