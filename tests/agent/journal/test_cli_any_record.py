"""`storelink journal verify|show|check-receipt` answer any record shape with a verdict (exit 0,
1 or 2 and one line saying why), never a traceback: databases and exports, one or many workers."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.journal.cli import main
from agent.journal.sqlite_ledger import SCHEMA
from sync.journal.receipt_qr import ReceiptCode
from sync.journal.vectors import BOX1
from tests.sync.journal.mutations import OBJECTS, Mutant, mutants

BOX1_HEX = BOX1.public_key().public_bytes_raw().hex()
VERDICT = ("valid: ", "invalid: seq ")


def write_db(path: Path, m: Mutant) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO journal(seq, record, hash, sig) VALUES (?, ?, ?, ?)",
                     m.rows())
    conn.commit()
    conn.close()
    return path


def write_export(path: Path, m: Mutant) -> Path:
    path.write_text("".join(m.lines()), encoding="utf-8", errors="surrogatepass")
    return path


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def _one_verdict(code: int, out: str, err: str) -> None:
    assert code in (0, 1, 2), code
    if code == 2:
        assert err.startswith("error: ") and "Traceback" not in err
    else:
        assert out.startswith(VERDICT[code]), out


@settings(max_examples=150, deadline=None)
@given(mutants())
def test_verify_and_show_give_a_verdict_for_any_record(m: Mutant) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = write_db(Path(tmp) / "journal.db", m)
        export = write_export(Path(tmp) / "journal.jsonl", m)
        for path in (db, export):
            code, out, err = cli("journal", "verify", str(path), "--jobs", "1")
            _one_verdict(code, out, err)
            if code == 1:
                assert out.startswith(f"invalid: seq {m.seq}: "), out
        code, out, err = cli("journal", "show", str(db), str(m.seq))
        assert code in (0, 1, 2) and "Traceback" not in err
        if code == 1:
            assert f"invalid: seq {m.seq}: " in out
        for command in ("head", "pubkey", "export"):
            code, out, err = cli("journal", command, str(db))
            assert code in (0, 2), (command, err)


FIELDS = st.fixed_dictionaries({
    "log": st.text(max_size=40), "seq": st.text(max_size=20), "time": st.text(max_size=20),
    "type": st.text(max_size=20), "amount": st.text(max_size=20), "key": st.text(max_size=20),
    "hash": st.text(max_size=70), "sig": st.text(max_size=130)})


def _receipt_text(record: dict[str, str], real: ReceiptCode) -> str:
    parts = real.text().split(":")
    for i, name in enumerate(("log", "seq", "time", "type", "amount", "key", "hash", "sig")):
        if record.get(name) is not None:
            parts[i + 1] = record[name]
    return ":".join(parts)


REAL = ReceiptCode(OBJECTS[2]["record"]["log"], 2, OBJECTS[2]["record"]["time"], "sale",
                   OBJECTS[2]["record"]["body"]["total"], OBJECTS[2]["record"]["key"],
                   bytes.fromhex(OBJECTS[2]["hash"]), bytes.fromhex(OBJECTS[2]["sig"]))


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_check_receipt_gives_a_verdict_for_any_field(data: st.DataObject) -> None:
    replaced = data.draw(st.dictionaries(
        st.sampled_from(["log", "seq", "time", "type", "amount", "key", "hash", "sig"]),
        st.text(max_size=70) | st.sampled_from(["{}", "[]", "null", "-0", "9" * 40, "1.5"]),
        max_size=3))
    text = data.draw(st.sampled_from([_receipt_text(replaced, REAL), str(replaced),
                                      json.dumps(replaced)]))
    code, out, err = cli("journal", "check-receipt", "--pubkey", BOX1_HEX, "--", text)
    _one_verdict(code, out, err)
    assert (code == 0) == (text.strip().upper() == REAL.text())


SHAPES = [("type", {"a": 1}), ("type", ["sale"]), ("body", []), ("key", {}), ("time", 2**53)]


@pytest.mark.parametrize(("member", "value"), SHAPES)
@pytest.mark.parametrize("form", ["db", "export"])
def test_the_cli_with_workers_calls_a_wrong_member_malformed(
        tmp_path: Path, member: str, value: object, form: str) -> None:
    rec = {**OBJECTS[3]["record"], member: value}
    m = Mutant(3, rec, [*OBJECTS[:3], {**OBJECTS[3], "record": rec}])
    path = (write_db(tmp_path / "j.db", m) if form == "db"
            else write_export(tmp_path / "j.jsonl", m))
    code, out, _ = cli("journal", "verify", str(path), "--jobs", "1")
    assert code == 1 and out.startswith("invalid: seq 3: malformed: "), out
    p = subprocess.run([sys.executable, "-m", "agent.journal.cli", "journal", "verify",
                        str(path), "--jobs", "2"], capture_output=True, text=True, timeout=120,
                       check=False)
    assert (p.returncode, p.stderr) == (1, ""), p.stderr
    assert p.stdout.startswith("invalid: seq 3: malformed: "), p.stdout
    if form == "db":
        code, out, _ = cli("journal", "show", str(path), "3")
        assert code == 1 and out.splitlines()[-1].startswith("invalid: seq 3: malformed: ")
