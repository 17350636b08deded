"""The shipped vectors: the files match their generator, and the project's verifier (one process
or several) reaches the manifest's verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sync.journal import RecordError
from sync.journal.checkpoint import note_key_hash, parse_note
from sync.journal.fastcheck import compile_check
from sync.journal.parallel import verify_source
from sync.journal.receipt_qr import parse_receipt, verify_receipt
from sync.journal.record import public_bytes
from sync.journal.schema import ID, text
from sync.journal.schema import run as run_rule
from sync.journal.vectors import BOX1, BOX2, HQ, HQ_NAME, generate, main
from sync.journal.verify import Verifier

DETAIL = text(0, 500)

VECTORS = Path(__file__).resolve().parents[3] / "docs" / "vectors"
MANIFEST = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))
COSIGNERS = {(HQ_NAME, note_key_hash(HQ_NAME, 4, public_bytes(HQ)).hex()): HQ.public_key()}


def test_committed_vectors_match_the_generator() -> None:
    for name, content in generate().items():
        assert (VECTORS / name).read_bytes().decode("utf-8") == content, name


def test_the_generator_writes_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    assert main([str(tmp_path)]) == 0
    assert (tmp_path / "tampered" / "forked.jsonl").is_file()
    assert "manifest.json" in capsys.readouterr().out


def export_lines(text: str) -> list[str]:
    """The lines of an export, each with its LF (§8; str.splitlines would also split at CR
    and at U+0085, U+2028 inside strings)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def run(case: dict[str, Any], processes: int, cosigners: Any) -> tuple[Any, ...]:
    lines = export_lines((VECTORS / case["file"]).read_bytes().decode("utf-8"))
    v = verify_source(lambda: lines, Verifier(log=case.get("log"), cosigners=cosigners),
                      processes=processes, chunk=3)
    f = v.finish()
    if f is None and "checkpoint" in case:
        f = v.check_checkpoint(parse_note((VECTORS / case["checkpoint"]).read_text()))
    return ("valid",) if f is None else ("invalid", f.seq, f.code)


@pytest.mark.parametrize("case", MANIFEST["cases"], ids=[c["name"] for c in MANIFEST["cases"]])
def test_the_project_verifier_agrees_with_the_manifest(case: dict[str, Any]) -> None:
    want = ("valid",) if case["verdict"] == "valid" else ("invalid", case["seq"], case["code"])
    assert run(case, 1, None) == want
    assert run(case, 1, COSIGNERS) == want


PARALLEL = ("valid", "amount_changed", "record_inserted", "float_amount", "bad_rotation_proof",
            "forked")


def test_parallel_verification_gives_the_same_verdicts() -> None:
    for case in MANIFEST["cases"]:
        if case["name"] in PARALLEL:
            assert run(case, 2, COSIGNERS) == run(case, 1, COSIGNERS), case["name"]


@pytest.mark.parametrize("receipt", MANIFEST["receipts"])
def test_receipts(receipt: dict[str, Any]) -> None:
    code = parse_receipt(receipt["qr"])
    keys = [BOX1.public_key(), BOX2.public_key()]
    assert verify_receipt(code, keys) == (receipt["verdict"] == "valid")


TEXT_RULES = json.loads((VECTORS / "text-rules.json").read_text(encoding="utf-8"))["values"]


@pytest.mark.parametrize("case", TEXT_RULES, ids=[c["why"] for c in TEXT_RULES])
def test_the_schema_follows_the_text_rule_vectors(case: dict[str, Any]) -> None:
    rule = ID if case["kind"] == "id" else DETAIL
    try:
        run_rule(rule, case["value"], "x")
    except RecordError:
        assert not case["valid"]
    else:
        assert case["valid"]
    assert compile_check(rule)(case["value"]) == case["valid"]  # the fast path agrees
