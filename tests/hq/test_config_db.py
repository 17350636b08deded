"""`[hq] db`: an SQLite file path (the default) or a PostgreSQL URL, checked; errors name hq.db."""

from __future__ import annotations

from pathlib import Path

import pytest

from hq.config import HqConfigError, parse_hq_config


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
