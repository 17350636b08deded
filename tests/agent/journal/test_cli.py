"""`storelink journal …` commands on a real database and on the shipped vectors."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from agent.journal.cli import add_commands, main
from agent.journal.sqlite_ledger import SCHEMA
from agent.journal.store import JournalStore

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "docs" / "vectors"
KEYS = json.loads((VECTORS / "keys.json").read_text(encoding="utf-8"))
MANIFEST = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))
KEYS_LOG = MANIFEST["log"]
T = 1795914000000


@pytest.fixture
def db(tmp_path: Path) -> Path:
    ticks = [0]

    def wall() -> int:
        ticks[0] += 1
        return T + ticks[0]

    store = JournalStore.open(tmp_path / "journal.db", tmp_path / "journal.key", boot="b1",
                              genesis={"name": "渝中解放碑通讯店"}, wall=wall,
                              mono=lambda: ticks[0])

    async def work() -> None:
        await store.append("sale", {
            "order": "XS-1", "total": 249900, "payments": [{"method": "alipay",
                                                             "amount": 249900}],
            "lines": [{"sku": "TX-1001", "name": "智能手机 8+256G 曜石黑", "qty": 1,
                       "unit_price": 249900, "amount": 249900}]})
        await store.day_close("2026-11-29")
        await store.rotate_key("年度密钥轮换")
        await store.append("audit", {"event": "receipt.reprint", "actor": "C001",
                                     "ref_seq": 1})

    asyncio.run(work())
    store.close()
    return tmp_path / "journal.db"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_commands_register_on_any_parser() -> None:
    parser = argparse.ArgumentParser(prog="storelink")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["journal", "verify", "x.db", "--jobs", "2"])
    assert callable(args.func) and args.jobs == 2


def test_export_then_verify_the_export(db: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "export.jsonl"
    assert run(capsys, "journal", "export", str(db), "-o", str(out))[0] == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and "智能手机" in lines[1]
    assert run(capsys, "journal", "export", str(db))[1].splitlines() == lines
    code, text, _ = run(capsys, "journal", "verify", str(out))
    assert code == 0 and text.startswith("valid: 5 records")


def test_show_head_and_pubkey(db: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    code, text, _ = run(capsys, "journal", "show", str(db), "1")
    assert code == 0 and "智能手机 8+256G 曜石黑" in text and "receipt: SLJ1:" in text
    head = json.loads(run(capsys, "journal", "head", str(db))[1])
    assert head["size"] == 5 and head["totals"]["net"] == 249900
    keys = json.loads(run(capsys, "journal", "pubkey", str(db))[1])
    assert len(keys["keys"]) == 2 and keys["current"] == head["key"]
    assert keys["keys"][0]["vkey"].startswith(f"storelink.journal/{head['log']}+")
    from_file = json.loads(run(capsys, "journal", "pubkey", "--key",
                               str(tmp_path / "journal.key"))[1])
    assert from_file["key_id"] == keys["current"]
    pub = tmp_path / "pub.json"
    pub.write_text(json.dumps(keys["keys"][0]))
    assert run(capsys, "journal", "verify", str(db), "--pubkey", str(pub))[0] == 0
    assert run(capsys, "journal", "verify", str(db), "--pubkey",
               KEYS["attacker"]["pubkey"])[1].startswith("invalid: seq 0: key:")
    assert run(capsys, "journal", "show", str(db), "99")[0] == 2


def test_receipts_are_checked_offline(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shown = run(capsys, "journal", "show", str(db), "1")[1]
    qr = shown.split("receipt: ")[1].strip()
    keys = json.loads(run(capsys, "journal", "pubkey", str(db))[1])
    code, text, _ = run(capsys, "journal", "check-receipt", qr, "--pubkey",
                        keys["keys"][0]["pubkey"])
    assert code == 0 and "amount 2499.00 yuan" in text
    assert run(capsys, "journal", "check-receipt", qr.replace(":249900:", ":24990:"),
               "--pubkey", keys["keys"][0]["pubkey"])[0] == 1
    assert run(capsys, "journal", "check-receipt", qr, "--pubkey",
               keys["keys"][1]["vkey"])[0] == 1
    assert run(capsys, "journal", "check-receipt", "hello", "--pubkey",
               keys["keys"][0]["pubkey"])[0] == 2
    assert run(capsys, "journal", "check-receipt", qr, "--pubkey", "zz")[0] == 2


@pytest.mark.parametrize("receipt", MANIFEST["receipts"])
def test_vector_receipts(receipt: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "journal", "check-receipt", receipt["qr"], "--pubkey",
                     KEYS["box1"]["pubkey"], "--pubkey", KEYS["box2"]["pubkey"])
    assert code == (0 if receipt["verdict"] == "valid" else 1)


def test_vectors_through_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    hq = ["--hq-pubkey", KEYS["hq"]["vkey"]]
    for case in MANIFEST["cases"]:
        args = ["journal", "verify", str(VECTORS / case["file"]), *hq]
        if "checkpoint" in case:
            args += ["--checkpoint", str(VECTORS / case["checkpoint"])]
        if "log" in case:
            args += ["--log", case["log"]]
        code, text, _ = run(capsys, *args)
        if case["verdict"] == "valid":
            assert code == 0, text
        else:
            assert (code, text.split(":")[:3]) == (
                1, ["invalid", f" seq {case['seq']}", f" {case['code']}"]), case["name"]


def test_parallel_verification_from_the_command(db: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "journal", "verify", str(db), "--jobs", "2")[0] == 0
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER journal_no_update")
    conn.execute("UPDATE journal SET sig = zeroblob(64) WHERE seq = 3")
    conn.commit()
    conn.close()
    one = run(capsys, "journal", "verify", str(db), "--jobs", "1")
    two = run(capsys, "journal", "verify", str(db), "--jobs", "2")
    assert one == two and one[1].startswith("invalid: seq 3: signature:")


def test_unusable_input_exits_2(db: Path, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("今天的账\n", encoding="utf-8")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    bad_cp = tmp_path / "cp.txt"
    bad_cp.write_text("not a checkpoint\n")
    for args in (["verify", str(tmp_path / "missing.db")], ["verify", str(text)],
                 ["verify", str(other)], ["verify", str(db), "--checkpoint", str(bad_cp)],
                 ["verify", str(db), "--checkpoint", str(VECTORS / "checkpoint.txt")],
                 ["verify", str(db), "--hq-pubkey", "nonsense"],
                 ["head", str(other)], ["checkpoint", str(other)]):
        code, _, err = run(capsys, "journal", *args)
        assert (code, err.startswith("error: ")) == (2, True), args


def test_the_module_runs_as_a_program(db: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agent.journal.cli", "journal", "head", str(db)], cwd=ROOT,
        capture_output=True, text=True, check=False, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0 and json.loads(done.stdout)["size"] == 5


def test_a_receipt_holder_detects_a_cut_off_tail_and_a_rewrite(
        capsys: pytest.CaptureFixture[str]) -> None:
    by_seq = {r["seq"]: r["qr"] for r in MANIFEST["receipts"] if r["verdict"] == "valid"}
    journal = str(VECTORS / "journal.jsonl")
    code, text, _ = run(capsys, "journal", "verify", journal, "--receipt", by_seq[18],
                        "--receipt", by_seq[2].lower())
    assert code == 0 and "receipt: record 18 is in the journal as printed" in text
    code, text, _ = run(capsys, "journal", "verify", str(VECTORS / "tampered/truncated.jsonl"),
                        "--receipt", by_seq[18])
    assert (code, text.split(":")[:3]) == (1, ["invalid", " seq 18", " truncated"])
    code, text, _ = run(capsys, "journal", "verify", str(VECTORS / "tampered/forked.jsonl"),
                        "--receipt", by_seq[18])
    assert (code, text.split(":")[:3]) == (1, ["invalid", " seq 18", " fork"])
    forged = next(r["qr"] for r in MANIFEST["receipts"] if r["verdict"] == "invalid")
    code, _, err = run(capsys, "journal", "verify", journal, "--receipt", forged)
    assert code == 2 and "does not verify" in err
    other_log = by_seq[2].replace(KEYS_LOG.upper(), "0" * 32)
    assert run(capsys, "journal", "verify", journal, "--receipt", other_log)[0] == 2
    assert run(capsys, "journal", "verify", journal, "--receipt", "SLJ1:x")[0] == 2


def test_verify_with_the_expected_log_id(capsys: pytest.CaptureFixture[str]) -> None:
    journal = str(VECTORS / "journal.jsonl")
    assert run(capsys, "journal", "verify", journal, "--log", KEYS_LOG)[0] == 0
    code, text, _ = run(capsys, "journal", "verify", journal, "--log", "1" * 32)
    assert (code, text.split(":")[:3]) == (1, ["invalid", " seq 0", " log"])
    assert run(capsys, "journal", "verify", journal, "--log", "XYZ")[0] == 2


def test_an_empty_export_is_an_empty_journal(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    code, text, _ = run(capsys, "journal", "verify", str(empty))
    assert (code, text.split(":")[:3]) == (1, ["invalid", " seq 0", " genesis"])
    conn = sqlite3.connect(tmp_path / "empty.db")
    conn.executescript(SCHEMA)
    conn.close()
    code, text2, _ = run(capsys, "journal", "verify", str(tmp_path / "empty.db"))
    assert (code, text2) == (1, text)
    blank_first = tmp_path / "blank.jsonl"
    blank_first.write_text("\n" + (VECTORS / "journal.jsonl").read_text(encoding="utf-8"))
    code, text, _ = run(capsys, "journal", "verify", str(blank_first))
    assert (code, text.split(":")[:3]) == (1, ["invalid", " seq 0", " canonical"])
    other = tmp_path / "notes.txt"
    other.write_text("会员名单\n", encoding="utf-8")
    assert run(capsys, "journal", "verify", str(other))[0] == 2
