"""A generated month of 20 stores through HQ's real ingest: each day's run clears to the totals
computed from the generated sales, flags exactly the planted problems, shows the late record as
an adjustment in the next run, and its CSV and XLSX exports re-add to the run's totals."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from hq.clearing.book import ClearingBook, ClearingError
from hq.clearing.export import HEADER, to_csv, to_xlsx
from hq.ingest.journal import JournalIngest
from hq.store.sqlite import SqliteStore
from sync.protocol.messages import JournalBatch
from tests.hq.clearing.month import DAYS, METHODS, Month, china_ms, day_of, generate
from tests.hq.journals import HQ_KEY, obj


def present(ingest: JournalIngest, m: Month, box: str, start: int, end: int,
            skip: int | None = None) -> str:
    """Entries [start, end) of the box's chain as one batch (without `skip`); the ack status."""
    c = m.chains[box]
    entries = [obj(e) for i, e in enumerate(c.entries[start:end], start) if i != skip]
    out = ingest.ingest(JournalBatch(box, c.head.log, start, tuple(entries)))
    return out.ack.status


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Month, list[Any], Path]]:
    """The month ingested day by day with a run after each day; (month, runs, db)."""
    m = generate()
    db = tmp_path_factory.mktemp("month") / "hq.db"
    store = SqliteStore(db)
    now = [china_ms(0, 0)]
    ingest = JournalIngest(store, m.box_entries(), HQ_KEY, "storelink-hq", clock=lambda: now[0])
    book = ClearingBook(store, m.stores, lambda: ())
    held = dict.fromkeys(m.chains, 0)
    runs = []
    late_box, late_day = m.late
    gap_box, gap_day = m.gap
    for n in range(DAYS):
        now[0] = china_ms(n, 23)
        if n == late_day + 1:
            assert present(ingest, m, late_box, held[late_box],
                           m.day_end[late_box][late_day]) == "ok"
            held[late_box] = m.day_end[late_box][late_day]
        for box in m.chains:
            end = m.day_end[box][n]
            if box == late_box and n == late_day:
                continue
            if box == gap_box and n >= gap_day:
                if n == gap_day:  # one record lost in the middle of the day's batch
                    assert present(ingest, m, box, held[box], end, skip=held[box] + 1) \
                        == "refused"
                continue
            assert present(ingest, m, box, held[box], end) == "ok", (box, n)
            held[box] = end
        now[0] = china_ms(n + 1, 2)
        runs.append(book.run(f"CR-{day_of(n)}", day_of(n), "财务-王芳", now[0]).body)
    # A second run of a day is refused; the recorded runs never change.
    with pytest.raises(ClearingError):
        book.run("CR-again", day_of(3), "财务-王芳", now[0])
    stored = [r.body for _, r in reversed(store.clearing_runs(100))]
    assert json.loads(json.dumps(stored)) == json.loads(json.dumps(runs))
    yield m, runs, db
    store.close()


def _expected_flags(m: Month, n: int) -> set[tuple[str, str, str]]:
    box, day = m.missing_close
    out = set()
    if n == day:
        out.add((box[:6], box, "not_closed"))
    box, day = m.gap
    if n >= day:
        out.add((box[:6], box, "gap"))
    return out


def test_each_run_flags_exactly_the_planted_problems(month: tuple[Month, list[Any], Path]
                                                     ) -> None:
    m, runs, _ = month
    for n, run in enumerate(runs):
        got = {(ln["store"], f["box"], f["code"]) for ln in run["lines"] for f in ln["flags"]}
        assert got == _expected_flags(m, n), day_of(n)
        assert {ln["store"] for ln in run["lines"] if ln["flagged"]} == {s for s, _, _ in got}
        assert len(run["lines"]) == 20


def _expected_line(m: Month, store: str, day: str) -> dict[str, int]:
    out = dict.fromkeys(METHODS, 0)
    for b in m.stores[store].boxes:
        for k, v in m.expected.get((b, day), {}).items():
            out[k] += v
    return out


def test_runs_clear_to_the_totals_of_the_generated_sales(month: tuple[Month, list[Any], Path]
                                                         ) -> None:
    m, runs, _ = month
    late_box, late_day = m.late
    missing_box, missing_day = m.missing_close
    for n, run in enumerate(runs):
        day = day_of(n)
        consolidated = dict.fromkeys(METHODS, 0)
        for ln in run["lines"]:
            want = _expected_line(m, ln["store"], day)
            if ln["store"] == late_box[:6] and n == late_day:
                want = dict.fromkeys(METHODS, 0)  # HQ had nothing of that day yet
            if ln["store"] == m.gap[0][:6] and n >= m.gap[1]:
                want = dict.fromkeys(METHODS, 0)
            assert ln["channels"] == want, (day, ln["store"])
            if not ln["flagged"]:
                for k, v in want.items():
                    consolidated[k] += v
        assert run["consolidated"]["channels"] == consolidated, day
        assert run["consolidated"]["total"] == sum(consolidated.values())
    # The day store 05 did not close: its money shown apart, then cleared with the next close.
    line = next(ln for ln in runs[missing_day]["lines"] if ln["store"] == missing_box[:6])
    assert line["flagged"] and sum(line["unclosed"].values()) != 0
    assert line["store"] not in runs[missing_day]["consolidated"]["stores"]
    assert line["store"] in runs[missing_day + 1]["consolidated"]["stores"]


def test_the_late_record_is_an_adjustment_in_the_next_run_only(
        month: tuple[Month, list[Any], Path]) -> None:
    m, runs, _ = month
    box, n = m.late
    for i, run in enumerate(runs):
        if i != n + 1:
            assert run["adjustments"] == [], day_of(i)
    adj = runs[n + 1]["adjustments"]
    want = {k: v for k, v in m.expected[(box, day_of(n))].items() if v}
    assert {a["channel"]: a["delta"] for a in adj} == want
    assert {(a["day"], a["store"], a["box"]) for a in adj} == {(day_of(n), box[:6], box)}
    seqs = {s for a in adj for s in a["seqs"]}
    assert seqs == set(m.money_seqs[(box, day_of(n))]) == {m.day_end[box][n - 1]}
    assert runs[n + 1]["adjustments_total"]["total"] == sum(want.values())


def test_checkpoints_are_the_cosigned_heads_held_at_the_run(
        month: tuple[Month, list[Any], Path]) -> None:
    m, runs, _ = month
    last = runs[-1]
    for box, cp in last["checkpoints"].items():
        size = cp["size"]
        assert cp["head"] == m.chains[box].entries[size - 1].hash.hex()
        assert cp["cosigned_ms"] is not None
    assert last["checkpoints"][m.gap[0]]["size"] == m.day_end[m.gap[0]][m.gap[1] - 1]


def _readd(rows: list[list[Any]], run: Mapping[str, Any]) -> None:
    """Box rows add up to store rows, unflagged store rows to 汇总, 调整 to the adjustments."""
    head = list(HEADER)
    kind, store, ch, amount, flags = (head.index(k) for k in ("类型", "门店", "渠道", "金额(分)",
                                                               "标记"))
    sums: dict[tuple[str, str, str], int] = defaultdict(int)
    flagged = {ln["store"] for ln in run["lines"] if ln["flagged"]}
    for r in (["" if v is None else v for v in row] for row in rows):  # XLSX: empty is None
        sums[(r[kind], r[store], r[ch])] += int(r[amount])
        if r[kind] == "门店":
            assert bool(r[flags]) == (r[store] in flagged)
    for ln in run["lines"]:
        for c in METHODS:
            assert sums[("设备", ln["store"], c)] == sums[("门店", ln["store"], c)] \
                == ln["channels"][c]
    for c in METHODS:
        unflagged = sum(sums[("门店", ln["store"], c)] for ln in run["lines"]
                        if ln["store"] not in flagged)
        assert unflagged == sums[("汇总", "", c)] == run["consolidated"]["channels"][c]
        adj = sum(v for (k, _, cc), v in sums.items() if k == "调整" and cc == c)
        assert adj == run["adjustments_total"]["channels"][c]


def test_csv_and_xlsx_exports_re_add_to_the_run_totals(
        month: tuple[Month, list[Any], Path]) -> None:
    m, runs, _ = month
    for n in (m.missing_close[1], m.late[1] + 1, DAYS - 1):
        run = runs[n]
        text = to_csv(run).decode("utf-8")
        assert text.startswith("\ufeff")
        parsed = list(csv.reader(io.StringIO(text[1:])))
        assert parsed[0] == list(HEADER)
        _readd(parsed[1:], run)
        sheet = load_workbook(io.BytesIO(to_xlsx(run)), read_only=True)["清算"]
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[0] == list(HEADER)
        assert all(isinstance(r[7], int) for r in values[1:])
        _readd(values[1:], run)
        assert "重庆" in text and "现金(应存银行)" in text
