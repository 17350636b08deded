"""Issue 11 #2 against a running daemon and HQ: a day close of a far-future day must neither be
accepted nor, when an older version accepted one, block every later close; HQ must not list it
under that day."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import aiohttp
import pytest

from agent.config import load_config
from agent.journal.store import JournalStore
from agent.sales.service import genesis_fields
from sync.protocol.messages import JournalAck
from sync.protocol.topics import Down, Up
from tests.e2e.broker import broker
from tests.e2e.journal_box import SUPERVISOR_PIN, JournalBox
from tests.e2e.procs import Proc
from tests.hq.journals import BOX, T0, batch, chain, sale_body
from tests.hq.test_service import FakeBox, box, get, hq, http

__all__ = ["box", "broker", "hq", "http"]
pytestmark = pytest.mark.timeout(180)
REOPEN = {"reason": "误结了 9999-12-31", "clerk": "C001",
          "approval": {"supervisor": "M001", "pin": SUPERVISOR_PIN}}


def sale(n: int) -> dict[str, object]:
    return {"order": f"XS-SEC-{n:04d}", "till": "T1", "clerk": "C001",
            "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": 2, "unit_price": 850}],
            "payments": [{"method": "cash", "amount": 1700}]}


def closes(b: JournalBox) -> list[str]:
    return [r["body"]["day"] for r in b.journal_records() if r["type"] == "day_close"]


def test_a_day_after_tomorrow_is_refused_naming_day(journal_box: JournalBox) -> None:
    b = journal_box.start()
    today = date.today()
    assert b.api("POST", "/v1/sales", sale(1))[0] == 201
    for far in ("9999-12-31", (today + timedelta(days=2)).isoformat()):
        status, answer = b.api("POST", "/v1/day-close", {"day": far, "print": False})
        assert (status, answer["error"]["field"]) == (400, "day"), answer
    assert closes(b) == []
    status, answer = b.api("POST", "/v1/day-close", {"print": False})
    assert (status, answer["day"]) == (201, today.isoformat()), answer
    # Tomorrow is inside the tolerance (a till closing just after midnight).
    status, answer = b.api("POST", "/v1/day-close",
                           {"day": (today + timedelta(days=1)).isoformat(), "print": False})
    assert status == 201, answer
    assert closes(b) == [today.isoformat(), (today + timedelta(days=1)).isoformat()]


def test_a_future_close_already_in_the_journal_is_undone_by_a_reopen(
        journal_box: JournalBox) -> None:
    b = journal_box
    config = load_config(b.config)

    async def older_version() -> None:
        # What an older box accepted: a sale, then a close of 9999-12-31.
        store = await asyncio.to_thread(
            JournalStore.open, b.state / "journal.db", b.state / "keys" / "box.key",
            genesis=genesis_fields(config.box))
        try:
            await store.append("sale", sale_body(1))
            await store.day_close("9999-12-31", till="T1")
        finally:
            await asyncio.to_thread(store.close)

    b.state.mkdir(parents=True)
    asyncio.run(older_version())
    b.start()
    today = date.today().isoformat()
    status, answer = b.api("POST", "/v1/day-close", {"print": False})
    assert (status, answer["error"]["field"]) == (409, "day"), answer
    status, answer = b.api("POST", "/v1/day-reopen", REOPEN)
    assert (status, answer["day"]) == (201, "9999-12-31"), answer
    assert b.api("POST", "/v1/sales", sale(2))[0] == 201
    status, answer = b.api("POST", "/v1/day-close", {"print": False})
    assert (status, answer["day"], answer["z"]) == (201, today, 2), answer
    # The way back does not reopen more than it should: today is closed now.
    status, answer = b.api("POST", "/v1/day-close", {"print": False})
    assert (status, answer["error"]["field"]) == (409, "day"), answer
    assert closes(b) == ["9999-12-31", today]


async def test_hq_does_not_list_a_nonsense_day_and_flags_it(
        hq: Proc, box: FakeBox, http: aiohttp.ClientSession) -> None:
    c = chain(6)
    c.day_close("9999-12-31", T0 + 10_000, till="T1")
    c.append("sale", sale_body(7), T0 + 11_000)
    c.day_close("2026-11-30", T0 + 12_000, till="T1")  # the China date of T0 (+1 tolerated)
    await box.send(Up.JOURNAL, batch(c, 0, c.head.size).to_json())
    ack = JournalAck.from_json(await box.next(Down.JOURNAL_ACK))
    assert (ack.status, ack.size) == ("ok", c.head.size)
    url = hq.url
    every = (await get(http, f"{url}/v1/settlements?box={BOX}"))["settlements"]
    assert "9999-12-31" not in [s["day"] for s in every]
    assert (await get(http, f"{url}/v1/settlements?day=9999-12-31"))["settlements"] == []
    [flagged] = [s for s in every if s["z"] == 1]
    assert flagged["day"] == "2026-11-29"  # the China date of the close record's time
    assert flagged["claimed_day"] == "9999-12-31"
    assert "2026-11-29" in flagged["day_problem"]
    [fine] = [s for s in every if s["z"] == 2]
    assert (fine["day"], fine["claimed_day"], fine["day_problem"]) == ("2026-11-30", None, None)
    body = await get(http, f"{url}/v1/settlements")
    assert "9999-12-31" not in body.get("days", [])
