"""The shell of alerts: a periodic task of each HQ worker that judges a snapshot of the fleet
and the books (hq.alerts.rules), applies the plan to the store, and delivers the outbox to MQTT
and the webhooks with retries and backoff. Deliveries are leased, so one worker makes each."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence

import aiohttp

from hq.alert_config import LATCHED, AlertConfig, Webhook
from hq.alerts.book import MQTT_TARGET, apply
from hq.alerts.messages import (
    backoff_ms,
    event_payload,
    robot_failure,
    webhook_body,
    webhook_url,
)
from hq.alerts.rules import Disagreement, OpenPeriod, Snapshot, conditions, judged_kinds, plan
from hq.config import StoreEntry
from hq.fleet.hq_link import HqLink, fleet_view
from hq.fleet.registry import Registry
from hq.settlement.book import SettlementBook
from hq.store import HqStore, StoreError
from hq.store.alerts import OutboxRow
from sync.protocol.topics import ROOT, check_box_id

log = logging.getLogger(__name__)
Publish = Callable[[str, bytes], Awaitable[bool]]
DUE_BATCH = 50
LEASE_MARGIN_MS = 30_000
DELIVERY_TICK_S = 1.0


def alerts_topic(hq_id: str) -> str:
    """`storelink/v1/hq/{hq}/alerts` (QoS 1, not retained; docs/protocol.md)."""
    return f"{ROOT}/hq/{check_box_id(hq_id, 'hq')}/alerts"


class AlertWatch:
    """One worker's alert rounds and deliveries."""

    def __init__(self, store: HqStore, cfg: AlertConfig, hq_id: str, registry: Registry,
                 link: HqLink | None, known_boxes: Callable[[], Sequence[str]],
                 stores: Mapping[str, StoreEntry], publish: Publish,
                 clock: Callable[[], int]) -> None:
        self.store = store
        self.cfg = cfg
        self.hq_id = hq_id
        self.registry = registry
        self.link = link
        self.known_boxes = known_boxes
        self.store_of = {b: s.id for s in stores.values() for b in s.boxes}
        self.store_names = {s.id: s.name for s in stores.values()}
        self.publish = publish
        self.clock = clock
        self.worker = uuid.uuid4().hex
        self.book = SettlementBook(store)
        self.hooks = {f"webhook:{h.name}": h for h in cfg.webhooks}

    def snapshot(self, now_ms: int) -> Snapshot:
        """What a round judges, read from the registry and the store (blocking)."""
        hq = self.link.snapshot() if self.link is not None else None
        ids = tuple(dict.fromkeys([*self.known_boxes(), *self.store_of]))
        boxes = fleet_view(self.registry.boxes(), ids, hq, now_ms)
        sizes, received, alarms = self.store.alert_marks()
        settlements = self.book.boxes(sizes)
        return Snapshot(
            boxes, hq is None or hq.state == "connected", alarms, sizes, received,
            [OpenPeriod(s.box, s.first_ms) for s in settlements
             if s.status == "open" and s.first_ms is not None],
            [Disagreement(s.box, s.z or 0, s.day, tuple(d.to_json() for d in s.differences))
             for s in settlements if s.status == "closed" and s.differences],
            self.store_of)

    def round(self) -> tuple[list[int], list[int]]:
        """Judge now and apply the plan (blocking); the ids this worker raised and cleared."""
        now = self.clock()
        snap = self.snapshot(now)
        judged = judged_kinds(snap, self.cfg)
        holding = conditions(snap, self.cfg, now)
        open_keys = {(a.kind, a.subject) for a in self.store.alerts_open()}
        ever = self.store.alert_keys(LATCHED & judged)
        return apply(self.store, self.cfg, plan(open_keys, ever, holding, judged), now)

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds every `interval_s` and deliveries every second until `stop` is set."""
        async with aiohttp.ClientSession(trust_env=False) as http:
            next_round = 0.0
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                if loop.time() >= next_round:
                    next_round = loop.time() + self.cfg.interval_s
                    await self._guarded("round", asyncio.to_thread(self.round))
                await self._guarded("delivery", self.deliver(http))
                wait = min(DELIVERY_TICK_S, self.cfg.interval_s,
                           max(0.05, next_round - loop.time()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), wait)

    async def _guarded(self, what: str, work: Awaitable[object]) -> None:
        try:
            await work
        except StoreError as e:
            log.warning("alerts: %s skipped, the store is unavailable: %s", what, e)
        except Exception:
            log.exception("alerts: %s failed", what)

    async def deliver(self, http: aiohttp.ClientSession) -> int:
        """Make the due deliveries this worker can lease, side by side (a slow webhook does not
        hold up the others); how many were made."""
        due = await asyncio.to_thread(self.store.outbox_due, self.clock(), DUE_BATCH)
        made = await asyncio.gather(*(self._deliver_one(http, row) for row in due))
        return sum(made)

    async def _deliver_one(self, http: aiohttp.ClientSession, row: OutboxRow) -> bool:
        hook = self.hooks.get(row.target)
        timeout_ms = int((hook.timeout_s if hook else 10.0) * 1000)
        now = self.clock()
        leased = await asyncio.to_thread(self.store.outbox_lease, row.id, self.worker, now,
                                         now + timeout_ms + LEASE_MARGIN_MS)
        if not leased:
            return False
        error = await self._attempt(http, row, hook)
        if error is None:
            return await asyncio.to_thread(self.store.outbox_done, row.id, self.worker,
                                           self.clock())
        attempts = row.attempts + 1
        later = (None if attempts >= self.cfg.max_attempts else
                 self.clock() + backoff_ms(attempts, self.cfg.backoff_s, self.cfg.backoff_max_s))
        log.warning("alerts: delivery of alert %d %s to %s failed (attempt %d%s): %s",
                    row.alert_id, row.event, row.target, attempts,
                    ", giving up" if later is None else "", error)
        await asyncio.to_thread(self.store.outbox_failed, row.id, self.worker, self.clock(),
                                later, error)
        return False

    async def _attempt(self, http: aiohttp.ClientSession, row: OutboxRow,
                       hook: Webhook | None) -> str | None:
        """One delivery attempt; why it failed, or None."""
        alert = await asyncio.to_thread(self.store.alert, row.alert_id)
        if alert is None:
            return "the alert is gone"
        if row.target == MQTT_TARGET:
            ok = await self.publish(alerts_topic(self.hq_id),
                                    event_payload(self.hq_id, row.event, alert))
            return None if ok else "the broker did not acknowledge the publish"
        if hook is None:
            return f"{row.target} is no longer configured"
        try:
            async with http.post(webhook_url(hook, self.clock()),
                                 data=webhook_body(hook, self.hq_id, row.event, alert,
                                                   self.store_names.get(alert.store, "")),
                                 headers={"Content-Type": "application/json; charset=utf-8"},
                                 allow_redirects=False,
                                 timeout=aiohttp.ClientTimeout(total=hook.timeout_s)) as answer:
                body = await answer.content.read(65536)
                return robot_failure(hook, answer.status, body)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            return f"{type(e).__name__}: {e}"
