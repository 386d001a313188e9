"""A stampede DB on a real PostgreSQL or MySQL (MariaDB) server, where Pegasus can keep its master
DB: the same runs as from the SQLite file, read in a read-only session, and a server that is not
there is one line.

Each server is its own throwaway instance on a free loopback port (PostgreSQL's ``initdb`` /
``pg_ctl``, MariaDB's ``mariadb-install-db`` / ``mariadbd``; skipped where they or the Python
driver, psycopg or PyMySQL, are absent); each fixture's SQLite DB is copied into a database of
its own, table by table, as Pegasus's schema made it (reflected, not re-declared)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from flowsleuth.cli.main import app
from flowsleuth.workflows.errors import DataError
from flowsleuth.workflows.pegasus import iter_pegasus_runs
from flowsleuth.workflows.pegasus import stampede as st
from flowsleuth.workflows.pegasus.connect import open_engine
from typer.testing import CliRunner

from .conftest import FIXTURES

pytestmark = pytest.mark.integration
DBS = {p.parent.name: p for p in sorted(FIXTURES.glob("*/*.stampede.db"))}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _postgres(work: Path) -> Iterator[str]:
    """``postgresql+psycopg://flowsleuth@127.0.0.1:PORT``: a throwaway cluster, trust auth."""
    pytest.importorskip("psycopg")
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.skip("PostgreSQL's initdb/pg_ctl are not installed")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser")
    data, port = work / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
    try:
        subprocess.run(
            _as_postgres(["initdb", "-D", str(data), "-U", "flowsleuth", "--auth=trust", "-E", "UTF8"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
        opts = f"-h 127.0.0.1 -p {port} -k {work}"
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(data), "-o", opts, "-l", str(work / "log"), "-w", "start"]),
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        pytest.skip(f"could not start PostgreSQL here ({err})")
    try:
        yield f"postgresql+psycopg://flowsleuth@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres(["pg_ctl", "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )


def _mysql(work: Path) -> Iterator[str]:
    """``mysql+pymysql://root@127.0.0.1:PORT``: a throwaway MariaDB, no grant tables."""
    pytest.importorskip("pymysql")
    if not (shutil.which("mariadb-install-db") and shutil.which("mariadbd")):
        pytest.skip("MariaDB's mariadb-install-db/mariadbd are not installed")
    data, port = work / "data", _free_port()
    user = ["--user=root"] if os.geteuid() == 0 else []
    try:
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={data}", *user, "--skip-test-db"],
            check=True,
            capture_output=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        pytest.skip(f"could not set up MariaDB here ({err})")
    cmd = ["mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={work}/sock", f"--port={port}"]
    log = (work / "log").open("wb")
    proc = subprocess.Popen(
        [*cmd, "--bind-address=127.0.0.1", "--skip-grant-tables", *user], stdout=log, stderr=log
    )
    url = f"mysql+pymysql://root@127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                sa.create_engine(f"{url}/mysql", poolclass=sa.pool.NullPool).connect().close()
                break
            except sa.exc.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.skip("MariaDB did not start here")
                time.sleep(0.2)
        yield url
    finally:
        proc.kill()
        proc.wait()
        log.close()


@pytest.fixture(scope="module", params=["postgresql", "mysql"])
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    work = Path(tempfile.mkdtemp(prefix=f"flowsleuth-{request.param}-"))
    try:
        yield from (_postgres if request.param == "postgresql" else _mysql)(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _admin_url(server: str) -> str:
    return f"{server}/postgres" if server.startswith("postgresql") else f"{server}/mysql"


def _copy_into(server: str, name: str, sqlite_db: Path) -> str:
    """The fixture DB as database ``name`` on the server; its URL."""
    admin = sa.create_engine(_admin_url(server), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    quoted = admin.dialect.identifier_preparer.quote(name)
    with admin.connect() as con:
        con.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted}"))
        con.execute(sa.text(f"CREATE DATABASE {quoted}"))
    admin.dispose()
    src = sa.create_engine(f"sqlite:///{sqlite_db}", poolclass=sa.pool.NullPool)
    dst = sa.create_engine(f"{server}/{name}", poolclass=sa.pool.NullPool)
    meta = sa.MetaData()
    meta.reflect(src)
    for table in meta.tables.values():
        # keys and unique constraints kept; no foreign keys (rows go in table by table) and no
        # SQLite CHECKs (``archived IN (0, 1)`` is no PostgreSQL boolean test)
        table.constraints = {
            c for c in table.constraints if isinstance(c, sa.PrimaryKeyConstraint | sa.UniqueConstraint)
        }
        for col in table.columns:
            col.foreign_keys.clear()
            with contextlib.suppress(NotImplementedError):  # SQLite's DATETIME -> DateTime, ...
                col.type = col.type.as_generic()
    meta.create_all(dst)
    with src.connect() as s, dst.begin() as d:
        for table in meta.sorted_tables:
            rows = [dict(r._mapping) for r in s.execute(sa.select(table))]
            if rows:
                d.execute(table.insert(), rows)
    src.dispose()
    dst.dispose()
    return f"{server}/{name}"


@pytest.fixture(scope="module")
def urls(server: str) -> dict[str, str]:
    return {name: _copy_into(server, name, db) for name, db in DBS.items()}


def _lone(name: str, tmp_path: Path) -> Path:
    """The fixture's DB file away from its submit directory: what a URL gives, the DB alone
    (no kickstart records or logs next to it)."""
    return Path(shutil.copy(DBS[name], tmp_path / DBS[name].name))


@pytest.mark.parametrize("name", list(DBS))
def test_runs_from_postgres_equal_the_sqlite_runs(name: str, urls: dict[str, str], tmp_path: Path) -> None:
    from_pg = list(iter_pegasus_runs(urls[name]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(st, "FAST_SQLITE", False)  # the same SQLAlchemy queries, on SQLite
        from_file = list(iter_pegasus_runs(_lone(name, tmp_path)))
    assert len(from_pg) == len(from_file) > 0
    for a, b in zip(from_pg, from_file, strict=True):
        assert (a.workflow, a.run_id, a.parent_run) == (b.workflow, b.run_id, b.parent_run)
        pd.testing.assert_frame_equal(a.frame, b.frame, check_dtype=False)
        pd.testing.assert_frame_equal(a.status, b.status, check_dtype=False)


def test_the_reader_only_ever_reads(urls: dict[str, str]) -> None:
    engine, _ = open_engine(urls["process_wf_failure"])
    try:
        with engine.connect() as con, pytest.raises(sa.exc.DBAPIError, match="(?i)read.only"):
            con.execute(sa.text("DELETE FROM jobstate"))
    finally:
        engine.dispose()


def test_triage_of_the_url_equals_triage_of_the_file(urls: dict[str, str], env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    name = "hierarchical_wf_failure"
    srcs = (urls[name], str(_lone(name, tmp_path)))
    out = [runner.invoke(app, ["triage", src, "-f", "jsonl", "--explain", "0"]) for src in srcs]
    assert [r.exit_code for r in out] == [0, 0], [r.output for r in out]
    assert out[0].stdout == out[1].stdout and out[0].stdout.count("\n") > 5


def test_a_server_that_is_not_there_is_one_line(server: str) -> None:
    absent = server.rsplit(":", 1)[0] + f":{_free_port()}/stampede"
    with pytest.raises(DataError) as err, contextlib.suppress(StopIteration):
        next(iter_pegasus_runs(absent))
    assert "\n" not in str(err.value) and "127.0.0.1" in str(err.value)


def test_a_database_that_is_not_stampede_is_one_line(server: str) -> None:
    with pytest.raises(DataError, match="empty database|not a stampede"):
        next(iter_pegasus_runs(_admin_url(server)))
