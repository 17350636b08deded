"""`storelink agent run`: the box daemon — job store, printer supervisors and the local API."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from agent import AgentError
from agent.api import make_app
from agent.api.context import AgentContext
from agent.audit_outbox import AuditOutbox
from agent.config import Config, ConfigError, load_config
from agent.devices.discovery import DeviceEnv
from agent.devices.runtime import DeviceServices
from agent.events import EventBus
from agent.health.keyfiles import loose_key_files, refusal
from agent.health.memory import SETTLE_S, limit_malloc_arenas, release_free_memory
from agent.health.systemd import announce_ready, notify, stop_watchdog
from agent.metrics.counters import count_jobs
from agent.printing.queue.service import PrintQueue
from agent.printing.queue.store import Store
from agent.printing.supervisor import PrinterSupervisor
from agent.sales.scanned import credential_scans
from agent.sales.service import SalesService
from agent.station.runner import StationRunner
from agent.station.service import TaskService
from agent.upgrade import EXIT_RESTART
from agent.upgrade.watch import on_ready
from agent.uplink.reload import effective
from drivers.transports.open import open_transport
from sync.service import run_until_signalled
from sync.web.connections import GUARD, GuardedSite, install_accept_log

if TYPE_CHECKING:
    from agent.uplink.link import Uplink

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0
"""How long a job in flight may take to finish at shutdown before it is left `printing`."""
PRUNE_EVERY_S = 6 * 3600.0


@dataclass(frozen=True)
class Outcome:
    """Why serve() stopped: an exit code (EXIT_RESTART: a release switch), a configuration HQ
    sent to serve again with, or HQ's adoption (serve again with the new `[sync]`)."""

    code: int = 0
    restart_with: Config | None = None
    adopted: bool = False


async def _housekeeping(queue: PrintQueue, every_s: float,
                        outbox: AuditOutbox | None = None) -> None:
    """Expire overdue jobs of every printer (even dead ones), prune old ids now and then, and
    move audit records left in the outbox into the journal."""
    loop = asyncio.get_running_loop()
    next_prune = loop.time() + PRUNE_EVERY_S
    while True:
        await asyncio.sleep(every_s)
        try:
            if outbox is not None and outbox.behind:
                await outbox.drain()
            for job in await queue.expire_due():
                log.info("job %s expired unprinted on printer %s", job.id, job.printer)
            if loop.time() >= next_prune:
                next_prune = loop.time() + PRUNE_EVERY_S
                pruned = await queue.prune()
                if pruned:
                    log.info("forgot %d settled jobs past the retention period", pruned)
        except Exception:
            log.exception("housekeeping failed; retrying at the next interval")


@contextlib.asynccontextmanager
async def running(config: Config, *, env: DeviceEnv | None = None
                  ) -> AsyncIterator[AgentContext]:
    """The box's services without the HTTP server: store recovered, printers supervised,
    scanners read, devices discovered (`env`: where devices are; tests pass simulated ones).

    On exit the printers are stopped (see `stop_printers`), the journal and the store are
    closed.
    """
    env = env or DeviceEnv()
    store = await asyncio.to_thread(Store.open, config.box.state_dir / "queue.db")
    bus = EventBus()
    queue = PrintQueue(store, bus, config.queue)
    tasks: list[asyncio.Task[None]] = []
    devices: DeviceServices | None = None
    sales: SalesService | None = None
    uplink: Uplink | None = None
    try:
        # Before any worker starts: whatever a crash left printing needs a person's decision.
        for job in await queue.recover():
            log.warning("job %s on printer %s was being printed when the daemon stopped; it is "
                        "now 'unknown' and will not be reprinted unless someone resolves it",
                        job.id, job.printer)
        await queue.expire_due()
        await queue.prune()
        ctx = AgentContext(config, queue, bus, {})
        # Credentials scanned on any scanner reach the approvals, never the bus.
        scans = credential_scans(config.journal)
        devices = DeviceServices(config, bus, env=env, self_test=ctx.self_test,
                                 printer_ready=lambda pid: pid in ctx.printers
                                 and ctx.printers[pid].snapshot().ready, credentials=scans)
        opener = functools.partial(open_transport, usb_backend=env.usb_backend)
        ctx.printers = {p.id: PrinterSupervisor(p, queue, bus, config.queue, opener=opener,
                                                on_attach=devices.gate.ready)
                        for p in config.printers}
        ctx.devices = devices
        if config.journal.enabled:
            # {state_dir}/journal.db; the key made at first start in {state_dir}/keys (0600).
            sales = await SalesService.start(
                config, queue, ctx.printers,
                cosigners=config.sync.cosigners() if config.sync is not None else None,
                scans=scans)
            ctx.sales, ctx.journal = sales, sales.journal
            head = sales.journal.head
            log.info("销售日志已打开 / journal opened at seq %d (log %s)", head.size - 1, head.log)
            ctx.audit_outbox = AuditOutbox(store, sales.journal)
            await ctx.audit_outbox.drain()
            ctx.production = TaskService(sales)
            sales.handover_rules = ctx.production
            names = {w.id: w.name for w in config.journal.workers}
            ctx.stations = {s.id: StationRunner(
                s, ctx.production, bus, scans, names,
                devices.displays.get(s.display) if s.display is not None else None)
                for s in config.stations}
        tasks = [asyncio.create_task(count_jobs(bus, ctx.counters), name="metrics-jobs")]
        tasks += [asyncio.create_task(s.run(), name=f"printer-{pid}")
                  for pid, s in ctx.printers.items()]
        tasks.append(asyncio.create_task(_housekeeping(queue, config.queue.poll_interval_s,
                                                       ctx.audit_outbox),
                                         name="housekeeping"))
        tasks += [asyncio.create_task(s.run(), name=f"station-{sid}")
                  for sid, s in ctx.stations.items()]
        if config.sync is not None:
            from agent.uplink.link import Uplink  # only a box linked to HQ needs MQTT

            uplink = Uplink(ctx, config.sync, ctx.journal)
            tasks.append(asyncio.create_task(uplink.run(), name="uplink"))
        ctx.tasks = tasks
        await devices.start()
        yield ctx
        await stop_printers(ctx)
    finally:
        if uplink is not None:
            # A clean stop publishes the "shutdown" death before the journal closes.
            await uplink.stop()
        if devices is not None:
            await devices.stop()
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        outbox = ctx.audit_outbox if sales is not None else None
        if outbox is not None:
            # What a background drain holds reaches the journal before it closes.
            with contextlib.suppress(Exception):
                await outbox.settle()
        if sales is not None:
            await sales.close()
        bus.close()
        await store.close()


async def stop_printers(ctx: AgentContext, grace_s: float = STOP_GRACE_S) -> None:
    """Take no new jobs; let each job in flight finish within `grace_s`, else leave it printing
    (it becomes unknown at the next start); the supervisors close their devices."""
    ctx.accepting = False
    for sup in ctx.printers.values():
        await sup.stop()
    workers = [t for t in ctx.tasks if t.get_name().startswith("printer-")]
    if workers:
        _, late = await asyncio.wait(workers, timeout=grace_s)
        for t in late:
            log.warning("%s did not finish within %.0f s; its job stays 'printing' and becomes "
                        "'unknown' at the next start", t.get_name(), grace_s)
            t.cancel()


def _start_pairing(config: Config, ctx: AgentContext,
                   adopted: asyncio.Event) -> asyncio.Task[None] | None:
    """Without `[sync]` but with `[pairing]`: ask HQ to adopt the box; once adopted, set
    `adopted` so that the services start again with the `[sync]` HQ's answer stands for."""
    if config.sync is not None or config.pairing is None:
        return None
    if ctx.journal is None:
        log.error("配对需要销售日志 / pairing needs journal.enabled = true (HQ pins the journal "
                  "key); not pairing")
        return None

    from agent.pairing.runner import Pairing  # only a box being paired needs the CSR code

    pairing = Pairing(ctx, config.pairing, adopted.set)
    ctx.pairing_view = lambda: pairing.view
    return asyncio.create_task(pairing.run(), name="pairing")


async def serve(config: Config, *, ready: asyncio.Event | None = None,
                stop: asyncio.Event | None = None) -> Outcome:
    """Run until `stop` is set, a release switch, a configuration from HQ or an adoption:
    recover the queue, start the printers and the API, then shut down cleanly (the job in
    flight finishes or is left for `unknown`, devices are closed); says why it stopped."""
    stop = stop or asyncio.Event()
    adopted = asyncio.Event()
    pairing: asyncio.Task[None] | None = None
    outcome = Outcome()
    install_accept_log(asyncio.get_running_loop())
    async with running(config) as ctx:
        app = make_app(ctx)
        runner = web.AppRunner(app, access_log=None, handle_signals=False,
                               keepalive_timeout=config.api.header_timeout_s)
        await runner.setup()
        try:
            site = GuardedSite(runner, config.api.listen, config.api.port, app[GUARD])
            await site.start()
            port = site.port
            host = f"[{config.api.listen}]" if ":" in config.api.listen else config.api.listen
            print(f"storelink agent ready on http://{host}:{port}", flush=True)
            log.info("box %s: %d printer(s), state in %s", config.box.id, len(config.printers),
                     ctx.queue.store.path)
            if ready is not None:
                ready.set()
            watchdog = announce_ready(ctx, f"http://{host}:{port}")
            pairing = _start_pairing(config, ctx, adopted)
            if await on_ready(config.box.state_dir):
                ctx.switch_release.set()
            settled = asyncio.get_running_loop().call_later(SETTLE_S, release_free_memory)
            await _first(stop, ctx.restarting, ctx.switch_release, adopted)
            if ctx.switch_release.is_set():
                outcome = Outcome(code=EXIT_RESTART)
                log.warning("重启以切换版本 / restarting to switch release")
            elif not stop.is_set() and ctx.restart_with is not None:
                outcome = Outcome(restart_with=ctx.restart_with)
                notify("RELOADING=1")
            elif not stop.is_set() and adopted.is_set():
                outcome = Outcome(adopted=True)
                notify("RELOADING=1")
            log.info("stopping: no new jobs; letting the job in flight finish")
            settled.cancel()
            await stop_watchdog(watchdog)
            await stop_printers(ctx)
        finally:
            if pairing is not None:
                pairing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pairing
            ctx.bus.close()
            await runner.cleanup()
    log.info("stopped")
    return outcome


async def _first(*events: asyncio.Event) -> None:
    """Wait until any of `events` is set."""
    waits = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


async def serve_until_stopped(config: Config, stop: asyncio.Event) -> int:
    """`serve` the configuration HQ sent if one is kept (else `config`), again with each one it
    sends (reload_config) or after an adoption, until `stop` or a release switch; the exit
    code."""
    config = await asyncio.to_thread(effective, config)
    while True:
        out = await serve(config, stop=stop)
        if out.code or stop.is_set():
            return out.code
        if out.restart_with is not None:
            log.info("用新配置重启服务 / restarting the services with the configuration HQ sent")
            config = out.restart_with
        elif out.adopted and config.source is not None:
            # Adopted: start again, now with the [sync] HQ's answer stands for.
            try:
                config = await asyncio.to_thread(load_config, config.source)
            except ConfigError as e:
                log.error("the configuration after pairing is invalid: %s", e)
                return 1
            if loose := loose_key_files(config):
                log.error("%s", refusal(loose))
                return 1
            config = await asyncio.to_thread(effective, config)
        else:
            return 0


def run(config: Config) -> int:
    """Run the daemon in the foreground until SIGTERM or SIGINT; 0 on a clean stop, 1 when it
    cannot run (a key file others may read, a second daemon on the same state, …)."""
    if loose := loose_key_files(config):
        log.error("%s", refusal(loose))
        return 1
    limit_malloc_arenas()  # before any thread starts (docs/deploy.md, idle memory)
    codes: list[int] = []

    async def main(stop: asyncio.Event) -> None:
        codes.append(await serve_until_stopped(config, stop))

    try:
        run_until_signalled(main)
    except (AgentError, OSError) as e:
        log.error("the daemon cannot run: %s", e)
        return 1
    return codes[0] if codes else 0
