"""HQ's workshop figures from a signed workshop journal: progress per task and part, piece
counts per worker and day, corrected by undo records; fed incrementally from HQ's store."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from hq.store.sqlite import SqliteStore
from hq.workshop.book import CSV_HEADER, WorkshopBook, pieces_csv, pieces_xlsx
from hq.workshop.progress import Tally, WorkshopError
from sync.journal.chain import MemoryChain
from sync.journal.vectors import BASE, BOX1, MIN, build_workshop
from tests.hq.journals import BOX, batch, ingest_of

TASK = "SC-20261129-001"


def handover(part: int, of: int, step: int, name: str, worker: str, good: int, rate: int,
             *defects: tuple[str, int]) -> dict[str, Any]:
    body: dict[str, Any] = {"task": TASK, "batch": f"{TASK}#{part}/{of}", "step": step,
                            "step_name": name, "from_worker": worker, "to_worker": "-",
                            "qty": good, "piece_rate": rate}
    if defects:
        body["defects"] = [{"reason": r, "qty": q} for r, q in defects]
    return body


def shift() -> MemoryChain:
    """The workshop vector journal, then a day of handovers (one undone) on the next day."""
    c = build_workshop()
    t = BASE + 1440 * MIN
    c.append("handover", handover(1, 4, 20, "冲压", "W002", 78, 8), t)
    c.append("handover", handover(2, 4, 10, "下料", "W001", 79, 5, ("毛刺", 1)), t + MIN)
    c.append("handover", handover(2, 4, 20, "冲压", "W003", 79, 8), t + 2 * MIN)
    c.append("handover_undo", {"handover_seq": c.head.size - 1, "reason": "扫错工牌"}, t + 3 * MIN)
    c.append("handover", handover(2, 4, 20, "冲压", "W002", 77, 8, ("划伤", 2)), t + 4 * MIN)
    return c


def records(c: MemoryChain) -> list[dict[str, Any]]:
    return [e.record() for e in c.entries]


def test_progress_and_pieces_are_exact() -> None:
    tally = Tally("CQ-WS-001-B1")
    for r in records(shift()):
        tally.feed(r)
    (task,) = tally.progress("2026-12-06")
    assert (task["qty"], task["due"], task["finished"], task["late"]) == (250, "2026-12-05",
                                                                          0, True)
    assert [(s["step"], s["good"], s["defective"], s["defects"]) for s in task["steps"]] == [
        (10, 79, 1, {"毛刺": 1}), (20, 155, 2, {"划伤": 2}), (30, 0, 0, {}), (40, 0, 0, {})]
    # The vector's handover at step 10 on part 1 was undone there; parts 1 and 2 are at 冲压.
    assert [(p["part"], p["retired"], p["at_step"], p["next_step"]) for p in task["parts"]] == [
        (1, False, 20, 10), (2, False, 20, 30), (3, True, None, 10), (4, False, None, 10),
        (5, False, None, 10), (6, False, None, 10)]
    assert tally.progress("2026-12-05")[0]["late"] is False
    assert tally.pieces("2026-11-30") == [
        {"box": "CQ-WS-001-B1", "day": "2026-11-30", "worker": w, "task": TASK, "step": s,
         "step_name": n, "good": g, "defective": d, "piece_rate": r, "amount": g * r}
        for w, s, n, g, d, r in (("W001", 10, "下料", 79, 1, 5), ("W002", 20, "冲压", 155, 2, 8))]
    assert tally.pieces("2026-11-29") == []
    assert sum(r["amount"] for r in tally.pieces(None)) == 79 * 5 + 155 * 8
    csv = pieces_csv(tally.pieces(None))
    assert csv.startswith("\ufeff日期,门店设备,工号,任务号,工序,工序名称,合格数,不良数")
    assert "2026-11-30,CQ-WS-001-B1,W002,SC-20261129-001,20,冲压,155,2,8,1240\r\n" in csv


def test_records_out_of_order_are_refused() -> None:
    tally = Tally("b")
    rs = records(shift())
    tally.feed(rs[0])
    with pytest.raises(WorkshopError):
        tally.feed(rs[2])


def test_the_book_follows_a_real_store_as_batches_arrive(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "hq.db")
    ingest = ingest_of(store, BOX1, BASE + 10**8)
    c = shift()
    book = WorkshopBook(store, chunk=3)
    assert book.box(BOX) is None
    assert ingest.ingest(batch(c, 0, 6)).ack.status == "ok"
    early = book.box(BOX)
    assert early is not None and early.pieces(None)[0]["good"] == 78  # the vector's handover
    assert ingest.ingest(batch(c, 6, len(c.entries))).ack.status == "ok"
    later = book.box(BOX)
    assert later is not None and later.size == len(c.entries)
    expected = Tally(BOX)
    for r in records(c):
        expected.feed(r)
    assert later.pieces(None) == expected.pieces(None)
    assert later.progress("2026-12-06") == expected.progress("2026-12-06")
    assert [t.box for t in WorkshopBook(store).tallies([BOX, BOX, "CD-WH-003-B1"])] == [BOX]
    store.close()


def test_an_outsourced_container_is_at_its_supplier_until_it_comes_back() -> None:
    c = build_workshop()
    t = BASE + 1440 * MIN
    c.append("handover", handover(2, 4, 10, "下料", "W001", 80, 5), t)
    out = {**handover(2, 4, 20, "冲压", "-", 80, 0), "to_worker": "GYS-01",
           "supplier": "GYS-01", "outsourced": "out"}
    c.append("handover", out, t + MIN)
    tally = Tally(BOX)
    for r in records(c):
        tally.feed(r)
    part = tally.progress("2026-11-30")[0]["parts"][1]
    assert (part["part"], part["at_step"], part["next_step"], part["at_supplier"]) == (
        2, 10, 20, "GYS-01")
    back = {**handover(2, 4, 20, "冲压", "GYS-01", 80, 0), "supplier": "GYS-01",
            "outsourced": "back"}
    c.append("handover", back, t + 60 * MIN)
    tally.feed(records(c)[-1])
    (task,) = tally.progress("2026-11-30")
    part = task["parts"][1]
    assert (part["at_step"], part["next_step"], part["at_supplier"]) == (20, 30, None)
    assert task["steps"][1]["good"] == 80
    # Pieces are the workers' only: the supplier's step is not on the payroll.
    assert [(r["worker"], r["step"], r["good"]) for r in tally.pieces("2026-11-30")] == [
        ("W001", 10, 80)]


def test_an_outsourced_range_shows_at_its_supplier_and_completes_every_step_of_it() -> None:
    c = build_workshop()
    t = BASE + 1440 * MIN
    c.append("handover", handover(4, 4, 10, "下料", "W001", 10, 5), t)
    c.append("handover", handover(4, 4, 20, "冲压", "W002", 10, 8), t + MIN)
    out = {**handover(4, 4, 30, "焊接", "-", 10, 0), "to_worker": "GYS-01",
           "supplier": "GYS-01", "outsourced": "out", "through": 40}
    c.append("handover", out, t + 2 * MIN)
    tally = Tally("CQ-WS-001-B1")
    for r in records(c):
        tally.feed(r)
    part4 = tally.progress("2026-11-30")[0]["parts"][3]
    assert (part4["at_supplier"], part4["at_supplier_steps"], part4["next_step"]) == (
        "GYS-01", [30, 40], 30)
    back = {**handover(4, 4, 30, "焊接", "GYS-01", 9, 0, ("焊点不良", 1)),
            "supplier": "GYS-01", "outsourced": "back", "through": 40}
    c.append("handover", back, t + 3 * MIN)
    for r in records(c)[tally.size:]:
        tally.feed(r)
    (task,) = tally.progress("2026-11-30")
    assert [(s["step"], s["good"], s["defective"], s["containers"]) for s in task["steps"]] == [
        (10, 10, 0, 1), (20, 10, 0, 1), (30, 9, 0, 1), (40, 9, 1, 1)]
    assert task["finished"] == 9 and task["steps"][3]["defects"] == {"焊点不良": 1}
    part4 = task["parts"][3]
    assert (part4["at_supplier"], part4["at_step"], part4["finished"]) == (None, 40, True)
    # The supplier's handovers are no piece work.
    assert [(r["worker"], r["step"]) for r in tally.pieces(None)] == [("W001", 10), ("W002", 20)]
    # Undoing the receive-back puts the container at its supplier again.
    c.append("handover_undo", {"handover_seq": c.head.size - 1, "reason": "收错"}, t + 4 * MIN)
    for r in records(c)[tally.size:]:
        tally.feed(r)
    part4 = tally.progress("2026-11-30")[0]["parts"][3]
    assert (part4["at_supplier"], part4["at_step"], part4["finished"]) == ("GYS-01", 20, False)


def xlsx_rows(data: bytes) -> list[tuple[Any, ...]]:
    """The rows of the workbook's one sheet, as openpyxl reads them back."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert book.sheetnames == ["计件工资"]
    return [tuple(r) for r in book["计件工资"].iter_rows(values_only=True)]


def test_the_payroll_workbook_re_adds_to_the_csv_and_the_api() -> None:
    tally = Tally("CQ-WS-001-B1")
    for r in records(shift()):
        tally.feed(r)
    rows = tally.pieces(None)
    got = xlsx_rows(pieces_xlsx(rows))
    assert got[0] == CSV_HEADER
    from_csv = list(csv.reader(io.StringIO(pieces_csv(rows).removeprefix("\ufeff"))))[1:]
    assert [[str(v) for v in r] for r in got[1:]] == from_csv
    # Counts and amounts are numbers in the sheet: they add up to the API's figures.
    assert sum(r[9] for r in got[1:]) == sum(r["amount"] for r in rows) == 79 * 5 + 155 * 8
    assert sum(r[6] for r in got[1:]) == sum(r["good"] for r in rows)
    assert sum(r[7] for r in got[1:]) == sum(r["defective"] for r in rows) == 3
    assert xlsx_rows(pieces_xlsx([])) == [CSV_HEADER]


def test_a_container_that_skipped_an_optional_last_step_is_finished() -> None:
    c = build_workshop()
    t = BASE + 1440 * MIN
    route = [{"step": 10, "name": "下料", "piece_rate": 5},
             {"step": 20, "name": "去毛刺", "piece_rate": 3, "optional": "yes"},
             {"step": 30, "name": "焊接", "piece_rate": 12},
             {"step": 40, "name": "抛光", "piece_rate": 6, "optional": "yes"}]
    c.append("production_task", {"task": "SC-20261130-002", "product": "CP-8802",
                                 "product_name": "合页 组件", "qty": 100, "route": route}, t)
    c.append("split", {"task": "SC-20261130-002", "of": 2,
                       "parts": [{"part": 1, "qty": 60}, {"part": 2, "qty": 40}]}, t + MIN)

    def h(part: int, step: int, good: int) -> dict[str, Any]:
        return {"task": "SC-20261130-002", "batch": f"SC-20261130-002#{part}/2", "step": step,
                "from_worker": "W001", "to_worker": "-", "qty": good}

    for i, (part, step, good) in enumerate(((1, 10, 60), (1, 30, 59), (2, 10, 40),
                                            (2, 20, 40))):
        c.append("handover", h(part, step, good), t + (2 + i) * MIN)
    tally = Tally("CQ-WS-001-B1")
    for r in records(c):
        tally.feed(r)
    task = next(x for x in tally.progress("2026-11-30") if x["task"] == "SC-20261130-002")
    assert [(p["part"], p["at_step"], p["next_step"], p["finished"]) for p in task["parts"]] == [
        (1, 30, None, True), (2, 20, 30, False)]
    assert task["finished"] == 59
