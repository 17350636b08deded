"""Printer supervisors on real sockets: status, backoff, failures after bytes, parking, logging."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path

import pytest

from agent.daemon import running, stop_printers
from agent.printing.jobs import parse_job
from agent.printing.queue.lifecycle import Action, JobState, Reason
from drivers.printer_state import PrinterState
from drivers.profiles import get_profile
from drivers.sim.printer import SimEscposPrinter, SimJob
from drivers.sim.shells import TcpShell
from tests.agent.conftest import SimFactory, box_config, eventually, marker, raw_job


async def test_stop_between_copies_parks_the_job_and_a_restart_tops_up_to_n(
        tmp_path: Path) -> None:
    # Status replies take 30 ms: each copy takes a while, so the stop lands mid-job.
    model = SimEscposPrinter(get_profile("generic-cn-80"), slow_delay=0.03, slow_read_pause=0)
    model.state = "slow"
    with TcpShell(model) as shell:
        cfg = box_config(tmp_path, {"front": shell.port}, poll_s=0.5)
        async with running(cfg) as ctx:
            await ctx.queue.submit(parse_job(raw_job("park-1", "front", copies=20)))

            async def two_done() -> bool:
                j = await ctx.queue.get("park-1")
                return j is not None and j.copies_done >= 2
            await eventually(two_done, what="two copies confirmed")
            await stop_printers(ctx)
            job = await ctx.queue.get("park-1")
            assert job is not None and job.state is JobState.QUEUED
            assert 2 <= job.copies_done < 20
            assert len(model.jobs()) == job.copies_done
            history = await ctx.queue.store.history("park-1")
            assert history[-1].action is Action.REQUEUE
        model.state = "ok"
        async with running(cfg) as ctx:
            async def printed() -> bool:
                j = await ctx.queue.get("park-1")
                return j is not None and j.state is JobState.PRINTED
            await eventually(printed, what="the rest of the copies")
        assert len(model.jobs()) == 20
        assert bytes(model.received).count(marker("park-1")) == 20


async def test_a_printer_dropping_the_connection_mid_job_fails_it_and_never_resends(
        tmp_path: Path) -> None:
    jobs_seen: list[bytes] = []
    connections = 0

    async def dying_printer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        while data := await reader.read(4096):
            if b"\x1b@" in data:
                jobs_seen.append(data)
                writer.transport.abort()  # power cut in the middle of the job
                return
            writer.write(bytes([0x12]) * data.count(b"\x10\x04"))
            await writer.drain()

    server = await asyncio.start_server(dying_printer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, running(box_config(tmp_path, {"front": port})) as ctx:
        await ctx.queue.submit(parse_job(raw_job("cut-1", "front", copies=2)))

        async def failed() -> bool:
            j = await ctx.queue.get("cut-1")
            return j is not None and j.state is JobState.FAILED
        await eventually(failed, what="the job to fail")
        # The printer is back and polled again and again, and still the job is not resent.
        sup = ctx.printers["front"]
        await eventually(lambda: connections >= 2 and sup.snapshot().ready, what="reconnect")
        polled = sup.snapshot().checked_ms or 0
        await eventually(lambda: (sup.snapshot().checked_ms or 0) > polled + 500,
                         what="more status polls")
        job = await ctx.queue.get("cut-1")
        assert job is not None and (job.reason, job.copies_done) == (Reason.OFFLINE, 0)
    assert len(jobs_seen) == 1


async def test_paper_running_out_during_a_job_fails_it_with_paper_out(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()

    def run_out(n: int, job: SimJob) -> None:
        model.state = "paper_out"

    model.on_job = run_out
    async with running(box_config(tmp_path, {"front": shell.port})) as ctx:
        await ctx.queue.submit(parse_job(raw_job("po-1", "front", copies=3)))
        await ctx.queue.submit(parse_job(raw_job("po-2", "front")))

        async def failed() -> bool:
            j = await ctx.queue.get("po-1")
            return j is not None and j.state is JobState.FAILED
        await eventually(failed, what="po-1 failed")
        job = await ctx.queue.get("po-1")
        assert job is not None and (job.reason, job.copies_done) == (Reason.PAPER_OUT, 0)
        assert ctx.printers["front"].snapshot().state is PrinterState.PAPER_OUT
        model.on_job = None
        model.state = "ok"
        await ctx.queue.resolve("po-1", "reprint")

        async def all_printed() -> bool:
            a, b = await ctx.queue.get("po-1"), await ctx.queue.get("po-2")
            return a is not None and b is not None and \
                a.state is b.state is JobState.PRINTED
        await eventually(all_printed, what="reprint and the held job")
    # One unconfirmed copy before the paper ran out, then the person's reprint of three.
    assert bytes(model.received).count(marker("po-1")) == 4
    assert bytes(model.received).count(marker("po-2")) == 1


async def test_going_down_and_recovering_are_each_logged_once(
        tmp_path: Path, sim_printer: SimFactory, caplog: pytest.LogCaptureFixture) -> None:
    model, shell = sim_printer()
    caplog.set_level(logging.INFO, logger="agent.printing.supervisor")
    async with running(box_config(tmp_path, {"front": shell.port})) as ctx:
        sup = ctx.printers["front"]
        await eventually(lambda: sup.snapshot().ready, what="printer ready")
        model.state = "disconnected"
        await eventually(lambda: not sup.snapshot().connected, what="printer down")
        checks: list[int | None] = []

        def retried() -> bool:
            c = sup.snapshot().checked_ms
            if c not in checks:
                checks.append(c)
            return len(checks) >= 4
        await eventually(retried, what="several reconnect attempts")
        model.state = "ok"
        await eventually(lambda: sup.snapshot().ready, what="printer back")
    msgs = [(r.levelno, r.getMessage().split(":")[0]) for r in caplog.records
            if r.name == "agent.printing.supervisor"]
    assert msgs == [(logging.INFO, "打印机 front 就绪 / printer front up"),
                    (logging.WARNING, "打印机 front 不可用 / printer front down"),
                    (logging.INFO, "打印机 front 就绪 / printer front up")]
    down = next(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert f"打印机无响应：检查网线和 IP 127.0.0.1:{shell.port}" in down


async def test_self_test_on_attach_prints_once(tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    cfg = box_config(tmp_path, {"front": shell.port})
    cfg = dataclasses.replace(cfg, printers=(dataclasses.replace(cfg.printers[0],
                                                                  self_test_on_attach=True),))
    async with running(cfg) as ctx:
        async def printed() -> bool:
            jobs = await ctx.queue.list_jobs(states=[JobState.PRINTED])
            return [j.label for j in jobs] == ["self_test"]
        await eventually(printed, what="the self-test ticket")
    assert len(model.jobs()) == 1 and "自检".encode("gb18030") in model.jobs()[0]
