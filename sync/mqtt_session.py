"""An MQTT v5 session for asyncio code: paho-mqtt 2.x driven by one network thread of ours.

- Fixed client id, `clean_start=False` and a session expiry, so what the broker queued while
  the client was away is delivered when it returns (paho's default cleans on every restart).
- The Will is asked of `will_factory` before every connect, so each session carries its own
  counter (the birth/death `bdseq`).
- Reconnects with jittered exponential backoff; a dead link is noticed by keep-alive.
- Inbound messages and connection changes arrive in order on `events` (an asyncio.Queue fed
  with `loop.call_soon_threadsafe`). With `manual_ack`, a QoS 1 message is PUBACKed only when
  the application calls `ack()` after committing it, and only on the connection it came on.
- `publish()` waits for the PUBACK with a timeout and never blocks the event loop; nothing is
  published or awaited inside paho's callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import random
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.client import _socketpair_compat
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from sync.backoff import backoff_delay
from sync.latency_trace import mark

log = logging.getLogger(__name__)
LOOP_TICK_S = 0.05


@dataclass(frozen=True)
class Will:
    """The message the broker publishes if the connection dies without a clean DISCONNECT."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True)
class SessionConfig:
    """How to reach the broker and what session to keep there."""

    host: str
    port: int
    client_id: str
    clean_start: bool = False
    session_expiry_s: int = 7 * 86_400
    keepalive_s: int = 20
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0
    connect_timeout_s: float = 10.0
    manual_ack: bool = False
    subscriptions: tuple[tuple[str, int], ...] = ()
    max_inflight: int = 20
    max_queued: int = 1000


@dataclass(frozen=True)
class Connected:
    """The broker accepted the connection (`generation` counts connections of this session)."""

    session_present: bool
    generation: int


@dataclass(frozen=True)
class Subscribed:
    """The broker acknowledged the session's subscriptions (SUBACK) on connection `generation`."""

    generation: int
    refused: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disconnected:
    """The connection ended or could not be made."""

    reason: str
    generation: int


@dataclass(frozen=True)
class Message:
    """One inbound PUBLISH; with manual_ack, pass it to `ack()` once it is committed."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    generation: int


SessionEvent = Connected | Subscribed | Disconnected | Message


class MqttSession:
    """One broker connection kept alive by a network thread; use from one asyncio loop."""

    def __init__(self, config: SessionConfig, will_factory: Callable[[], Will | None] | None = None,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.events: asyncio.Queue[SessionEvent] = asyncio.Queue()
        self._will_factory = will_factory
        self._rng = rng or random.Random()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._acks: queue.SimpleQueue[tuple[int, int, int]] = queue.SimpleQueue()
        self._waiters: dict[int, asyncio.Future[bool]] = {}
        self._generation = 0
        self._connected = False
        self._refused: str | None = None
        self._warned = False
        self._client = self._make_client()

    def _make_client(self) -> mqtt.Client:
        cfg = self.config
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=cfg.client_id,
                        protocol=mqtt.MQTTv5, manual_ack=cfg.manual_ack)
        c.connect_timeout = cfg.connect_timeout_s
        c.max_inflight_messages_set(cfg.max_inflight)
        c.max_queued_messages_set(cfg.max_queued)
        if cfg.username is not None:
            c.username_pw_set(cfg.username, cfg.password)
        if cfg.tls_ca or cfg.tls_cert:
            c.tls_set(ca_certs=cfg.tls_ca, certfile=cfg.tls_cert, keyfile=cfg.tls_key)
        c.on_connect = self._on_connect
        c.on_subscribe = self._on_subscribe
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_publish = self._on_publish
        c.on_socket_open = _no_delay
        # Writes happen only on our network thread: publish() from the loop thread queues the
        # packet and wakes select() instead of writing the socket concurrently.
        c.on_socket_register_write = lambda *_: None
        return c

    @property
    def connected(self) -> bool:
        """True while the broker has accepted the current connection."""
        return self._connected

    @property
    def no_delay(self) -> bool | None:
        """Whether the current connection's socket sends each packet as it is written
        (TCP_NODELAY, see _no_delay); None while there is no socket."""
        getsockopt = getattr(self._client.socket(), "getsockopt", None)
        if getsockopt is None:
            return None
        try:
            return bool(getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        except OSError:
            return None

    async def start(self) -> None:
        """Start connecting in the background; progress arrives on `events`."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"mqtt-{self.config.client_id}",
                                        daemon=True)
        self._thread.start()

    async def stop(self, final: list[tuple[str, bytes, int, bool]] | None = None,
                   wait_s: float = 5.0) -> None:
        """Publish `final` messages (topic, payload, qos, retain) if connected, then DISCONNECT
        cleanly (so the Will is not sent) and end the network thread."""
        for topic, payload, qos, retain in final or []:
            await self.publish(topic, payload, qos, retain, wait_s=wait_s)
        self._stop.set()
        with contextlib.suppress(Exception):
            self._client.disconnect()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, wait_s)
            self._thread = None
        for fut in self._waiters.values():
            if not fut.done():
                fut.set_result(False)
        self._waiters.clear()

    def abort(self) -> None:
        """Drop the connection without DISCONNECT (the broker will publish the Will)."""
        self._stop.set()
        sock = self._client.socket()
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()

    async def wait_connected(self, wait_s: float) -> bool:
        """Poll until connected or `wait_s` seconds pass."""
        deadline = asyncio.get_running_loop().time() + wait_s
        while not self._connected:
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False,
                      wait_s: float = 10.0, expiry_s: int | None = None) -> bool:
        """Publish; for QoS 1 wait up to `wait_s` for the PUBACK. False when not connected, not
        accepted or not acknowledged in time — the message may still arrive (MQTT resends it)."""
        if not self._connected:
            return False
        props = None
        if expiry_s is not None:
            props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            props.MessageExpiryInterval = max(1, expiry_s)
        mark("mqtt.publish")
        info = self._client.publish(topic, payload, qos, retain, props)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False
        if qos == 0:
            return True
        # on_publish reaches this loop through call_soon_threadsafe, so it always runs after
        # the waiter below is registered, even when the PUBACK came back first.
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters[info.mid] = fut
        try:
            return await asyncio.wait_for(asyncio.shield(fut), wait_s)
        except TimeoutError:
            return False
        finally:
            self._waiters.pop(info.mid, None)

    def ack(self, msg: Message) -> None:
        """PUBACK `msg` (manual_ack): sent by the network thread, and only if the connection it
        arrived on is still the current one — otherwise the broker redelivers it."""
        if msg.qos > 0 and self.config.manual_ack:
            self._acks.put((msg.generation, msg.mid, msg.qos))

    # --- network thread -------------------------------------------------------------------

    def _emit(self, ev: SessionEvent) -> None:
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.events.put_nowait, ev)

    def _run(self) -> None:
        attempt = 0
        cfg = self.config
        while not self._stop.is_set():
            ok = self._connect_once()
            if ok:
                attempt = 0
            if self._stop.is_set():
                break
            delay = backoff_delay(attempt, cfg.reconnect_min_s, cfg.reconnect_max_s,
                                  self._rng.random())
            attempt += 1
            self._stop.wait(delay)

    def _connect_once(self) -> bool:
        """One connection: connect, run until it ends. True if the broker accepted it."""
        cfg, c = self.config, self._client
        will = self._will_factory() if self._will_factory else None
        if will is not None:
            c.will_set(will.topic, will.payload, will.qos, will.retain)
        else:
            c.will_clear()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = cfg.session_expiry_s
        self._refused = None
        try:
            c.connect(cfg.host, cfg.port, cfg.keepalive_s, clean_start=cfg.clean_start,
                      properties=props)
        except (OSError, ValueError) as e:
            self._emit(Disconnected(f"connect failed: {e}", self._generation))
            return False
        accepted = False
        while not self._stop.is_set():
            rc = loop_once(c, LOOP_TICK_S)
            accepted = accepted or self._connected
            if rc != mqtt.MQTT_ERR_SUCCESS or self._refused is not None:
                break
            self._drain_acks()
        if self._stop.is_set():
            with contextlib.suppress(Exception):
                c.disconnect()
                for _ in range(20):
                    if loop_once(c, LOOP_TICK_S) != mqtt.MQTT_ERR_SUCCESS:
                        break
        if self._refused is not None:
            with contextlib.suppress(Exception):
                c.disconnect()
        self._lost("connection lost")
        return accepted

    def _drain_acks(self) -> None:
        while True:
            try:
                gen, mid, qos = self._acks.get_nowait()
            except queue.Empty:
                return
            if gen == self._generation and self._connected:
                self._client.ack(mid, qos)

    def _lost(self, reason: str) -> None:
        if self._connected:
            self._connected = False
            self._emit(Disconnected(reason, self._generation))
        elif self._refused:
            self._emit(Disconnected(self._refused, self._generation))
            self._refused = ""  # reported once per attempt

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: mqtt.ConnectFlags,
                    rc: Any, _p: Any) -> None:
        if rc.is_failure:
            self._refused = f"refused by broker: {rc}"
            if not self._warned:
                self._warned = True
                log.warning("mqtt %s: %s", self.config.client_id, self._refused)
            return
        self._warned = False
        self._generation += 1
        self._connected = True
        if self.config.subscriptions:
            client.subscribe([(t, SubscribeOptions(qos=q)) for t, q in self.config.subscriptions])
        self._emit(Connected(bool(flags.session_present), self._generation))

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, codes: list[Any],
                      _p: Any) -> None:
        refused = tuple(t for (t, _q), rc in zip(self.config.subscriptions, codes, strict=False)
                        if rc.is_failure)
        if refused:
            log.warning("mqtt %s: subscriptions refused: %s", self.config.client_id,
                        ", ".join(refused))
        self._emit(Subscribed(self._generation, refused))

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self._lost(f"disconnected: {rc}")

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        mark("mqtt.message")
        self._emit(Message(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain), msg.mid,
                           self._generation))

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, rc: Any, _p: Any) -> None:
        mark("mqtt.puback")
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._resolve, mid, not rc.is_failure)

    def _resolve(self, mid: int, ok: bool) -> None:
        fut = self._waiters.get(mid)
        if fut is not None and not fut.done():
            fut.set_result(ok)


def _no_delay(_c: mqtt.Client, _u: Any, sock: Any) -> None:
    """Every packet goes out when it is written (TCP_NODELAY). With Nagle's algorithm a small
    packet written while an earlier one is unacknowledged (a PUBACK after a PUBLISH, a job
    after an events ack) waits for the peer's delayed ACK, up to 40 ms on Linux."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def loop_once(c: mqtt.Client, timeout_s: float) -> MQTTErrorCode:
    """One turn of paho's `loop()`, waiting with poll() instead of select(): select() fails on
    a descriptor numbered 1024 or more, which a process holding many files or sessions (the
    fleet simulator, a busy box) reaches — paho then reports the connection lost at once."""
    sock = c.socket()
    if sock is None:
        return mqtt.MQTT_ERR_NO_CONN
    pending = sock.pending() if hasattr(sock, "pending") else 0
    # paho wakes its loop through this socket pair when another thread queues a packet; its
    # loop() makes the pair (connecting closes it), so this stand-in must make it too.
    if c._sockpairR is None or c._sockpairW is None:
        c._reset_sockets(sockpair_only=True)
        c._sockpairR, c._sockpairW = _socketpair_compat()
    wake: socket.socket | None = c._sockpairR
    poller = select.poll()
    try:
        poller.register(sock, select.POLLIN | (select.POLLOUT if c.want_write() else 0))
        if wake is not None:
            poller.register(wake, select.POLLIN)
        ready = dict(poller.poll(0 if pending > 0 else int(timeout_s * 1000)))
    except (OSError, ValueError, TypeError):
        return mqtt.MQTT_ERR_CONN_LOST
    fd = sock.fileno()
    if ready.get(fd, 0) & (select.POLLIN | select.POLLERR | select.POLLHUP) or pending > 0:
        rc = c.loop_read()
        if rc or c.socket() is None:
            return rc
    woken = wake is not None and ready.get(wake.fileno(), 0) & select.POLLIN
    if woken:
        with contextlib.suppress(BlockingIOError):
            assert wake is not None
            wake.recv(10000)
    if woken or ready.get(fd, 0) & select.POLLOUT:
        rc = c.loop_write()
        mark("mqtt.written")
        if rc or c.socket() is None:
            return rc
    return c.loop_misc()
