"""A job for an idle printer is claimed in the transaction that stores it (one durable commit
instead of two); its printer's status is still asked before any byte goes out, and a printer
that is not ready gets nothing: the job goes back to the queue (docs/local-api.md, "States").
Handed over with its claim, a job is printed from the bytes its submitter rendered to check it,
and a job announced as on its way finds its printer's status already asked."""

from __future__ import annotations

from pathlib import Path

from agent.daemon import running
from agent.printing.jobs import parse_job, render_job
from agent.printing.queue.lifecycle import Action, JobState
from agent.printing.queue.service import PrintQueue
from drivers.escpos.status import STATUS_QUERY
from drivers.profiles import get_profile
from drivers.sim.printer import SimEscposPrinter
from drivers.sim.shells import TcpShell
from tests.agent.conftest import SimFactory, box_config, eventually, marker, raw_job


async def until_printed(queue: PrintQueue, job_id: str, what: str = "") -> None:
    """Wait until the job is printed."""
    async def printed() -> bool:
        j = await queue.get(job_id)
        return j is not None and j.state is JobState.PRINTED
    await eventually(printed, what=what or f"{job_id} printed")


async def test_a_job_for_an_idle_ready_printer_is_claimed_as_it_is_stored(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    async with running(box_config(tmp_path, {"front": shell.port})) as ctx:
        await eventually(ctx.printers["front"].idle, what="the worker idle after a ready status")
        job = parse_job(raw_job("hinge-1", "front", "不锈钢合页 4寸 ×4"))
        submitted = await ctx.queue.submit(job)
        assert submitted.created and submitted.job.state is JobState.QUEUED
        assert submitted.claimed is not None
        assert (submitted.claimed.job.state, submitted.claimed.job.version) == \
            (JobState.PRINTING, 2)

        await until_printed(ctx.queue, "hinge-1")
        history = await ctx.queue.store.history("hinge-1")
        assert [h.action for h in history] == [Action.SUBMIT, Action.CLAIM, Action.COPY_PRINTED]
    assert bytes(model.received).count(marker("hinge-1")) == 1


async def test_a_job_behind_another_waits_its_turn(tmp_path: Path) -> None:
    # Status replies take 30 ms: the first job of 5 copies is still printing when the next comes.
    model = SimEscposPrinter(get_profile("generic-cn-80"), slow_delay=0.03, slow_read_pause=0)
    with TcpShell(model) as shell:
        async with running(box_config(tmp_path, {"front": shell.port})) as ctx:
            await eventually(ctx.printers["front"].idle, what="the worker idle")
            model.state = "slow"
            first = await ctx.queue.submit(parse_job(raw_job("lock-1", "front", "智能门锁",
                                                             copies=5)))
            second = await ctx.queue.submit(parse_job(raw_job("lock-2", "front", "智能门锁")))
            assert first.claimed is not None and second.claimed is None

            async def both() -> bool:
                a, b = await ctx.queue.get("lock-1"), await ctx.queue.get("lock-2")
                return a is not None and b is not None and a.state is b.state is \
                    JobState.PRINTED
            await eventually(both, what="both printed")
    data = bytes(model.received)
    assert data.count(marker("lock-1")) == 5 and data.count(marker("lock-2")) == 1
    assert data.rindex(marker("lock-1")) < data.index(marker("lock-2"))


async def test_a_printer_out_of_paper_since_its_last_status_gets_nothing(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    model, shell = sim_printer()
    # A long poll interval: the worker's last status (ready) is old when the job comes.
    async with running(box_config(tmp_path, {"front": shell.port}, poll_s=30)) as ctx:
        await eventually(ctx.printers["front"].idle, what="the worker idle after a ready status")
        model.state = "paper_out"
        submitted = await ctx.queue.submit(parse_job(raw_job("paper-1", "front", "缺纸时不打印")))
        assert submitted.claimed is not None

        async def back_in_queue() -> bool:
            history = await ctx.queue.store.history("paper-1")
            return [h.action for h in history] == [Action.SUBMIT, Action.CLAIM, Action.REQUEUE]
        await eventually(back_in_queue, what="the job back in the queue")
        job = await ctx.queue.get("paper-1")
        assert job is not None and job.state is JobState.QUEUED and job.copies_done == 0
        assert marker("paper-1") not in bytes(model.received)
        model.state = "ok"
        ctx.printers["front"].wake()

        await until_printed(ctx.queue, "paper-1", "printed once the paper is back")
    assert bytes(model.received).count(marker("paper-1")) == 1


async def test_the_worker_prints_the_bytes_rendered_to_check_the_job(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    # The intake and POST /v1/print-jobs render a job to check it; handed over with the claim,
    # those bytes are what the worker writes — it does not render the job a second time. (The
    # bytes given here differ from the job's own only so that the test can tell them apart.)
    model, shell = sim_printer()
    async with running(box_config(tmp_path, {"front": shell.port})) as ctx:
        await eventually(ctx.printers["front"].idle, what="the worker idle after a ready status")
        job = parse_job(raw_job("hinge-2", "front", "不锈钢合页 ×2"))
        printer = ctx.config.printer("front")
        assert printer is not None
        checked = parse_job(raw_job("hinge-2", "front", "已检查的字节 ×2"))
        rendered = render_job(checked, printer.profile)
        submitted = await ctx.queue.submit(job, rendered=(printer.profile, rendered))
        assert submitted.claimed is not None

        await until_printed(ctx.queue, "hinge-2")
    data = bytes(model.received)
    assert data.count(rendered.data) == 1
    assert "不锈钢合页 ×2".encode("gb18030") not in data


async def test_a_job_on_its_way_finds_its_printers_status_asked(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    # coming() (the intake and POST /v1/print-jobs, before they check the job) has the idle
    # worker ask the printer's status while the job is checked and stored; the job claimed with
    # it then goes out on that answer, not after a second question. A long poll interval: no
    # timed poll comes in between.
    model, shell = sim_printer()

    def asked() -> int:
        return bytes(model.received).count(STATUS_QUERY)

    async with running(box_config(tmp_path, {"front": shell.port}, poll_s=30)) as ctx:
        await eventually(ctx.printers["front"].idle, what="the worker idle after a ready status")
        before = asked()
        ctx.queue.coming("front")
        await eventually(lambda: asked() == before + 1, what="the status asked for the job")
        job = parse_job(raw_job("hinge-3", "front", "合页 ×3"))
        printer = ctx.config.printer("front")
        assert printer is not None
        # As the intake submits it: with the bytes it rendered to check it.
        submitted = await ctx.queue.submit(job, rendered=(printer.profile,
                                                          render_job(job, printer.profile)))
        assert submitted.claimed is not None

        await until_printed(ctx.queue, "hinge-3")
    data = bytes(model.received)
    assert data[:data.index(marker("hinge-3"))].count(STATUS_QUERY) == before + 1


async def test_a_job_not_announced_does_not_print_on_a_status_asked_for_another(
        tmp_path: Path, sim_printer: SimFactory) -> None:
    # A status asked for a job on its way that never came (refused when it was checked) is not
    # what a job submitted without announcement (a till's receipt) prints on: its worker asks.
    model, shell = sim_printer()

    def asked() -> int:
        return bytes(model.received).count(STATUS_QUERY)

    async with running(box_config(tmp_path, {"front": shell.port}, poll_s=30)) as ctx:
        await eventually(ctx.printers["front"].idle, what="the worker idle after a ready status")
        before = asked()
        ctx.queue.coming("front")
        await eventually(lambda: asked() == before + 1, what="the status asked for a job")
        submitted = await ctx.queue.submit(parse_job(raw_job("receipt-1", "front", "小票")))
        assert submitted.claimed is not None

        await until_printed(ctx.queue, "receipt-1")
    data = bytes(model.received)
    assert data[:data.index(marker("receipt-1"))].count(STATUS_QUERY) == before + 2
