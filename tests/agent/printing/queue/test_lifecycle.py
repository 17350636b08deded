"""The job state machine: allowed transitions, refusals, versions, copies and expiry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.printing.queue import lifecycle as lc
from agent.printing.queue.lifecycle import IllegalTransitionError, Job, JobState, Reason
from drivers.printer_state import PrinterState

T0 = 1_800_000_000_000


def queued(copies: int = 1, expires: int = T0 + 900_000) -> Job:
    return lc.admit("ord-20261129-0042-slip", "front", copies, "receipt", T0, expires)


def printing(copies: int = 1) -> Job:
    return lc.claim(queued(copies), T0 + 1)


def in_state(state: JobState) -> Job:
    j = queued()
    if state is JobState.QUEUED:
        return j
    if state is JobState.EXPIRED:
        return lc.expire(j, j.expires_at_ms)
    if state is JobState.CANCELED:
        return lc.cancel(j, T0 + 1)
    p = lc.claim(j, T0 + 1)
    return {JobState.PRINTING: p,
            JobState.PRINTED: lc.copy_printed(p, T0 + 2),
            JobState.FAILED: lc.confirm_failed(p, T0 + 2, Reason.PAPER_OUT),
            JobState.UNKNOWN: lc.recover(p, T0 + 2)}[state]


def test_admit_queues_with_version_1_or_expires_a_job_already_past_due() -> None:
    j = queued()
    assert (j.state, j.version, j.copies_done, j.reason) == (JobState.QUEUED, 1, 0, None)
    late = lc.admit("a", "front", 1, "receipt", T0, T0)
    assert late.state is JobState.EXPIRED


def test_happy_path_bumps_the_version_at_every_change() -> None:
    j = queued(copies=2)
    p = lc.claim(j, T0 + 1)
    one = lc.copy_printed(p, T0 + 2)
    two = lc.copy_printed(one, T0 + 3)
    assert [x.state for x in (j, p, one, two)] == [JobState.QUEUED, JobState.PRINTING,
                                                   JobState.PRINTING, JobState.PRINTED]
    assert [x.version for x in (j, p, one, two)] == [1, 2, 3, 4]
    assert (two.copies_done, two.updated_ms) == (2, T0 + 3)


def test_copies_never_exceed_n() -> None:
    done = lc.copy_printed(printing(1), T0 + 2)
    with pytest.raises(IllegalTransitionError):
        lc.copy_printed(done, T0 + 3)


def test_printer_not_ready_changes_nothing() -> None:
    j = queued()
    assert lc.hold(j) is j


def test_send_failed_before_any_byte_requeues_keeping_confirmed_copies() -> None:
    p = lc.copy_printed(printing(3), T0 + 2)
    back = lc.send_failed(p, T0 + 3, Reason.UNREACHABLE, bytes_sent=False)
    assert (back.state, back.copies_done, back.reason) == (JobState.QUEUED, 1, None)
    again = lc.claim(back, T0 + 4)
    assert again.state is JobState.PRINTING and again.copies_done == 1


def test_send_failed_after_bytes_fails_and_is_never_claimed_again() -> None:
    f = lc.send_failed(printing(), T0 + 2, Reason.TIMEOUT, bytes_sent=True)
    assert (f.state, f.reason) == (JobState.FAILED, Reason.TIMEOUT)
    with pytest.raises(IllegalTransitionError):
        lc.claim(f, T0 + 3)


def test_post_send_status_not_ready_fails_with_the_status_reason() -> None:
    f = lc.confirm_failed(printing(), T0 + 2, lc.reason_for_status(PrinterState.COVER_OPEN))
    assert (f.state, f.reason) == (JobState.FAILED, Reason.COVER_OPEN)
    assert lc.render_failed(printing(), T0 + 2).reason is Reason.BAD_JOB


def test_crash_while_printing_becomes_unknown_and_only_a_person_moves_it() -> None:
    u = lc.recover(printing(), T0 + 5)
    assert u.state is JobState.UNKNOWN
    steps: list[Callable[[Job], Job]] = [
        lambda j: lc.claim(j, T0 + 6), lambda j: lc.cancel(j, T0 + 6),
        lambda j: lc.copy_printed(j, T0 + 6), lambda j: lc.expire(j, T0 + 10**9)]
    for step in steps:
        with pytest.raises(IllegalTransitionError):
            step(u)
    assert lc.resolve_done(u, T0 + 6).state is JobState.PRINTED
    r = lc.resolve_reprint(u, T0 + 6, T0 + 6 + 900_000)
    assert (r.state, r.expires_at_ms) == (JobState.QUEUED, T0 + 6 + 900_000)


def test_reprint_of_a_failed_job_tops_up_to_n() -> None:
    p = lc.copy_printed(printing(2), T0 + 2)
    f = lc.confirm_failed(p, T0 + 3, Reason.PAPER_OUT)
    r = lc.claim(lc.resolve_reprint(f, T0 + 4, T0 + 100_000), T0 + 5)
    last = lc.copy_printed(r, T0 + 6)
    assert (last.state, last.copies_done) == (JobState.PRINTED, 2)


def test_cancel_only_from_queued() -> None:
    assert lc.cancel(queued(), T0 + 1).state is JobState.CANCELED
    with pytest.raises(IllegalTransitionError) as e:
        lc.cancel(printing(), T0 + 2)
    assert e.value.job.state is JobState.PRINTING


def test_expire_only_a_queued_job_past_its_expiry_and_never_claim_it() -> None:
    j = queued(expires=T0 + 1000)
    assert not lc.is_overdue(j, T0 + 999)
    with pytest.raises(IllegalTransitionError):
        lc.expire(j, T0 + 999)
    with pytest.raises(IllegalTransitionError):
        lc.claim(j, T0 + 1000)
    assert lc.expire(j, T0 + 1000).state is JobState.EXPIRED
    with pytest.raises(IllegalTransitionError):
        lc.expire(printing(), T0 + 10**9)


def test_reason_mappings() -> None:
    assert lc.reason_for_status(PrinterState.PAPER_OUT) is Reason.PAPER_OUT
    assert lc.reason_for_status(PrinterState.JAM) is Reason.OFFLINE
    assert lc.reason_for_transport("timeout") is Reason.TIMEOUT
    assert lc.reason_for_transport("disconnected") is Reason.OFFLINE
    assert lc.reason_for_transport("busy") is Reason.UNREACHABLE


STEPS: dict[str, Callable[[Job, int], Job]] = {
    "claim": lc.claim,
    "copy": lc.copy_printed,
    "requeue": lambda j, t: lc.send_failed(j, t, Reason.OFFLINE, bytes_sent=False),
    "fail_sent": lambda j, t: lc.send_failed(j, t, Reason.TIMEOUT, bytes_sent=True),
    "confirm_failed": lambda j, t: lc.confirm_failed(j, t, Reason.PAPER_OUT),
    "recover": lc.recover,
    "reprint": lambda j, t: lc.resolve_reprint(j, t, t + 1000),
    "done": lc.resolve_done,
    "cancel": lc.cancel,
    "expire": lc.expire,
}


@given(st.lists(st.tuples(st.sampled_from(sorted(STEPS)), st.integers(0, 2_000_000)),
                max_size=40),
       st.integers(1, 4))
def test_any_sequence_keeps_the_invariants(steps: list[tuple[str, int]], copies: int) -> None:
    j = queued(copies, expires=T0 + 1_000_000)
    now = T0
    printed_copies = 0
    for name, dt in steps:
        now += dt
        try:
            nxt = STEPS[name](j, now)
        except IllegalTransitionError:
            continue
        assert nxt.version == j.version + 1
        assert 0 <= nxt.copies_done <= nxt.copies
        if name == "copy":
            printed_copies += 1
        if j.state in (JobState.EXPIRED, JobState.CANCELED, JobState.PRINTED):
            raise AssertionError(f"{name} moved a settled job out of {j.state}")
        if nxt.state is JobState.PRINTING:
            assert j.state in (JobState.QUEUED, JobState.PRINTING)
        j = nxt
    # Reprints keep the confirmed copies: across any history no more than N are confirmed.
    assert printed_copies <= copies


@pytest.mark.parametrize("state", list(JobState))
def test_resolve_only_from_unknown_or_failed(state: JobState) -> None:
    j = in_state(state)
    if state in (JobState.UNKNOWN, JobState.FAILED):
        assert lc.resolve_done(j, T0 + 9).state is JobState.PRINTED
    else:
        with pytest.raises(IllegalTransitionError):
            lc.resolve_done(j, T0 + 9)
        with pytest.raises(IllegalTransitionError):
            lc.resolve_reprint(j, T0 + 9, T0 + 99)
