"""The pure clearing core: flags and their days, lines, adjustments, deposits (records as the
verifier passes them on; a forged day close shows the 不一致 path no real chain can reach)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hq.clearing.clear import (
    BoxInput,
    Checkpoint,
    LineSpec,
    box_day,
    clear,
    lines_for,
    match_deposits,
)
from hq.clearing.ledger import CHANNELS, BoxLedger
from tests.hq.clearing.month import china_ms, day_of

CP = Checkpoint(0, "", None)


def sale(seq: int, n: int, hour: float, *pay: tuple[str, int]) -> dict[str, Any]:
    total = sum(a for _, a in pay)
    return {"seq": seq, "type": "sale", "time": china_ms(n, hour),
            "body": {"order": f"XS-{seq}", "total": total,
                     "lines": [{"sku": "JC-1", "name": "不锈钢合页", "qty": 1,
                                "unit_price": total, "amount": total}],
                     "payments": [{"method": m, "amount": a} for m, a in pay]}}


def close(seq: int, n: int, from_seq: int, methods: dict[str, int], net: int,
          counts: dict[str, int], z: int = 1) -> dict[str, Any]:
    return {"seq": seq, "type": "day_close", "time": china_ms(n, 21),
            "body": {"day": day_of(n), "z": z, "from_seq": from_seq, "to_seq": seq - 1,
                     "period": {"net": net, "absolute": net, "methods": methods,
                                "counts": counts}}}


def box_of(box: str, records: list[dict[str, Any]], **kw: Any) -> BoxInput:
    ledger = BoxLedger(box)
    for r in [{"seq": 0, "type": "genesis", "time": china_ms(0, 7), "body": {}}, *records]:
        ledger.feed(r)
    book = ledger.book()
    return BoxInput(book, Checkpoint(book.size, "ab" * 32, 1), **kw)


def codes(b: BoxInput, n: int) -> list[str]:
    return [f["code"] for f in box_day(b, day_of(n))["flags"]]


def test_a_close_that_disagrees_with_hq_is_flagged_mismatch_naming_the_field() -> None:
    b = box_of("SH-01-B1", [sale(1, 0, 10, ("cash", 1000)),
                            close(2, 0, 1, {"cash": 900}, 900, {"sale": 1})])
    got = box_day(b, day_of(0))
    assert [f["code"] for f in got["flags"]] == ["mismatch", "mismatch", "mismatch"]
    assert "period.methods.cash HQ 计 1000，日结签名为 900" in got["flags"][-1]["reason"]
    assert got["flags"][0]["name"] == "不一致"
    assert got["channels"]["cash"] == 1000  # HQ's own sum stays the figure


def test_money_without_a_close_is_flagged_not_closed_on_its_day_only() -> None:
    b = box_of("SH-01-B1", [sale(1, 0, 10, ("wechat", 500)),
                            close(2, 0, 1, {"wechat": 500}, 500, {"sale": 1}),
                            sale(3, 1, 10, ("alipay", 700))])
    assert codes(b, 0) == []
    assert codes(b, 1) == ["not_closed"]
    day1 = box_day(b, day_of(1))
    assert day1["unclosed"]["alipay"] == 700 and day1["channels"]["alipay"] == 0
    assert "未日结：1 笔收款记录（seq 3–3）" in day1["flags"][0]["reason"]


def test_a_healed_fork_flags_the_day_of_the_close_past_it_an_open_gap_every_later_day(
        ) -> None:
    recs = [sale(1, 0, 10, ("cash", 100)), close(2, 0, 1, {"cash": 100}, 100, {"sale": 1}),
            sale(3, 1, 10, ("cash", 100)), close(4, 1, 3, {"cash": 100}, 100, {"sale": 1}, 2)]
    healed = box_of("SH-01-B1", recs, alarms=(("fork", 3),))
    assert [codes(healed, n) for n in range(3)] == [[], ["fork"], []]
    stuck = box_of("SH-01-B1", recs, alarms=(("gap", 5), ("gap", 6), ("gap", 5)))
    assert [codes(stuck, n) for n in range(4)] == [[], [], ["gap"], ["gap"]]
    assert "seq 5、6 处" in box_day(stuck, day_of(3))["flags"][0]["reason"]
    assert "缺失" in box_day(stuck, day_of(2))["flags"][0]["reason"]


def test_a_box_behind_what_it_reported_is_flagged_from_its_last_held_day() -> None:
    recs = [sale(1, 0, 10, ("card", 100)), close(2, 0, 1, {"card": 100}, 100, {"sale": 1})]
    b = box_of("SH-01-B1", recs, reported_size=9)
    assert [codes(b, n) for n in range(3)] == [["behind"], ["behind"], ["behind"]]
    assert "盒子报告日志 9 条，HQ 仅有 3 条" in box_day(b, day_of(1))["flags"][0]["reason"]
    assert codes(box_of("SH-01-B1", recs, reported_size=3), 1) == []


def test_a_box_in_no_store_is_its_own_line_when_it_has_something() -> None:
    specs = lines_for([("SH-01", "上海一店", "华东", ("SH-01-B1",))], ["SH-01-B1", "WH-9"])
    assert [(s.id, s.store) for s in specs] == [("SH-01", True), ("WH-9", False)]
    busy = box_of("WH-9", [sale(1, 0, 10, ("member", 300)),
                           close(2, 0, 1, {"member": 300}, 300, {"sale": 1})])
    quiet = box_of("SH-01-B1", [])
    got = clear(day_of(0), specs, {"WH-9": busy, "SH-01-B1": quiet}, {}, frozenset())
    assert [(ln["store"], ln["kind"], ln["total"]) for ln in got["lines"]] == [
        ("SH-01", "store", 0), ("WH-9", "box", 300)]
    assert got["consolidated"]["channels"]["member"] == 300
    assert [ln["store"] for ln in clear(day_of(1), specs, {"WH-9": busy}, {},
                                        frozenset())["lines"]] == ["SH-01"]


def test_deposits_match_cash_as_over_short_or_even() -> None:
    result = {"lines": [{"store": s, "channels": {"cash": 1000}} for s in ("A", "B", "C")]}
    deps = [{"store": "A", "amount": 1200}, {"store": "B", "amount": 600},
            {"store": "B", "amount": 300}, {"store": "C", "amount": 1000}]
    got = {m["store"]: (m["diff"], m["status"]) for m in match_deposits(result, deps)}
    assert got == {"A": (200, "长款"), "B": (-100, "短款"), "C": (0, "相符")}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from(CHANNELS),
                          st.integers(1, 100_000), st.booleans()), min_size=1, max_size=30))
def test_every_money_record_lands_on_exactly_one_day(
        plan: list[tuple[int, str, int, bool]]) -> None:
    """Sales on days 0–4 (sorted), each day closed or not: closed plus unclosed figures over
    all days add up to every sale exactly once."""
    recs: list[dict[str, Any]] = []
    seq, start, z = 1, 1, 1
    period: dict[str, int] = {}
    plan = sorted(plan, key=lambda p: p[0])
    for i, (n, ch, amount, closes) in enumerate(plan):
        recs.append(sale(seq, n, 10 + i / 10, (ch, amount)))
        period[ch] = period.get(ch, 0) + amount
        seq += 1
        last_of_day = i + 1 == len(plan) or plan[i + 1][0] != n
        if closes and last_of_day:
            net = sum(period.values())
            recs.append(close(seq, n, start, period, net, {"sale": seq - start}, z))
            seq, start, z, period = seq + 1, seq + 1, z + 1, {}
    b = box_of("SH-01-B1", recs)
    total = 0
    for n in range(5):
        got = box_day(b, day_of(n))
        total += sum(got["channels"].values()) + sum(got["unclosed"].values())
        assert not [f for f in got["flags"] if f["code"] == "mismatch"]
    assert total == sum(p[2] for p in plan)


def test_lines_keep_their_order_and_empty_stores_show_zero() -> None:
    specs = [LineSpec("SH-02", "上海二店", "华东", ("SH-02-B1",)),
             LineSpec("SH-01", "上海一店", "华东", ())]
    got = clear(day_of(0), specs, {}, {}, frozenset())
    assert [ln["store"] for ln in got["lines"]] == ["SH-02", "SH-01"]
    assert got["consolidated"] == {"channels": dict.fromkeys(CHANNELS, 0), "total": 0,
                                   "stores": ["SH-02", "SH-01"]}
    assert got["adjustments"] == [] and CP.to_json()["size"] == 0
