"""Scanned credentials: recognised among scans, a supervisor's held for one approval per scan."""

from __future__ import annotations

from agent.sales.approvals import SupervisorSecret
from agent.sales.scanned import HOLD_MS, PIN_MAX, CredentialScans, Recognised
from tests.agent.sales.conftest import BADGE_HASH, PIN_HASH, fast_hash


def scans() -> CredentialScans:
    m1 = SupervisorSecret("M001", "刘强", PIN_HASH, BADGE_HASH)
    m2 = SupervisorSecret("M002", "王丽", None, fast_hash("工牌-王丽-0002"))
    return CredentialScans((m1, m2), (("W001", "BADGE-W001"), ("W002", "")))


def test_badges_pins_and_workers_are_recognised_product_codes_are_not() -> None:
    s = scans()
    assert s.active
    assert s.recognise(" BADGE-M001\r") == Recognised("supervisor", "M001")
    assert s.recognise("工牌-王丽-0002") == Recognised("supervisor", "M002")
    assert s.recognise("8642") == Recognised("supervisor", "M001")  # a PIN as a code
    assert s.recognise("BADGE-W001") == Recognised("worker", "W001")
    for code in ("6901234500017", "不锈钢合页 4寸", "", "BADGE-M002"):
        assert s.recognise(code) is None
        assert s.recognise(code) is None  # cached verdict, same answer
    # Long codes are not checked against PINs (a PIN is short and typed).
    long_pin = "8" * (PIN_MAX + 1)
    only_pin = CredentialScans((SupervisorSecret("M003", "", fast_hash(long_pin), None),))
    assert only_pin.recognise(long_pin) is None
    assert not CredentialScans(()).active


def test_a_held_supervisor_badge_is_taken_once_within_the_hold() -> None:
    s = scans()
    s.hold("till", "BADGE-M001", Recognised("supervisor", "M001"), 1_000)
    s.hold("bench", "BADGE-W001", Recognised("worker", "W001"), 1_000)
    assert s.take("bench", 1_001) is None  # workers' badges are not held
    assert s.take("dock", 1_001) is None
    assert s.take("till", 1_000 + HOLD_MS) == "BADGE-M001"
    assert s.take("till", 1_000 + HOLD_MS) is None
    s.hold("till", "BADGE-M001", Recognised("supervisor", "M001"), 1_000)
    assert s.take("till", 1_001 + HOLD_MS) is None  # too late
