"""`[hq] db`: an SQLite file path (the default) or a PostgreSQL URL, checked; errors name hq.db."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hq.config import HqConfigError, parse_hq_config
from tests.e2e.broker import free_port
from tests.hq.journals import hq_toml


def test_the_default_store_is_an_sqlite_file_beside_the_config(tmp_path: Path) -> None:
    assert parse_hq_config({}, tmp_path).db == tmp_path / "hq.db"


@pytest.mark.parametrize("url", ["postgresql://hq@db.example:5432/storelink",
                                 "postgres://hq@10.0.0.5/storelink?sslmode=require",
                                 "postgresql:///storelink?host=/run/postgresql"])
def test_a_postgresql_url_selects_postgresql(url: str, tmp_path: Path) -> None:
    assert parse_hq_config({"hq": {"db": url}}, tmp_path).db == url


@pytest.mark.parametrize(("db", "why"), [
    ("postgresql://hq@db.example:99999/storelink", "not a valid PostgreSQL URL"),
    ("postgresql://hq@db.example:5432/", "needs a database name"),
    ("postgresql:///storelink", "needs a host"),
    ("postgresql://db.example:0/storelink", "port must be 1-65535"),
    ("", "an SQLite file path or a postgresql:// URL"),
])
def test_a_bad_store_is_named_by_hq_db(db: str, why: str) -> None:
    with pytest.raises(HqConfigError) as e:
        parse_hq_config({"hq": {"db": db}})
    assert any(line.startswith("hq.db: ") and why in line for line in e.value.errors), \
        e.value.errors


def test_an_unreachable_database_stops_hq_with_its_address_but_not_its_password(
        tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    cfg = hq_toml(tmp_path, 1, db=f"postgresql://hq:s3cret-口令@127.0.0.1:{port}/storelink")
    out = subprocess.run([sys.executable, "-m", "hq.cli", "run", "--config", str(cfg)],
                         check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert f"cannot open PostgreSQL at 127.0.0.1:{port}/storelink" in out.stderr
    assert "s3cret" not in out.stderr + out.stdout
