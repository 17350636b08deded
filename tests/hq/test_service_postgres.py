"""The HQ service on PostgreSQL: a real HQ process on a real mosquitto, its store a database of
the session's PostgreSQL cluster, passing the service tests that do not depend on the backend,
and resuming from the stored chain head after a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sync.protocol.messages import JournalAck
from sync.protocol.topics import Down, Up
from tests.e2e.broker import Broker, broker
from tests.e2e.procs import Proc, hq_process
from tests.hq.journals import BOX, batch, chain, hq_toml
from tests.hq.test_service import (
    FakeBox,
    box,
    http,
    test_a_tampered_journal_is_refused_and_the_alarm_carries_both_versions,
    test_cloud_print_dispatch_once_and_state_history_from_the_box,
    test_commands_are_signed_with_hqs_pinned_key,
    test_journal_upload_gets_a_countersigned_ack_and_hq_keeps_the_copy,
)

__all__ = [
    "box",
    "broker",
    "http",
    "test_a_tampered_journal_is_refused_and_the_alarm_carries_both_versions",
    "test_cloud_print_dispatch_once_and_state_history_from_the_box",
    "test_commands_are_signed_with_hqs_pinned_key",
    "test_journal_upload_gets_a_countersigned_ack_and_hq_keeps_the_copy",
]


@pytest.fixture
def hq(tmp_path: Path, broker: Broker, pg_url: str) -> Iterator[Proc]:
    """HQ on PostgreSQL (the imported tests take this fixture, not test_service's)."""
    p = hq_process(hq_toml(tmp_path, broker.port, db=pg_url), tmp_path / "hq.log").start()
    yield p
    p.stop()


async def upload_until_acked(box: FakeBox, payload: bytes) -> JournalAck:
    """Send as a box does until acknowledged: a restarted HQ's shared subscription may not be
    in place yet when it says it is ready, and nobody receives what is published before."""
    for _ in range(30):
        await box.send(Up.JOURNAL, payload)
        try:
            return JournalAck.from_json(await box.next(Down.JOURNAL_ACK, wait_s=2.0))
        except TimeoutError:
            continue
    raise AssertionError("never acknowledged")


async def test_a_restarted_hq_continues_from_the_head_stored_in_postgresql(
        pg_url: str, hq: Proc, box: FakeBox) -> None:
    c = chain(40)
    await box.send(Up.JOURNAL, batch(c, 0, 20).to_json())
    assert JournalAck.from_json(await box.next(Down.JOURNAL_ACK)).size == 20
    hq.stop()
    hq.start()
    ack = await upload_until_acked(box, batch(c, 20, 41).to_json())
    assert (ack.status, ack.size) == ("ok", 41)
    await box.send(Up.JOURNAL, batch(c, 0, 20).to_json())  # a late duplicate: re-acked
    ack = JournalAck.from_json(await box.next(Down.JOURNAL_ACK))
    assert (ack.status, ack.size) == ("ok", 41)
    with psycopg.connect(pg_url) as db:
        assert db.execute("SELECT COUNT(*), MAX(seq) FROM journal WHERE box = %s",
                         (BOX,)).fetchone() == (41, 40)
