"""Flow-card QR payload: test vectors, round trips and rejection of damaged or foreign codes."""

from __future__ import annotations

import base64
import contextlib
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.label.flowcard import FlowCard, encode_flow_card, flow_card_check, parse_flow_card

VECTORS = [  # also in docs/labels.md
    (("SC-20261129-001", 3, 13, 80), "SLFC1:SC-20261129-001:3/13:80:NF7NAG4D"),
    (("SC-20261129-001", 13, 13, 40), "SLFC1:SC-20261129-001:13/13:40:A3IUPGIF"),
    (("SC-20261129-002", 1, 12, 200), "SLFC1:SC-20261129-002:1/12:200:IF2SSCQJ"),
    (("A", 1, 1, 1), "SLFC1:A:1/1:1:AHISVVVA"),
]


@pytest.mark.parametrize(("fields", "payload"), VECTORS)
def test_vectors(fields: tuple[str, int, int, int], payload: str) -> None:
    assert encode_flow_card(*fields) == payload
    assert parse_flow_card(payload) == FlowCard(*fields)
    body = payload.rsplit(":", 1)[0]
    # The check as the spec states it, computed independently.
    expected = base64.b32encode(hashlib.sha256(body.encode()).digest()[:5]).decode()
    assert payload.endswith(":" + expected) and flow_card_check(body) == expected


def test_payload_uses_only_qr_alphanumeric_characters() -> None:
    alnum = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    for _, payload in VECTORS:
        assert set(payload) <= alnum


def test_scanner_whitespace_and_caps_lock_are_tolerated() -> None:
    assert parse_flow_card(b"slfc1:sc-20261129-001:3/13:80:nf7nag4d\r\n") == \
        FlowCard("SC-20261129-001", 3, 13, 80)


@pytest.mark.parametrize(("payload", "field", "reason"), [
    ("SLFC1:SC-20261129-001:3/13:81:NF7NAG4D", "payload.check", "mistyped"),
    ("SLFC1:SC-20261129-001:3/13:80:NF7NAG4E", "payload.check", "mistyped"),
    ("SLFC1:SC-20261129-011:3/13:80:NF7NAG4D", "payload.check", "mistyped"),
    ("SLFC2:SC-20261129-001:3/13:80:NF7NAG4D", "payload", "unsupported flow card version"),
    ("https://example.com/item/42", "payload", "not a flow card code"),
    ("6901234500011", "payload", "not a flow card code"),
    ("SLFC1:SC-20261129-001:3/13:80", "payload", "5 fields"),
    ("SLFC1:SC 001:3/13:80:NF7NAG4D", "payload.task", "not a task number"),
    ("SLFC1:SC-20261129-001:3-13:80:NF7NAG4D", "payload.split", "n/N"),
    ("SLFC1:SC-20261129-001:03/13:80:NF7NAG4D", "payload.split", "leading zeros"),
    ("SLFC1:SC-20261129-001:3/13:0:NF7NAG4D", "payload.qty", "without leading zeros"),
    ("SLFC1:SC-20261129-001:3/13:8O:NF7NAG4D", "payload.qty", "number"),
    ("SLFC1:" + "X" * 90, "payload", "longer than"),
])
def test_damaged_or_foreign_codes_are_rejected_with_a_reason(payload: str, field: str,
                                                             reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as e:
        parse_flow_card(payload)
    assert e.value.field == field


def test_split_beyond_total_is_rejected_even_with_a_valid_check() -> None:
    body = "SLFC1:T1:14/13:5"
    with pytest.raises(InvalidInput, match="beyond") as e:
        parse_flow_card(f"{body}:{flow_card_check(body)}")
    assert e.value.field == "payload.split"


def test_non_ascii_bytes_are_rejected() -> None:
    with pytest.raises(InvalidInput, match="not ASCII"):
        parse_flow_card("流转卡".encode())


@pytest.mark.parametrize(("args", "field"), [
    (("sc-1", 1, 1, 1), "flow_card.task"), (("SC:1", 1, 1, 1), "flow_card.task"),
    (("", 1, 1, 1), "flow_card.task"), (("SC-1", 0, 1, 1), "flow_card.split"),
    (("SC-1", 2, 1, 1), "flow_card.split"), (("SC-1", 1, 10000, 1), "flow_card.of"),
    (("SC-1", 1, 1, 0), "flow_card.qty"), (("SC-1", 1, 1, True), "flow_card.qty"),
])
def test_encode_refuses_what_the_payload_cannot_carry(args: tuple[str, int, int, int],
                                                       field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        encode_flow_card(*args)
    assert e.value.field == field


tasks = st.from_regex(r"[0-9A-Z][0-9A-Z.\-]{0,31}", fullmatch=True)


@given(tasks, st.integers(1, 9999), st.integers(0, 9998), st.integers(1, 9_999_999))
def test_round_trip(task: str, split: int, extra: int, qty: int) -> None:
    of = min(split + extra, 9999)
    card = FlowCard(task, split, of, qty)
    assert parse_flow_card(card.payload()) == card


@given(tasks, st.integers(1, 99), st.integers(1, 99_999), st.data())
def test_any_single_character_change_is_rejected(task: str, split: int, qty: int,
                                                  data: st.DataObject) -> None:
    payload = encode_flow_card(task, split, split, qty)
    i = data.draw(st.integers(0, len(payload) - 1))
    ch = data.draw(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-./:"))
    changed = payload[:i] + ch + payload[i + 1:]
    if changed != payload:
        with pytest.raises(InvalidInput):
            parse_flow_card(changed)


@given(st.one_of(st.text(max_size=100), st.binary(max_size=100)))
def test_random_input_raises_only_invalid_input(data: str | bytes) -> None:
    with contextlib.suppress(InvalidInput):
        parse_flow_card(data)
