"""Perpetual totals: NF525-style net and absolute, per method, counts; zero entries omitted."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync.journal.schema import METHODS
from sync.journal.totals import Totals, apply, difference, first_difference, signed_amount


def _sale(total: int, method: str) -> dict[str, object]:
    return {"total": total, "payments": [{"method": method, "amount": total}] if total else []}


def test_sales_refunds_voids_and_payments() -> None:
    t = apply(Totals(), "genesis", {})
    t = apply(t, "sale", _sale(59200, "wechat"))
    t = apply(t, "refund", _sale(3600, "wechat"))
    t = apply(t, "void", _sale(1000, "cash"))
    t = apply(t, "payment", {"method": "card", "amount": 50000})
    t = apply(t, "audit", {})
    assert t == Totals(59200 - 3600 - 1000, 59200 + 3600 + 1000,
                       {"wechat": 55600, "cash": -1000, "card": 50000},
                       {"genesis": 1, "sale": 1, "refund": 1, "void": 1, "payment": 1,
                        "audit": 1})


def test_a_method_back_to_zero_disappears() -> None:
    t = apply(apply(Totals(), "sale", _sale(3600, "cash")), "refund", _sale(3600, "cash"))
    assert t.methods == {}
    assert t.to_json() == {"absolute": 7200, "counts": {"refund": 1, "sale": 1}, "methods": {},
                           "net": 0}


def test_first_difference_names_the_component() -> None:
    t = apply(Totals(), "sale", _sale(850, "cash"))
    assert first_difference(t, t.to_json()) is None
    found = t.to_json() | {"methods": {"cash": 851}}
    assert first_difference(t, found) == "totals.methods.cash: expected 850, found 851"
    assert "totals.net" in str(first_difference(t, t.to_json() | {"net": 1}))


def test_signed_amount_is_lenient() -> None:
    assert signed_amount("sale", {"total": 5}) == 5
    assert signed_amount("refund", {"total": 5}) == -5
    assert signed_amount("payment", {"amount": 7}) == 7
    assert signed_amount("sale", {"total": "5"}) == 0
    assert signed_amount("audit", {"total": 5}) == 0
    assert signed_amount("sale", None) == 0


ops = st.lists(st.tuples(st.sampled_from(["sale", "refund", "void", "payment", "audit"]),
                         st.integers(1, 10**6), st.sampled_from(METHODS)), max_size=30)


@given(ops, st.integers(0, 30))
def test_net_and_absolute_follow_the_records(records: list[tuple[str, int, str]],
                                             cut: int) -> None:
    t = Totals()
    history = [t]
    for type_, amount, method in records:
        body = ({"method": method, "amount": amount} if type_ == "payment"
                else _sale(amount, method))
        t = apply(t, type_, body)
        history.append(t)
    sales = sum(a for k, a, _ in records if k == "sale")
    back = sum(a for k, a, _ in records if k in ("refund", "void"))
    assert (t.net, t.absolute) == (sales - back, sales + back)
    assert sum(t.counts.values()) == len(records)
    assert all(v != 0 for v in (*t.methods.values(), *t.counts.values()))
    before = history[min(cut, len(records))]
    suffix = records[min(cut, len(records)):]
    assert apply_all(before, suffix) == t
    assert difference(t, before) == apply_all(Totals(), suffix)


def apply_all(t: Totals, records: list[tuple[str, int, str]]) -> Totals:
    for type_, amount, method in records:
        t = apply(t, type_, {"method": method, "amount": amount} if type_ == "payment"
                  else _sale(amount, method))
    return t
