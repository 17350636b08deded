"""The box's link to HQ over MQTT (docs/protocol.md): birth and death, telemetry, journal
upload with countersigned acknowledgements, the durable event outbox, cloud print and commands.

Wiring (agent/daemon.py): `uplink = Uplink(ctx, config.sync, journal)`, run `uplink.run()` as a
task, and `await uplink.stop()` at shutdown (it publishes a `shutdown` death first).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import shutil
import time
from pathlib import Path
from typing import Any

from agent.api.context import AgentContext
from agent.config import Config
from agent.health.link import LinkMonitor
from agent.journal.store import JournalStore
from agent.uplink import reload
from agent.uplink.config import SyncConfig
from agent.uplink.intake import CMD_NS, Intake, wall_ms
from sync.journal import JournalError
from sync.latency_trace import mark
from sync.mqtt_session import Connected, Disconnected, Message, MqttSession, SessionConfig, Will
from sync.protocol import ProtocolError
from sync.protocol import outbox as ob
from sync.protocol.birth import next_bdseq
from sync.protocol.commands import Command, CommandGuard
from sync.protocol.messages import (
    Birth,
    Death,
    DeviceState,
    EventsAck,
    EventsBatch,
    JournalAck,
    JournalBatch,
    JournalPosition,
    Telemetry,
    event_from_obj,
)
from sync.protocol.outbox import DurableOutbox
from sync.protocol.topics import Down, Up, box_down_filter, parse_topic, up

log = logging.getLogger(__name__)
TICK_S = 0.05
PUBLISH_WAIT_S = 10.0
REFUSED_PAUSE_MS = 60_000
VERSION = "0.1.0"


def read_records(journal: JournalStore, start: int, end: int,
                 cosign_types: dict[int, bool]) -> list[dict[str, Any]]:
    """Journal records [start, end) as a batch's entries (blocking); notes in `cosign_types`
    which of them are cosign records (docs/protocol.md §5)."""
    out = []
    it = journal.entries(start)
    try:
        for i, e in enumerate(itertools.islice(it, end - start)):
            rec = json.loads(e.raw)
            cosign_types[start + i] = rec.get("type") == "cosign"
            out.append({"hash": e.hash.hex(), "record": rec, "sig": e.sig.hex()})
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()  # ends the read transaction of the journal's reader
    return out


class Uplink:
    """One box's MQTT session with HQ and everything that travels over it."""

    def __init__(self, ctx: AgentContext, cfg: SyncConfig, journal: JournalStore | None,
                 state_dir: Path | None = None) -> None:
        self.ctx = ctx
        self.cfg = cfg
        self.journal = journal
        self.box = ctx.config.box.id
        self.state_dir = state_dir or ctx.config.box.state_dir
        self.outbox: DurableOutbox | None = None
        self.intake: Intake | None = None
        self.session = MqttSession(
            SessionConfig(cfg.host, cfg.port, f"storelink-box-{self.box}", clean_start=False,
                          session_expiry_s=cfg.session_expiry_s, keepalive_s=cfg.keepalive_s,
                          username=cfg.username, password=cfg.password, tls_ca=cfg.tls_ca,
                          tls_cert=cfg.tls_cert, tls_key=cfg.tls_key, manual_ack=True,
                          subscriptions=((box_down_filter(self.box), 1),)),
            will_factory=self._will)
        self.bdseq = 0
        self.link = LinkMonitor(f"{cfg.host}:{cfg.port}", wall_ms())
        ctx.link = self.link  # what /v1/health and the status page show
        self._jw = ob.Window()
        self._ew = ob.Window()
        self._connected = False
        self._telemetry_seq = 0
        self._cosign_types: dict[int, bool] = {}
        self._paused_until = 0
        self._stop = asyncio.Event()
        self._done = asyncio.Event()
        self._started = time.monotonic()
        self._tel_due = 0.0
        self._state_sig = ""
        self._restart_pending = False
        self._restart_with: Config | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def _will(self) -> Will:
        """Asked before every connect, on the connecting thread: a new durable session counter."""
        assert self.outbox is not None
        self.bdseq = next_bdseq(self.outbox.number("session", "bdseq") or 0, wall_ms())
        self.outbox.put([("session", "bdseq", self.bdseq, None)])
        return Will(up(self.box, Up.DEATH), Death(self.box, self.bdseq).to_json(), 1, True)

    async def run(self) -> None:
        """Connect and serve until stop(); reconnects by itself."""
        self.outbox = await asyncio.to_thread(DurableOutbox, self.state_dir / "uplink.db")
        remembered = await asyncio.to_thread(self.outbox.numbers, CMD_NS)
        guard = CommandGuard(self.box, self.cfg.hq_pubkey, remembered.items())
        self.intake = Intake(self.ctx, self.outbox, guard, self._action, self._after_command)
        await self.session.start()
        tasks = [asyncio.create_task(self._pump(), name="uplink-mqtt"),
                 asyncio.create_task(self._ticker(), name="uplink-tick"),
                 asyncio.create_task(self._watch_jobs(), name="uplink-jobs")]
        try:
            await self._stop.wait()
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            final = [(up(self.box, Up.DEATH), Death(self.box, self.bdseq, "shutdown").to_json(),
                      1, True)] if self._connected else []
            await self.session.stop(final=final)
            await asyncio.to_thread(self.outbox.close)
            self._done.set()

    async def stop(self) -> None:
        """Publish a shutdown death, disconnect cleanly and close the outbox."""
        self._stop.set()
        await self._done.wait()

    # --- inbound -------------------------------------------------------------------------

    async def _pump(self) -> None:
        while True:
            ev = await self.session.events.get()
            try:
                if isinstance(ev, Connected):
                    if line := self.link.connected(wall_ms()):
                        log.info("%s", line)
                    await self._on_connected()
                elif isinstance(ev, Disconnected):
                    if line := self.link.failed(ev.reason, wall_ms()):
                        log.warning("%s", line)
                    self._connected = False
                    self._jw, self._ew = ob.disconnected(self._jw), ob.disconnected(self._ew)
                elif isinstance(ev, Message):
                    mark("box.loop")
                    await self._on_message(ev)
                    self.session.ack(ev)
                    mark("box.ack")
                    self._after_command()
            except Exception:
                log.exception("uplink: handling %s failed", type(ev).__name__)

    def _after_command(self) -> None:
        """Restart as a command asked, once its answer is in the outbox (and its message
        acknowledged): the new release or configuration sends the answer."""
        if self._restart_pending:
            self.ctx.switch_release.set()
        if self._restart_with is not None:
            self.ctx.restart(self._restart_with)
            self._restart_with = None

    async def _on_connected(self) -> None:
        assert self.outbox is not None
        log.debug("connected to HQ's broker (session counter %d)", self.bdseq)
        self._connected = True
        now = wall_ms()
        jacked = await self._journal_acked()
        self.ctx.counters.connected(jacked)
        self._jw = ob.start(jacked, self._journal_size(), now, batch=self.cfg.batch_records,
                            max_inflight=4 * self.cfg.batch_records)
        box = self.outbox
        acked, head = await asyncio.to_thread(lambda: (box.acked(), box.head()))
        self._ew = ob.start(acked, head, now, batch=200, max_inflight=1000)
        self._telemetry_seq = 0
        await self._publish_birth()
        self._tel_due = 0.0

    async def _on_message(self, msg: Message) -> None:
        assert self.intake is not None
        try:
            leaf = parse_topic(msg.topic).leaf
        except ProtocolError:
            return
        if leaf is Down.PRINT:
            await self.intake.print_job(msg.payload)
        elif leaf is Down.COMMAND:
            await self.intake.command(msg.payload)
        elif leaf is Down.JOURNAL_ACK:
            await self._on_journal_ack(JournalAck.from_json(msg.payload))
        elif leaf is Down.EVENTS_ACK:
            await self._on_events_ack(EventsAck.from_json(msg.payload))

    async def _on_events_ack(self, ack: EventsAck) -> None:
        assert self.outbox is not None
        if ack.stream != self.outbox.stream or ack.box != self.box:
            return
        if ack.upto < self._ew.resume:
            self._ew = ob.held_only(self._ew, ack.upto, wall_ms())
            return
        done = await asyncio.to_thread(self.outbox.ack, ack.upto)
        self._ew = ob.acknowledged(self._ew, done, wall_ms())

    async def _on_journal_ack(self, ack: JournalAck) -> None:
        assert self.outbox is not None
        if self.journal is None or ack.box != self.box or ack.log_id != self.journal.head.log:
            return
        now = wall_ms()
        if ack.status == "resend":
            self._jw = ob.held_only(self._jw, ack.size, now)
            return
        if (ack.cosignature is not None and ack.size > self._jw.acked
                and not await self._record_cosignature(ack)):
            return
        if ack.status == "refused":
            log.error("HQ refused the journal at %d records: %s", ack.size, ack.reason)
            self._jw = ob.resend_from(self._jw, ack.size, now)
            self._paused_until = now + REFUSED_PAUSE_MS
            return
        self._jw = ob.acknowledged(self._jw, ack.size, now)
        self.ctx.counters.acked(self._jw.acked, now)

    async def _record_cosignature(self, ack: JournalAck) -> bool:
        """Keep HQ's cosignature as a cosign record (unless only cosign records were acked,
        which would never end), then advance the durable upload cursor."""
        assert self.outbox is not None and self.journal is not None
        acked = self._jw.acked
        news = [self._cosign_types.get(s) for s in range(acked, ack.size)]
        if any(v is not True for v in news):
            # An ack's cosignature is HQ's input like any other: check it, never assume it.
            cosig = ack.cosignature or {}
            note, cosigner = cosig.get("note"), cosig.get("cosigner")
            if not isinstance(note, str) or not isinstance(cosigner, str):
                log.error("HQ's ack carries no usable cosignature; not advancing")
                return False
            try:
                await self.journal.add_cosignature(note, cosigner)
            except (JournalError, ValueError) as e:
                log.error("HQ's cosignature does not match this journal: %s", e)
                return False
        await asyncio.to_thread(self.outbox.put, [("journal", "acked", ack.size, None)])
        for s in range(acked, ack.size):
            self._cosign_types.pop(s, None)
        return True

    async def _action(self, cmd: Command) -> None:
        if cmd.name == "rebirth":
            await self._publish_birth()
        elif cmd.name == "reupload":
            start = int(str(cmd.args["from_seq"]))
            self._jw = ob.resend_from(ob.grow(self._jw, self._journal_size()),
                                      min(start, self._jw.head), wall_ms())
            self._paused_until = 0
        elif cmd.name == "reload_config":
            text = str(cmd.args["toml"])
            new = await asyncio.to_thread(reload.check_new_config, text, self.ctx.config)
            path = await asyncio.to_thread(reload.save, text, self.state_dir)
            log.info("HQ 下发新配置 / HQ sent a new configuration (command %s), saved as %s; "
                     "restarting the services with it", cmd.nonce, path)
            self._restart_with = new
        elif cmd.name == "upgrade":
            await self._upgrade(cmd)

    async def _upgrade(self, cmd: Command) -> None:
        """Install the release HQ names beside this one and switch to it (agent.upgrade)."""
        from agent.upgrade import UpgradeError
        from agent.upgrade.apply import apply_upgrade
        from agent.upgrade.layout import Layout, running_release

        found = running_release()
        if found is None:
            raise ValueError("this box does not run from an installed release "
                             "(scripts/install.sh); upgrade it by hand")
        try:
            await apply_upgrade(cmd.args, self.cfg.hq_pubkey, Layout(found[0], self.state_dir),
                                wall_ms())
        except UpgradeError as e:
            raise ValueError(str(e)) from None
        self._restart_pending = True

    # --- outbound ------------------------------------------------------------------------

    def _journal_size(self) -> int:
        return self.journal.head.size if self.journal is not None else 0

    async def _journal_acked(self) -> int:
        assert self.outbox is not None
        kv = await asyncio.to_thread(self.outbox.number, "journal", "acked") or 0
        cosigned = self.journal.head.cosigned if self.journal is not None else 0
        return max(kv, cosigned)

    def _position(self) -> JournalPosition:
        log_id = self.journal.head.log if self.journal is not None else ""
        return JournalPosition(self._journal_size(), min(self._jw.acked, self._journal_size()),
                               log_id)

    def _devices(self) -> tuple[DeviceState, ...]:
        out = []
        for pid, sup in self.ctx.printers.items():
            snap = sup.snapshot()
            out.append(DeviceState(pid, "printer", snap.state.value, "; ".join(snap.detail)[:512]))
        if self.ctx.devices is not None:
            for sid, scale in self.ctx.devices.scales.items():
                s = scale.snapshot()
                out.append(DeviceState(sid, "scale", "ok" if s.online else "offline",
                                       (s.last_error or "")[:512] if not s.online else ""))
        return tuple(out)

    async def _publish_birth(self) -> None:
        b = self.ctx.config.box
        birth = Birth(self.box, self.bdseq, wall_ms(), _release_version(), b.store,
                      self._devices(),
                      self._position(), self.cfg.telemetry_interval_s, b.name,
                      self.cfg.keepalive_s)
        await self.session.publish(up(self.box, Up.BIRTH), birth.to_json(), 1, True,
                                   wait_s=PUBLISH_WAIT_S)

    async def _publish_telemetry(self) -> None:
        self._telemetry_seq += 1
        try:
            disk: int | None = shutil.disk_usage(self.state_dir).free
        except OSError:
            disk = None
        t = Telemetry(self.box, self.bdseq, self._telemetry_seq, wall_ms(), _uptime_s(),
                      self._devices(), await self.ctx.queue.depths(), self._position(), disk,
                      _temperature_mc())
        await self.session.publish(up(self.box, Up.TELEMETRY), t.to_json(), 0)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            if not self._connected:
                continue
            try:
                await self._send_journal()
                await self._send_events()
                await self._maybe_telemetry()
            except Exception:
                log.exception("uplink: sending failed; retrying")

    async def _maybe_telemetry(self) -> None:
        sig = json.dumps([d.to_obj() for d in self._devices()])
        now = time.monotonic()
        changed = sig != self._state_sig
        if now >= self._tel_due or (changed and now >= self._tel_due - self.cfg.
                                    telemetry_interval_s + 1.0):
            self._state_sig = sig
            self._tel_due = now + self.cfg.telemetry_interval_s
            await self._publish_telemetry()

    async def _send_journal(self) -> None:
        if self.journal is None or wall_ms() < self._paused_until:
            return
        self._jw = ob.grow(self._jw, self._journal_size())
        while True:
            self._jw, rng = ob.next_range(self._jw, wall_ms())
            if rng is None:
                return
            records = await asyncio.to_thread(read_records, self.journal, *rng, self._cosign_types)
            if not records:
                self._jw = ob.disconnected(self._jw)
                return
            batch = JournalBatch(self.box, self.journal.head.log, rng[0], tuple(records))
            await self.session.publish(up(self.box, Up.JOURNAL), batch.to_json(), 1,
                                       wait_s=PUBLISH_WAIT_S)

    async def _send_events(self) -> None:
        assert self.outbox is not None and self.intake is not None
        self.intake.changed.clear()
        head = await asyncio.to_thread(self.outbox.head)
        self._ew = ob.grow(self._ew, head)
        while True:
            self._ew, rng = ob.next_range(self._ew, wall_ms())
            if rng is None:
                return
            rows = await asyncio.to_thread(self.outbox.events, rng[0] + 1, rng[1])
            if len(rows) != rng[1] - rng[0]:
                self._ew = ob.disconnected(self._ew)  # acked meanwhile; start from the ack
                return
            batch = EventsBatch(self.box, self.outbox.stream,
                                tuple(event_from_obj(r, "event") for r in rows))
            await self.session.publish(up(self.box, Up.EVENTS), batch.to_json(), 1,
                                       wait_s=PUBLISH_WAIT_S)

    async def _watch_jobs(self) -> None:
        """Forward cloud job state changes: woken by the bus, with a slow poll as a backstop."""
        assert self.intake is not None
        while True:
            sub = self.ctx.bus.subscribe()
            try:
                next_prune = time.monotonic()
                while not sub.closed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(sub.get(), 1.0)
                    while await self.intake.forward_job_states():
                        pass
                    if time.monotonic() >= next_prune:
                        next_prune = time.monotonic() + 60.0
                        await self.intake.forget_expired_nonces()
            except Exception:
                log.exception("uplink: forwarding job states failed; retrying")
                await asyncio.sleep(1.0)
            finally:
                sub.close()


def _uptime_s() -> int:
    try:
        return int(float(Path("/proc/uptime").read_text().split()[0]))
    except (OSError, ValueError, IndexError):
        return int(time.monotonic())


def _temperature_mc() -> int | None:
    for zone in ("thermal_zone0",):
        p = Path("/sys/class/thermal") / zone / "temp"
        try:
            return int(p.read_text().strip())
        except (OSError, ValueError):
            continue
    return None


def _release_version() -> str:
    """The installed release this daemon runs (agent.upgrade), else the package's version."""
    from agent.upgrade.layout import running_release

    found = running_release()
    return found[1] if found is not None else VERSION
