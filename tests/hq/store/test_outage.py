"""A store outage is logged once when it begins and once when it ends, with what it turned
away in between."""

from __future__ import annotations

import logging

import pytest

from hq.store.outage import OutageLog


def test_an_outage_is_two_lines_however_many_it_turns_away(
        caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.outage")
    outage = OutageLog(log, "box message(s)")
    with caplog.at_level(logging.WARNING, logger="test.outage"):
        outage.succeeded()
        for i in range(5):
            outage.failed(f"connection refused #{i}")
        assert outage.turned_away == 5
        outage.succeeded()
        outage.succeeded()
        outage.failed("again")
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "store unavailable, box message(s) turned away until it is back: connection refused #0",
        "store reachable again; 5 box message(s) turned away meanwhile",
        "store unavailable, box message(s) turned away until it is back: again"]
