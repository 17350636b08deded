"""The daemon's part of a trial: once it is ready (API listening, journal open) it reports
healthy, which commits the trial — or, past the deadline, switches back and asks for a
restart."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from agent.journal.clock import wall_ms
from agent.upgrade.layout import Layout, running_release
from agent.upgrade.plan import on_healthy

log = logging.getLogger(__name__)


def report_healthy(state_dir: Path, now_ms: int, prefix: str | None = None) -> bool:
    """Commit the running release's trial (`good` follows it); True when the box must
    restart because it switched back to the previous release instead."""
    found = running_release(prefix)
    if found is None:
        return False
    opt, version = found
    layout = Layout(opt, state_dir)
    trial = layout.read_trial()
    d = on_healthy(trial, version, now_ms)
    if d.trial == trial:
        return False
    if d.commit:
        layout.switch("good", version)
    if d.switch:
        layout.switch("current", d.release)
    assert d.trial is not None
    layout.write_trial(d.trial)
    if d.line:
        (log.info if d.commit else log.error)("%s", d.line)
    return d.switch


async def on_ready(state_dir: Path) -> bool:
    """report_healthy in a thread, its failures logged (a box that cannot write its state
    keeps running the release it runs)."""
    try:
        return await asyncio.to_thread(report_healthy, state_dir, wall_ms())
    except OSError as e:
        log.error("upgrade: cannot record the trial's outcome: %s", e)
        return False
