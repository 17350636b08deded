"""An action and its audit record commit together: both records, next to each other, or neither."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.journal.store import JournalStore, read_rows
from sync.journal import RecordError
from tests.agent.journal.gated_clock import Clock
from tests.agent.journal.test_store import a_sale, open_store, verify_db


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JournalStore]:
    clock = Clock()
    st = open_store(tmp_path, clock)
    yield st
    clock.gate.set()
    st.close()


def audit_of(order: str) -> Any:
    def make(seq: int) -> dict[str, Any]:
        return {"event": "sale", "actor": "anonymous", "ref_seq": seq,
                "detail": f"POST /v1/sales → 201; 销售 {order}"}
    return make


def records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw, _, _ in read_rows(tmp_path / "journal.db")]


async def test_concurrent_actions_sit_next_to_their_audit_records(
        store: JournalStore, tmp_path: Path) -> None:
    orders = [f"XS-20261129-{n:04d}" for n in range(30)]
    plain = [store.append("audit", {"event": "api.post", "actor": "anonymous",
                                    "detail": f"其他请求 {n}"}) for n in range(30)]
    done = await asyncio.gather(*(store.append_audited("sale", a_sale(o), audit_of(o))
                                  for o in orders), *plain)
    recs = records(tmp_path)
    for appended in done[:30]:
        audit = recs[appended.seq + 1]
        assert audit["type"] == "audit" and audit["body"]["ref_seq"] == appended.seq
        assert recs[appended.seq]["body"]["order"] in audit["body"]["detail"]
    assert verify_db(tmp_path / "journal.db") == ("valid", 91)


async def test_a_refused_audit_record_takes_its_action_back_out(
        store: JournalStore, tmp_path: Path) -> None:
    head = store.head
    batch = [store.append_audited("sale", a_sale("XS-20261129-0001"),
                                  lambda seq: {"event": "sale", "actor": "有 空格",
                                               "ref_seq": seq, "detail": "x"}),
             store.append("sale", a_sale("XS-20261129-0002"))]
    refused, kept = await asyncio.gather(*batch, return_exceptions=True)
    assert isinstance(refused, RecordError) and refused.field == "body.actor"
    assert not isinstance(kept, BaseException)
    recs = records(tmp_path)
    assert [r["type"] for r in recs] == ["genesis", "sale"]
    assert recs[1]["body"]["order"] == "XS-20261129-0002" and kept.seq == 1
    assert store.head.size == head.size + 1
    assert verify_db(tmp_path / "journal.db") == ("valid", 2)


async def test_a_day_close_commits_with_its_audit_record(store: JournalStore,
                                                          tmp_path: Path) -> None:
    await store.append("sale", a_sale())
    closed, cp = await store.day_close("2026-11-29", audit_of("日结"), cashier="C001")
    recs = records(tmp_path)
    assert recs[closed.seq]["type"] == "day_close"
    assert recs[closed.seq + 1]["type"] == "audit"
    assert recs[closed.seq + 1]["body"]["ref_seq"] == closed.seq
    assert cp.checkpoint.size == closed.seq + 1  # the checkpoint ends at the close itself
