"""`storelink hq user …` on a real HQ config and SQLite file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hq.cli import main
from hq.people.passwords import verify_password
from hq.store.sqlite import SqliteStore


@pytest.fixture
def config(tmp_path: Path) -> Path:
    p = tmp_path / "hq.toml"
    p.write_text('[hq]\ndb = "hq.db"\nkey_file = "hq.key"\n\n[[stores]]\nid = "CQ-JB-001"\n'
                 'name = "重庆江北建材旗舰店"\nboxes = ["B1"]\n', encoding="utf-8")
    return p


def user_cmd(monkeypatch: pytest.MonkeyPatch, config: Path, *args: str,
             password: str = "门店密码-2026-春") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["user", *args, "--config", str(config)])


def test_the_first_admin_and_a_store_manager_are_made_listed_and_changed(
        monkeypatch: pytest.MonkeyPatch, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert user_cmd(monkeypatch, config, "add", "an", "--role", "admin", "--display", "安总",
                    "--password-stdin") == 0
    assert user_cmd(monkeypatch, config, "add", "zhang", "--role", "store_manager", "--store",
                    "CQ-JB-001", "--password-stdin") == 0
    capsys.readouterr()
    assert user_cmd(monkeypatch, config, "list") == 0
    out = capsys.readouterr().out
    assert "an\t安总\tadmin (管理员)\t-\tactive" in out
    assert "zhang\tzhang\tstore_manager (店长)\tCQ-JB-001\tactive" in out
    assert user_cmd(monkeypatch, config, "disable", "zhang") == 0
    assert user_cmd(monkeypatch, config, "passwd", "an", "--password-stdin",
                    password="新的密码-2026-秋") == 0
    store = SqliteStore(config.parent / "hq.db")
    try:
        an, zhang = store.user("an"), store.user("zhang")
        assert an is not None and verify_password("新的密码-2026-秋", an.password)
        assert zhang is not None and zhang.disabled
        assert [e["actor"] for e in store.audit(10)] == ["cli"] * 4
    finally:
        store.close()


def test_mistakes_are_exit_codes_with_the_field(
        monkeypatch: pytest.MonkeyPatch, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert user_cmd(monkeypatch, config, "add", "zhang", "--role", "store_manager",
                    "--store", "nowhere", "--password-stdin") == 2
    assert "stores[0]: no store 'nowhere'" in capsys.readouterr().err
    assert user_cmd(monkeypatch, config, "add", "an", "--role", "admin", "--password-stdin",
                    password="short") == 2
    assert user_cmd(monkeypatch, config, "disable", "nobody") == 1
    assert user_cmd(monkeypatch, config, "add", "an", "--role", "admin",
                    "--password-stdin") == 0
    assert user_cmd(monkeypatch, config, "add", "an", "--role", "admin",
                    "--password-stdin") == 1
    assert "exists" in capsys.readouterr().err
