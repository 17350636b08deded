"""Versioned schema: both backends create and migrate it when opened; a worker refuses a
database migrated by a newer HQ, naming both versions, before changing anything."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hq.store import HqStore
from hq.store.orders import OrderRow
from hq.store.postgres import PostgresStore
from hq.store.schema import LATEST, POSTGRES, SQLITE, Migration, SchemaTooNew, pending
from hq.store.sqlite import SqliteStore
from tests.hq.journals import hq_toml

STEPS = [Migration(1, ("a",)), Migration(2, ("b",)), Migration(3, ("c",))]


def test_pending_steps_follow_the_version_found() -> None:
    assert pending(0, STEPS) == STEPS
    assert pending(1, STEPS) == STEPS[1:]
    assert pending(3, STEPS) == []


def test_a_schema_newer_than_the_steps_is_refused_naming_both_versions() -> None:
    with pytest.raises(SchemaTooNew) as e:
        pending(4, STEPS)
    assert (e.value.found, e.value.known) == (4, 3)
    assert "version 4" in str(e.value) and "version 3" in str(e.value)


def test_steps_must_be_numbered_without_gaps() -> None:
    with pytest.raises(ValueError, match=r"1\.\.n"):
        pending(0, [Migration(1, ()), Migration(3, ())])


def test_both_backends_know_every_version() -> None:
    assert [m.version for m in SQLITE] == [m.version for m in POSTGRES] == list(
        range(1, LATEST + 1))


def test_sqlite_adopts_a_file_from_before_versioning_with_its_data(tmp_path: Path) -> None:
    db = tmp_path / "hq.db"
    old = sqlite3.connect(db)
    for statement in SQLITE[0].statements:
        old.execute(statement)
    old.execute("INSERT INTO boxes (id, state) VALUES ('BOX-A', '{\"name\": \"重庆江北店\"}')")
    old.commit()
    old.close()
    store = SqliteStore(db)
    assert store.schema_version() == LATEST
    assert store.box_state("BOX-A") == {"name": "重庆江北店"}
    store.close()


def refuses_a_newer_schema(open_store: Callable[[], HqStore],
                           connect: Callable[[], AbstractContextManager[Any]], param: str) -> None:
    """A database one schema version past LATEST: the store refuses it and leaves it alone
    (`connect` opens it directly, `param` is its placeholder)."""
    open_store().close()
    with connect() as c:
        c.execute(f"INSERT INTO schema_version VALUES ({param}, 1)", (LATEST + 1,))
    with pytest.raises(SchemaTooNew) as e:
        open_store()
    assert (e.value.found, e.value.known) == (LATEST + 1, LATEST)
    with connect() as c:
        assert c.execute("SELECT MAX(version) FROM schema_version").fetchone() == (LATEST + 1,)


def test_sqlite_refuses_a_newer_schema_and_leaves_it_alone(tmp_path: Path) -> None:
    db = tmp_path / "hq.db"
    refuses_a_newer_schema(lambda: SqliteStore(db), lambda: sqlite3.connect(db), "?")


def test_postgres_refuses_a_newer_schema_and_leaves_it_alone(pg_url: str) -> None:
    refuses_a_newer_schema(lambda: PostgresStore(pg_url),
                           lambda: psycopg.connect(pg_url, autocommit=True), "%s")


def test_postgres_workers_starting_together_migrate_once(pg_url: str) -> None:
    procs = [subprocess.Popen([sys.executable, "-c",
                               "import sys; from hq.store.postgres import PostgresStore; "
                               "PostgresStore(sys.argv[1]).close()", pg_url])
             for _ in range(4)]
    assert [p.wait(60) for p in procs] == [0, 0, 0, 0]
    with psycopg.connect(pg_url) as c:
        rows = c.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert rows == [(v,) for v in range(1, LATEST + 1)]


def open_with(backend: str, where: str, steps: tuple[Migration, ...]) -> HqStore:
    if backend == "sqlite":
        return SqliteStore(Path(where), migrations=steps)
    return PostgresStore(where, migrations=steps)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_later_version_migrates_in_place_and_an_older_worker_then_refuses(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    where = str(tmp_path / "hq.db") if backend == "sqlite" else request.getfixturevalue("pg_url")
    v1 = SQLITE if backend == "sqlite" else POSTGRES
    v2 = (*v1, Migration(len(v1) + 1, ("CREATE TABLE notes (box TEXT PRIMARY KEY, note TEXT)",
                                       "INSERT INTO notes VALUES ('BOX-A', '重庆')")))
    old = open_with(backend, where, v1)
    old.box_update("BOX-A", lambda _: {"name": "重庆江北店"})
    old.close()
    new = open_with(backend, where, v2)
    assert new.schema_version() == len(v2)
    assert new.box_state("BOX-A") == {"name": "重庆江北店"}
    new.close()
    again = open_with(backend, where, v2)  # nothing pending: the step does not run twice
    again.close()
    with pytest.raises(SchemaTooNew) as e:
        open_with(backend, where, v1)
    assert (e.value.found, e.value.known) == (len(v2), len(v1))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_hq_run_refuses_to_start_on_a_newer_schema(backend: str, tmp_path: Path,
                                                   request: pytest.FixtureRequest) -> None:
    if backend == "postgres":
        url: str = request.getfixturevalue("pg_url")
        cfg = hq_toml(tmp_path, 1, db=url)
        PostgresStore(url).close()
        with psycopg.connect(url, autocommit=True) as pc:
            pc.execute("INSERT INTO schema_version VALUES (%s, 1)", (LATEST + 1,))
    else:
        cfg = hq_toml(tmp_path, 1)
        SqliteStore(tmp_path / "hq.db").close()
        with sqlite3.connect(tmp_path / "hq.db") as c:
            c.execute("INSERT INTO schema_version VALUES (?, 1)", (LATEST + 1,))
    out = subprocess.run([sys.executable, "-m", "hq.cli", "run", "--config", str(cfg)],
                         check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert f"schema is version {LATEST + 1}, newer than version {LATEST}" in out.stderr


def test_postgres_version_7_numbers_twice_given_order_positions_again_in_order(
        pg_url: str) -> None:
    # Before version 7 two workers adding orders at once could give both the same position.
    PostgresStore(pg_url, migrations=POSTGRES[:6]).close()
    with psycopg.connect(pg_url, autocommit=True) as c:
        for order_no, seq, at in (("XS-B", 1, 20), ("XS-A", 1, 10), ("XS-C", 2, 5)):
            c.execute("INSERT INTO orders (order_no, customer, salesperson, store, body, "
                      "body_hash, created_ms, seq) VALUES (%s, '王芳', 'S01', NULL, '{}', "
                      "'h', %s, %s)", (order_no, at, seq))
    store = PostgresStore(pg_url)
    try:
        store.order_add(OrderRow("XS-D", "王芳", "S01", None, {}, "h", 30))
        assert [o.order_no for o in store.orders_of(None, 10)] == ["XS-D", "XS-C", "XS-B", "XS-A"]
    finally:
        store.close()
    with psycopg.connect(pg_url) as c:
        rows = c.execute("SELECT order_no, seq FROM orders ORDER BY seq").fetchall()
    assert rows == [("XS-A", 1), ("XS-B", 2), ("XS-C", 3), ("XS-D", 4)]
