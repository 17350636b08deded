"""A journal whose format is newer than this program knows is never opened: the store refuses
it and the daemon refuses to start (exit 1, a Chinese-and-English line), so a release rolled
back to after a format change cannot misread or extend the shop's record."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent import AgentError
from agent.journal.sqlite_ledger import FORMAT
from agent.journal.store import JournalStore
from tests.e2e.journal_box import journal_box_toml
from tests.e2e.procs import Proc


def make_journal(state: Path) -> Path:
    """A journal with one sale, closed; its path."""

    async def go() -> None:
        j = await asyncio.to_thread(JournalStore.open, state / "journal.db",
                                    state / "keys" / "box.key")
        await j.append("sale", {"order": "XS-FMT-1", "till": "T1", "cashier": "C001",
                                "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": 1,
                                           "unit_price": 850, "amount": 850}],
                                "total": 850, "payments": [{"method": "cash", "amount": 850}]})
        await asyncio.to_thread(j.close)

    state.mkdir(parents=True, exist_ok=True)
    asyncio.run(go())
    return state / "journal.db"


def set_format(db: Path, version: int) -> None:
    """Stamp the file as a (future) release would."""
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.commit()
    conn.close()


def test_the_format_is_recorded_and_a_newer_one_refused(tmp_path: Path) -> None:
    db = make_journal(tmp_path)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == FORMAT
    conn.close()
    set_format(db, FORMAT + 1)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(AgentError, match=f"has format {FORMAT + 1}, newer than this release"):
        JournalStore.open(db, tmp_path / "keys" / "box.key")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_the_daemon_refuses_to_start_on_a_newer_journal(tmp_path: Path) -> None:
    state = tmp_path / "state"
    db = make_journal(state)
    set_format(db, FORMAT + 1)
    config = tmp_path / "box.toml"
    config.write_text(journal_box_toml(state), encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "agent", "agent", "run", "--config", str(config)],
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "销售日志格式比本程序新，拒绝启动 / journal" in r.stderr
    # The same journal at a format this release knows opens as before.
    set_format(db, FORMAT)
    proc = Proc(["-m", "agent", "agent", "run", "--config", str(config)],
                tmp_path / "box.log").start()
    proc.stop()
    assert "journal opened at seq 1" in (tmp_path / "box.log").read_text(encoding="utf-8")
