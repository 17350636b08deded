"""The clearing export's encoding: exact yuan text, the CSV's bytes, checkpoint references."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hq.clearing.export import checkpoint_ref, to_csv, yuan

CHANNELS = ("cash", "wechat", "alipay", "card", "member", "credit")


def run(**channels: int) -> dict[str, Any]:
    """An empty run whose consolidated total has these channel figures."""
    return {"day": "2026-11-29", "checkpoints": {}, "lines": [], "adjustments": [],
            "consolidated": {"channels": {c: channels.get(c, 0) for c in CHANNELS},
                             "total": sum(channels.values())}}


@given(st.integers(-10**15, 10**15))
def test_yuan_is_the_exact_amount_with_two_decimals(fen: int) -> None:
    text = yuan(fen)
    assert Decimal(text) * 100 == fen and text.split(".")[1].isdigit()
    assert len(text.split(".")[1]) == 2


def test_the_csv_starts_with_a_bom_and_the_chinese_header() -> None:
    body = to_csv(run(cash=-5))
    lines = body.split(b"\r\n")
    assert lines[0] == ("\ufeff类型,清算日,门店,门店名称,设备,渠道,渠道名称,金额(分),金额(元),标记,"
                        "检查点,调整记录").encode()
    assert lines[1] == "汇总,2026-11-29,,,,cash,现金(应存银行),-5,-0.05,,,".encode()
    assert len(lines) == 8 and lines[-1] == b""


def test_checkpoint_refs_name_box_size_head_and_cosignature_time() -> None:
    cp = {"size": 16, "head": "ab" * 32, "cosigned_ms": 1_795_914_000_000}
    assert checkpoint_ref("CQ-JB-001-B1", cp) == f"CQ-JB-001-B1@16/{'ab' * 32}/2026-11-29 09:00:00"
    assert checkpoint_ref("CQ-JB-001-B1", cp, full=False) == "CQ-JB-001-B1@16/abababababababab"
