"""The upload window and the durable outbox: only an application-level ack moves them."""

from __future__ import annotations

import threading
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from sync.protocol import outbox as ob
from sync.protocol.outbox import DurableOutbox


def test_window_sends_in_batches_within_the_inflight_limit() -> None:
    w = ob.start(0, 1200, 0, batch=500, max_inflight=1000, timeout_ms=100)
    w, r1 = ob.next_range(w, 0)
    w, r2 = ob.next_range(w, 0)
    w, r3 = ob.next_range(w, 0)
    assert (r1, r2, r3) == ((0, 500), (500, 1000), None)
    w = ob.acknowledged(w, 500, 10)
    w, r4 = ob.next_range(w, 10)
    assert r4 == (1000, 1200) and w.acked == 500 and w.pending == 700


def test_window_resends_from_the_last_ack_after_a_timeout_or_a_drop() -> None:
    w = ob.start(0, 300, 0, batch=100, timeout_ms=1000)
    for _ in range(3):
        w, _r = ob.next_range(w, 0)
    w = ob.acknowledged(w, 100, 500)
    w, r = ob.next_range(w, 1499)
    assert r is None
    w, r = ob.next_range(w, 1500)
    assert r == (100, 200)
    w = ob.disconnected(w)
    w, r = ob.next_range(w, 1600)
    assert r == (100, 200)


def test_window_follows_hq_resend_and_ignores_stale_acks() -> None:
    w = ob.start(100, 300, 0, batch=100)
    w, r = ob.next_range(w, 0)
    assert r == (100, 200)
    w = ob.resend_from(w, 40, 1)  # HQ holds only 40
    w, r = ob.next_range(w, 2)
    assert r == (40, 140) and w.acked == 100
    w = ob.acknowledged(w, 140, 3)
    w = ob.acknowledged(w, 120, 4)  # a duplicate, older ack
    assert w.resume == 140


@given(st.lists(st.tuples(st.sampled_from(["send", "ack", "drop", "grow", "tick"]),
                          st.integers(0, 50)), max_size=60))
def test_window_invariants(ops: list[tuple[str, int]]) -> None:
    w = ob.start(0, 10, 0, batch=7, max_inflight=20, timeout_ms=5)
    now = 0
    delivered: set[int] = set()
    for op, n in ops:
        now += 1
        if op == "send":
            w, r = ob.next_range(w, now)
            if r is not None:
                assert r[0] < r[1] <= w.head and r[1] - r[0] <= 7
                delivered.update(range(*r))
        elif op == "ack":
            upto = min(n, w.sent)
            if all(i in delivered for i in range(upto)):
                w = ob.acknowledged(w, upto, now)
        elif op == "drop":
            w = ob.disconnected(w)
        elif op == "grow":
            w = ob.grow(w, w.head + n)
        else:
            now += n
        assert w.acked <= w.head and w.resume <= w.sent <= w.head
        assert w.sent - w.resume <= 20


def test_durable_outbox_keeps_events_until_acked(tmp_path: Path) -> None:
    db = tmp_path / "outbox.db"
    box = DurableOutbox(db)
    stream = box.stream
    seqs = box.append([{"type": "intake", "id": "订单-1"}, {"type": "job", "id": "订单-1"}],
                      [("cursor", "job_events", 7, None)])
    assert seqs == [1, 2]
    box.close()
    again = DurableOutbox(db)  # a restart
    assert again.stream == stream
    assert again.events(1, 10) == [{"type": "intake", "id": "订单-1", "eseq": 1},
                                   {"type": "job", "id": "订单-1", "eseq": 2}]
    assert again.number("cursor", "job_events") == 7
    assert again.ack(1) == 1 and again.acked() == 1
    assert again.ack(99) == 2  # never beyond what exists
    assert again.events(1, 10) == []
    assert again.append([{"type": "job"}]) == [3]  # numbering continues after deletion
    assert again.head() == 3


def test_durable_outbox_appends_atomically_from_threads(tmp_path: Path) -> None:
    box = DurableOutbox(tmp_path / "o.db")

    def work(k: int) -> None:
        for i in range(50):
            box.append([{"k": k, "i": i}], [("n", str(k), i, None)])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    evs = box.events(1, 1000)
    assert [e["eseq"] for e in evs] == list(range(1, 201))
    assert box.numbers("n") == {"0": 49, "1": 49, "2": 49, "3": 49}
    box.put([("t", "cos", None, "文本")])
    assert box.text("t", "cos") == "文本"
    box.drop("n", ["0", "1"])
    assert set(box.numbers("n")) == {"2", "3"}


def test_an_overtaken_lower_answer_resends_only_what_hq_lacks(tmp_path: Path) -> None:
    # Two HQ workers: B stored and acked events 1-4; A, having read the stream's position
    # before B's commit, answers the next batch "I hold 0". The deleted events 1-4 must not be
    # asked for again (the window would wait for them forever); 5-8 are sent again.
    box = DurableOutbox(tmp_path / "uplink.db")
    box.append([{"type": "intake", "id": f"j{i}"} for i in range(8)])
    w = ob.start(0, box.head(), 0, batch=4, timeout_ms=1000)
    w, first = ob.next_range(w, 0)
    w, second = ob.next_range(w, 0)
    assert (first, second) == ((0, 4), (4, 8))
    w = ob.acknowledged(w, box.ack(4), 10)
    w = ob.held_only(w, 0, 20)
    w, again = ob.next_range(w, 20)
    assert again == (4, 8) and len(box.events(again[0] + 1, again[1])) == 4
    box.close()


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))
def test_held_only_never_rewinds_below_what_was_acknowledged(acked: int, extra: int,
                                                             told: int) -> None:
    w = ob.acknowledged(ob.start(0, acked + extra, 0), acked, 1)
    after = ob.held_only(w, told, 2)
    assert after.resume == after.sent == max(told, acked) and after.acked >= w.acked


def test_the_stream_id_is_answered_while_another_thread_commits(tmp_path: Path) -> None:
    # The uplink asks it on the event loop: it must not wait for a commit (an fsync) elsewhere.
    box = DurableOutbox(tmp_path / "o.db")
    stream = box.stream
    got: list[str] = []
    with box._lock:  # as while another thread's transaction runs
        asker = threading.Thread(target=lambda: got.append(box.stream))
        asker.start()
        asker.join(5)
        answered = list(got)
    asker.join()
    box.close()
    assert answered == [stream]
    assert DurableOutbox(tmp_path / "o.db").stream == stream
