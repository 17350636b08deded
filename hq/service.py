"""The HQ service: one worker's MQTT session, ingest, registry, dispatch and HTTP API together.

Workers are interchangeable: clean MQTT sessions, box traffic shared among them through
`$share/{group}/…`, births and deaths seen by all, state in the shared store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict

from aiohttp import web

from hq.alerts.watch import AlertWatch
from hq.config import HqConfig, load_or_create_key
from hq.dispatch.cloud_print import Dispatcher
from hq.fleet.hq_link import HqLink
from hq.fleet.registry import Registry
from hq.ingest.journal import JournalIngest, wall_ms
from hq.pairing.book import HqIdentity, KnownBoxes, open_book
from hq.pairing.web import install as install_pairing
from hq.store import StoreUnavailableError
from hq.store.backends import open_store
from hq.store.outage import OutageLog
from hq.web.api import ApiContext, make_app
from hq.web.metrics import HqCounters
from sync import SyncError
from sync.journal.record import public_bytes
from sync.mqtt_session import Connected, Disconnected, Message, MqttSession, SessionConfig, Will
from sync.protocol import ProtocolError
from sync.protocol.messages import Birth, Death, EventsBatch, HqState, JournalBatch, Telemetry
from sync.protocol.topics import Down, Up, down, hq_filters, hq_state, parse_topic
from sync.systemd import announce_ready, stop_watchdog
from sync.web.connections import GUARD, ConnectionGuard, GuardedSite

log = logging.getLogger(__name__)
PUBLISH_WAIT_S = 10.0
MAX_CONCURRENT = 32
PRESENCE_RETRY_S = 1.0
PRESENCE_RETRIES = 600
"""A birth or death, or the sending of jobs accepted while disconnected, met by an unreachable
store is tried again every second, for 10 min."""
REDELIVER = (Down.PRINT, b"")
"""What _handle returns when a box came online: its unanswered jobs are published again."""


class HqService:
    """One HQ worker."""

    def __init__(self, cfg: HqConfig) -> None:
        self.cfg = cfg
        self.clock = wall_ms
        self.key = load_or_create_key(cfg.key_file)
        self.store = open_store(cfg.db)
        self.outage = OutageLog(log, "box message(s)")
        m = cfg.mqtt
        self.session = MqttSession(
            SessionConfig(m.host, m.port, f"storelink-hq-{cfg.id}", clean_start=True,
                          session_expiry_s=0, keepalive_s=m.keepalive_s, username=m.username,
                          password=m.password, tls_ca=m.tls_ca, tls_cert=m.tls_cert,
                          tls_key=m.tls_key,
                          subscriptions=tuple((f, 1) for f in hq_filters(m.share_group or None)),
                          max_inflight=100, max_queued=10_000),
            will_factory=lambda: Will(hq_state(cfg.id),
                                      HqState(cfg.id, False, self.clock()).to_json()))
        self.pairing = open_book(cfg.pairing, HqIdentity(public_bytes(self.key), cfg.cosigner))
        self.ingest = JournalIngest(self.store, KnownBoxes(cfg.boxes, self.pairing), self.key,
                                    cfg.cosigner, self.clock)
        self.registry = Registry(self.store, self.clock)
        self.dispatcher = Dispatcher(self.store, self._publish, self.clock, self.key,
                                     cfg.default_expiry_s, cfg.command_lifetime_s)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._slots = asyncio.Semaphore(MAX_CONCURRENT)
        self._tasks: set[asyncio.Task[None]] = set()
        self._bad_boxes: set[str] = set()
        self.port = 0
        self.link = HqLink(f"{m.host}:{m.port}", self.clock())
        self.counters = HqCounters()

    async def _publish(self, topic: str, payload: bytes, expiry_s: int) -> bool:
        return await self.session.publish(topic, payload, 1, False, wait_s=PUBLISH_WAIT_S,
                                          expiry_s=expiry_s)

    async def _publish_alert(self, topic: str, payload: bytes) -> bool:
        return await self.session.publish(topic, payload, 1, False, wait_s=PUBLISH_WAIT_S)

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set."""
        ctx = ApiContext(self.store, self.registry, self.dispatcher, self.cfg.api_token,
                         tuple(self.cfg.boxes), self.cfg.api_allowed_hosts,
                         self.cfg.api_allowed_origins, self.link, self.cfg.stores,
                         self.cfg.api_secure_cookies, self.counters)
        ctx.first_contact_share = self.cfg.first_contact_share
        ctx.alerts = self.cfg.alerts
        if self.pairing is not None:
            book = self.pairing
            ctx.adopted = lambda: [a.box for a in book.adoptions()]
        app = make_app(ctx)
        alerts = AlertWatch(self.store, self.cfg.alerts, self.cfg.id, self.registry, self.link,
                            ctx.known_boxes, self.cfg.stores, self._publish_alert, self.clock)
        if self.pairing is not None:
            install_pairing(app, self.pairing, self.clock, self.store)
        # HQ serves no WebSockets: one slot is the least the guard takes.
        guard = ConnectionGuard(self.cfg.api_max_connections, 1, self.cfg.api_header_timeout_s)
        app[GUARD] = guard
        runner = web.AppRunner(app, access_log=None, handle_signals=False,
                               keepalive_timeout=self.cfg.api_header_timeout_s)
        await runner.setup()
        try:
            site = GuardedSite(runner, self.cfg.api_listen, self.cfg.api_port, guard)
            await site.start()
            self.port = site.port
            await self.session.start()
            print(f"storelink hq {self.cfg.id} ready on http://{self.cfg.api_listen}:{self.port}",
                  flush=True)
            pump = asyncio.create_task(self._pump(), name="hq-mqtt")
            watching = asyncio.create_task(alerts.run(stop), name="hq-alerts")
            # Type=notify: ready once the API listens; the watchdog is fed from this loop.
            watchdog = announce_ready(f"ready on port {self.port}",
                                      lambda: ["mqtt pump ended"] if pump.done() else [])
            await stop.wait()
            await stop_watchdog(watchdog)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            # A delivery in flight gets its timeout to finish; then it is cancelled (its lease
            # lapses and another worker, or this one after a restart, makes it).
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(watching, PUBLISH_WAIT_S + 5)
            if self._tasks:
                _, late = await asyncio.wait(self._tasks, timeout=10)
                for task in late:  # e.g. a birth still waiting for an unreachable store
                    task.cancel()
            await self.session.stop(final=[(hq_state(self.cfg.id),
                                            HqState(self.cfg.id, False, self.clock()).to_json(),
                                            1, True)])
        finally:
            await runner.cleanup()
            self.store.close()
            if self.pairing is not None:
                self.pairing.close()

    async def _pump(self) -> None:
        while True:
            ev = await self.session.events.get()
            if isinstance(ev, Connected):
                if line := self.link.connected(self.clock()):
                    log.info("%s", line)
                self._spawn(self._on_connected())
            elif isinstance(ev, Disconnected):
                if line := self.link.failed(ev.reason, self.clock()):
                    log.warning("%s", line)
            elif isinstance(ev, Message):
                self._spawn(self._on_message(ev))

    def _spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_connected(self) -> None:
        await self.session.publish(hq_state(self.cfg.id),
                                   HqState(self.cfg.id, True, self.clock()).to_json(), 1, True,
                                   wait_s=PUBLISH_WAIT_S)
        for attempt in range(PRESENCE_RETRIES + 1):
            try:
                sent = await self.dispatcher.redispatch()
                break
            except StoreUnavailableError as e:
                # Nothing else would send them before the box's next reconnection.
                if attempt == 0:
                    log.warning("store unavailable, jobs accepted while disconnected wait for "
                                "it: %s", e)
                if attempt == PRESENCE_RETRIES:
                    return
                await asyncio.sleep(PRESENCE_RETRY_S)
        if sent:
            log.info("dispatched %d print job(s) accepted while disconnected", sent)

    async def _on_message(self, msg: Message) -> None:
        for attempt in range(PRESENCE_RETRIES + 1):
            try:
                topic = parse_topic(msg.topic)
                box = topic.box_id
                async with self._locks[box], self._slots:
                    reply = await asyncio.to_thread(self._handle, topic.leaf, box, msg.payload)
                self.outage.succeeded()
                break
            except SyncError as e:
                self.counters.error("bad_message")
                key = msg.topic
                if key not in self._bad_boxes:
                    self._bad_boxes.add(key)
                    log.warning("ignoring a bad message on %s: %s", msg.topic, e)
                return
            except StoreUnavailableError as e:
                # A box sends its birth and its Will once; journal batches and events it sends
                # again until acknowledged. So presence waits for the store; the rest is dropped.
                if topic.leaf not in (Up.BIRTH, Up.DEATH) or attempt == PRESENCE_RETRIES:
                    self.counters.error("store_unavailable")
                    self.outage.failed(e)  # the box sends it again; logged once per outage
                    return
                if attempt == 0:
                    log.warning("store unavailable, %s kept until it is back: %s", msg.topic, e)
                await asyncio.sleep(PRESENCE_RETRY_S)
            except Exception:
                self.counters.error("failed")
                log.exception("handling %s failed", msg.topic)
                return
        else:
            return
        if reply is None:
            return
        if reply is REDELIVER:
            sent = await self.dispatcher.redeliver(box)
            if sent:
                log.info("box %s is online: %d unanswered job(s) sent again", box, sent)
            return
        leaf, payload = reply
        await self.session.publish(down(box, leaf), payload, 1, False, wait_s=PUBLISH_WAIT_S)

    def _handle(self, leaf: Up | Down, box: str, payload: bytes) -> tuple[Down, bytes] | None:
        """Blocking: decode, check the box named in the payload is the topic's, and apply."""
        if leaf is Up.JOURNAL:
            batch = JournalBatch.from_json(payload)
            _same_box(batch.box, box)
            done = self.ingest.ingest(batch)
            self.counters.journal(box, done.verified, done.stored,
                                  done.alarm.kind if done.alarm is not None else None,
                                  done.ack.status == "refused")
            return Down.JOURNAL_ACK, done.ack.to_json()
        if leaf is Up.EVENTS:
            events = EventsBatch.from_json(payload)
            _same_box(events.box, box)
            return Down.EVENTS_ACK, self.dispatcher.apply_events(events).to_json()
        if leaf is Up.BIRTH:
            if not payload:
                return None  # a retained birth being cleared
            birth = Birth.from_json(payload)
            _same_box(birth.box, box)
            verdict = self.registry.birth(birth)
            log.info("box %s birth bdseq %d: %s", box, birth.bdseq, verdict)
            if verdict == "online":
                return REDELIVER
        elif leaf is Up.DEATH:
            if not payload:
                return None
            death = Death.from_json(payload)
            _same_box(death.box, box)
            log.info("box %s death bdseq %d (%s): %s", box, death.bdseq, death.reason,
                     self.registry.death(death))
        elif leaf is Up.TELEMETRY:
            t = Telemetry.from_json(payload)
            _same_box(t.box, box)
            gap = self.registry.telemetry(t)
            if gap > 0:
                log.info("box %s: %d telemetry message(s) missed before seq %d", box, gap, t.seq)
        return None


def _same_box(named: str, topic_box: str) -> None:
    if named != topic_box:
        raise ProtocolError("box", f"payload names box {named} on box {topic_box}'s topic")
