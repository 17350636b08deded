"""An MQTT v5 session for asyncio code: paho-mqtt 2.x driven by the event loop itself.

- Fixed client id, `clean_start=False` and a session expiry, so what the broker queued while
  the client was away is delivered when it returns (paho's default cleans on every restart).
- The Will is asked of `will_factory` before every connect, so each session carries its own
  counter (the birth/death `bdseq`).
- Reconnects with jittered exponential backoff; a dead link is noticed by keep-alive.
- paho's socket is watched by the event loop (paho's external-loop callbacks): a packet is
  read, handed to the application and acknowledged on the loop's own thread, and written from
  it — no hand-over between threads per message. Only the blocking connect (name lookup, TCP
  and TLS handshakes) and the Will factory run on a short-lived thread.
- Inbound messages and connection changes arrive in order on `events` (an asyncio.Queue).
  With `manual_ack`, a QoS 1 message is PUBACKed only when the application calls `ack()`
  after committing it, and only on the connection it came on.
- `publish()` waits for the PUBACK with a timeout and never blocks the event loop; nothing is
  published or awaited inside paho's callbacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from sync.backoff import backoff_delay
from sync.latency_trace import mark
from sync.mqtt_events import (
    Connected,
    Disconnected,
    Message,
    SessionConfig,
    SessionEvent,
    Subscribed,
    Will,
)

__all__ = ["Connected", "Disconnected", "Message", "MqttSession", "SessionConfig",
           "SessionEvent", "Subscribed", "Will"]

log = logging.getLogger(__name__)
MISC_TICK_S = 1.0
"""How often paho's keep-alive bookkeeping runs (PINGREQ due, a silent link given up)."""
OK = mqtt.MQTT_ERR_SUCCESS


class MqttSession:
    """One broker connection kept alive by a task of the asyncio loop it is started on; use it
    from that loop only."""

    def __init__(self, config: SessionConfig, will_factory: Callable[[], Will | None] | None = None,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.events: asyncio.Queue[SessionEvent] = asyncio.Queue()
        self._will_factory = will_factory
        self._rng = rng or random.Random()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._wake = asyncio.Event()
        self._ended: asyncio.Future[None] | None = None
        self._watched: Any = None  # the socket the loop reads, while a connection is up
        self._writer_on = False
        self._write_due = False
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
        c.on_socket_close = self._on_socket_close
        c.on_socket_register_write = self._on_register_write
        c.on_socket_unregister_write = self._on_unregister_write
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
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name=f"mqtt-{self.config.client_id}")

    async def stop(self, final: list[tuple[str, bytes, int, bool]] | None = None,
                   wait_s: float = 5.0) -> None:
        """Publish `final` messages (topic, payload, qos, retain) if connected, then DISCONNECT
        cleanly (so the Will is not sent) and end the session's task."""
        for topic, payload, qos, retain in final or []:
            await self.publish(topic, payload, qos, retain, wait_s=wait_s)
        self._stopping = True
        self._wake.set()
        if self._watched is not None:
            # Written by the loop like any packet; paho closes the socket once it is out.
            with contextlib.suppress(Exception):
                self._client.disconnect()
        task, self._task = self._task, None
        if task is not None:
            done, _ = await asyncio.wait([task], timeout=wait_s)
            if not done:
                self._close_socket()
                task.cancel()
                await asyncio.wait([task], timeout=1.0)
        for fut in self._waiters.values():
            if not fut.done():
                fut.set_result(False)
        self._waiters.clear()

    def abort(self) -> None:
        """Drop the connection without DISCONNECT (the broker will publish the Will)."""
        self._stopping = True
        self._wake.set()
        self._close_socket()

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
        if info.rc != OK:
            return False
        self._write_now()
        if qos == 0:
            return True
        # Its PUBACK is read on a later turn of this loop, after the waiter below is registered.
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters[info.mid] = fut
        try:
            return await asyncio.wait_for(asyncio.shield(fut), wait_s)
        except TimeoutError:
            return False
        finally:
            self._waiters.pop(info.mid, None)

    def ack(self, msg: Message) -> None:
        """PUBACK `msg` (manual_ack), only if the connection it arrived on is still the current
        one — otherwise the broker redelivers it."""
        if (msg.qos > 0 and self.config.manual_ack and self._connected
                and msg.generation == self._generation):
            self._client.ack(msg.mid, msg.qos)
            self._write_now()

    # --- one connection -------------------------------------------------------------------

    def _emit(self, ev: SessionEvent) -> None:
        self.events.put_nowait(ev)

    async def _run(self) -> None:
        attempt = 0
        cfg = self.config
        while not self._stopping:
            if await self._connect_once():
                attempt = 0
            if self._stopping:
                break
            delay = backoff_delay(attempt, cfg.reconnect_min_s, cfg.reconnect_max_s,
                                  self._rng.random())
            attempt += 1
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def _connect_once(self) -> bool:
        """One connection: connect, run until it ends. True if the broker accepted it."""
        self._refused = None
        generation = self._generation
        try:
            await self._off_loop(self._open)
        except Exception as e:  # name lookup, refused, TLS, timeout: try again later
            self._emit(Disconnected(f"connect failed: {e}", self._generation))
            return False
        loop = asyncio.get_running_loop()
        self._watched = sock = self._client.socket()
        if sock is None:
            self._watched = None
            self._emit(Disconnected("connect failed: no socket", self._generation))
            return False
        self._ended = loop.create_future()
        loop.add_reader(sock, self._on_readable)
        self._write_soon()  # CONNECT was queued on the connecting thread
        if self._stopping:
            with contextlib.suppress(Exception):
                self._client.disconnect()
        misc = asyncio.create_task(self._misc())
        try:
            await self._ended
        finally:
            misc.cancel()
            self._close_socket()
            self._lost("connection lost")
        return self._generation != generation

    def _open(self) -> None:
        """Blocking, on a thread: ask the Will, open the socket (TCP, TLS), queue CONNECT."""
        cfg, c = self.config, self._client
        will = self._will_factory() if self._will_factory else None
        if will is not None:
            c.will_set(will.topic, will.payload, will.qos, will.retain)
        else:
            c.will_clear()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = cfg.session_expiry_s
        c.connect(cfg.host, cfg.port, cfg.keepalive_s, clean_start=cfg.clean_start,
                  properties=props)

    async def _off_loop(self, fn: Callable[[], None]) -> None:
        """Run `fn` on a daemon thread (a stuck connect must not hold up the process's exit);
        if the wait is cancelled, whatever socket it opens is closed when it returns."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def settle(err: BaseException | None) -> None:
            if fut.done():
                return
            if err is None:
                fut.set_result(None)
            else:
                fut.set_exception(err)

        def run() -> None:
            err: BaseException | None = None
            try:
                fn()
            except BaseException as e:
                err = e
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(settle, err)

        threading.Thread(target=run, name=f"mqtt-connect-{self.config.client_id}",
                         daemon=True).start()
        try:
            await asyncio.shield(fut)
        except asyncio.CancelledError:
            fut.add_done_callback(lambda _f: self._close_socket())
            raise

    async def _misc(self) -> None:
        while True:
            await asyncio.sleep(MISC_TICK_S)
            if self._client.loop_misc() != OK:
                self._close_socket()
                return

    def _on_readable(self) -> None:
        c = self._client
        rc = c.loop_read()
        sock = c.socket()
        # TLS may hold decrypted bytes the kernel no longer reports readable.
        while rc == OK and sock is not None and getattr(sock, "pending", lambda: 0)() > 0:
            rc = c.loop_read()
        if rc != OK or self._refused is not None:
            self._close_socket()

    def _write_soon(self) -> None:
        # paho asks from inside its own calls (with its locks held): write on the next turn,
        # or at once when the caller is ours (_write_now).
        if not self._write_due and self._loop is not None:
            self._write_due = True
            self._loop.call_soon(self._write_now)

    def _write_now(self) -> None:
        if self._write_due:
            self._write()

    def _write(self) -> None:
        """Write what paho queued; wait for the socket to drain only when the kernel's buffer
        is full (paho then keeps the rest queued)."""
        self._write_due = False
        sock = self._watched
        if sock is None:
            return
        queued = self._client.want_write()
        rc = self._client.loop_write()  # always: paho forgets it asked us to write only here
        if queued:
            mark("mqtt.written")
        if rc != OK:
            self._close_socket()
        elif self._client.want_write() and not self._writer_on and self._watched is sock:
            assert self._loop is not None
            self._loop.add_writer(sock, self._write)
            self._writer_on = True

    def _on_register_write(self, _c: mqtt.Client, _u: Any, _sock: Any) -> None:
        # Called on the connecting thread too, for CONNECT: _connect_once writes that one.
        if self._watched is not None:
            self._write_soon()

    def _on_unregister_write(self, _c: mqtt.Client, _u: Any, _sock: Any) -> None:
        if self._writer_on and self._loop is not None and self._watched is not None:
            self._loop.remove_writer(self._watched)
        self._writer_on = False

    def _on_socket_close(self, _c: mqtt.Client, _u: Any, sock: Any) -> None:
        if sock is self._watched:
            self._unwatch()

    def _unwatch(self) -> None:
        sock, self._watched = self._watched, None
        if sock is not None and self._loop is not None:
            self._loop.remove_reader(sock)
            if self._writer_on:
                self._loop.remove_writer(sock)
        self._writer_on = False
        if self._ended is not None and not self._ended.done():
            self._ended.set_result(None)

    def _close_socket(self) -> None:
        """End the current connection without DISCONNECT."""
        self._unwatch()
        with contextlib.suppress(Exception):
            self._client._sock_close()

    def _lost(self, reason: str) -> None:
        if self._connected:
            self._connected = False
            self._emit(Disconnected(reason, self._generation))
        elif self._refused:
            self._emit(Disconnected(self._refused, self._generation))
            self._refused = ""  # reported once per attempt

    # --- paho's callbacks, on the loop's thread ---------------------------------------------

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
        fut = self._waiters.get(mid)
        if fut is not None and not fut.done():
            fut.set_result(not rc.is_failure)


def _no_delay(_c: mqtt.Client, _u: Any, sock: Any) -> None:
    """Every packet goes out when it is written (TCP_NODELAY). With Nagle's algorithm a small
    packet written while an earlier one is unacknowledged (a PUBACK after a PUBLISH, a job
    after an events ack) waits for the peer's delayed ACK, up to 40 ms on Linux."""
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
