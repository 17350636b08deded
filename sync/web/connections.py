"""Bounded connections for the box's local API and HQ's API: a cap, a deadline for each
request head, a cap on event subscribers, and accept errors logged once per interval.

Without these, a thousand half-sent requests or idle WebSockets hold every file descriptor and
/v1/health stops answering. A connection that has not sent a complete request head within
`header_timeout_s` (or idles that long between requests) is closed. At the cap, the oldest
connection that is not inside a request is dropped to make room; if every connection is busy,
the newcomer gets a 503 with a JSON reason and is closed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)

ACCEPT_LOG_INTERVAL_S = 60.0


def _canned_503(reason: str) -> bytes:
    body = json.dumps({"error": {"field": None, "reason": reason}}, ensure_ascii=False).encode()
    head = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8"
            f"\r\nContent-Length: {len(body)}\r\nRetry-After: 5\r\nConnection: close\r\n\r\n")
    return head.encode() + body


FULL = _canned_503("too many connections to this box; try again in a few seconds")


@dataclass
class _Conn:
    transport: asyncio.Transport
    opened: float
    busy: int = 0
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class ConnectionGuard:
    """The open connections of one server and the rules above."""

    def __init__(self, max_connections: int, max_websockets: int, header_timeout_s: float
                 ) -> None:
        self.max_connections = max_connections
        self.max_websockets = max_websockets
        self.header_timeout_s = header_timeout_s
        self.websockets = 0
        self.refused = 0
        self.dropped = 0
        self._conns: dict[asyncio.BaseTransport, _Conn] = {}

    @property
    def open(self) -> int:
        """Connections now open."""
        return len(self._conns)

    def factory(self, inner: Callable[[], asyncio.BaseProtocol]
                ) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for `loop.create_server` wrapping aiohttp's."""
        return lambda: _Guarded(self, inner)

    def admit(self, transport: asyncio.Transport) -> bool:
        """Count a new connection, making room if needed; False if it must be refused."""
        if len(self._conns) >= self.max_connections:
            idle = [c for c in self._conns.values() if not c.busy]
            if not idle:
                self.refused += 1
                return False
            oldest = min(idle, key=lambda c: c.opened)
            self.dropped += 1
            self._forget(oldest.transport)
            oldest.transport.abort()
        conn = _Conn(transport, time.monotonic())
        self._conns[transport] = conn
        self._arm(conn)
        return True

    def _arm(self, conn: _Conn) -> None:
        if conn.timer is not None:
            conn.timer.cancel()
        loop = asyncio.get_running_loop()
        conn.timer = loop.call_later(self.header_timeout_s, self._expire, conn.transport)

    def _expire(self, transport: asyncio.BaseTransport) -> None:
        conn = self._conns.get(transport)
        if conn is not None and not conn.busy:
            self._forget(transport)
            conn.transport.abort()

    def _forget(self, transport: asyncio.BaseTransport) -> None:
        conn = self._conns.pop(transport, None)
        if conn is not None and conn.timer is not None:
            conn.timer.cancel()

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        """A request head arrived: no deadline while it is handled."""
        conn = self._conns.get(transport) if transport is not None else None
        if conn is not None:
            conn.busy += 1
            if conn.timer is not None:
                conn.timer.cancel()
                conn.timer = None

    def request_done(self, transport: asyncio.BaseTransport | None) -> None:
        """The answer is out: the next request head must come within the deadline."""
        conn = self._conns.get(transport) if transport is not None else None
        if conn is not None:
            conn.busy = max(0, conn.busy - 1)
            if not conn.busy:
                self._arm(conn)

    def closed(self, transport: asyncio.BaseTransport) -> None:
        """The connection is gone."""
        self._forget(transport)


class _Guarded(asyncio.Protocol):
    """aiohttp's request handler behind the guard's admission and deadlines."""

    def __init__(self, guard: ConnectionGuard, inner: Callable[[], asyncio.BaseProtocol]
                 ) -> None:
        self.guard = guard
        self.make_inner = inner
        self.inner: Any = None
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not isinstance(transport, asyncio.Transport):
            transport.close()
            return
        if not self.guard.admit(transport):
            transport.write(FULL)
            transport.close()
            return
        self.transport = transport
        self.inner = self.make_inner()
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.inner is not None:
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.guard.closed(self.transport)
        if self.inner is not None:
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()


GUARD = web.AppKey("connection_guard", ConnectionGuard)


@web.middleware
async def busy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Mark the connection busy while a request is handled (no head deadline meanwhile)."""
    guard = request.app.get(GUARD)
    if guard is None:
        return await handler(request)
    transport = request.transport
    guard.request_started(transport)
    try:
        return await handler(request)
    finally:
        guard.request_done(transport)


class GuardedSite(web.TCPSite):
    """A TCP site whose connections pass through `guard`."""

    def __init__(self, runner: web.AppRunner, host: str, port: int, guard: ConnectionGuard
                 ) -> None:
        super().__init__(runner, host, port, reuse_address=True, backlog=128)
        self.guard = guard

    async def start(self) -> None:
        """Listen, as TCPSite does, with the guarded protocol factory."""
        await web.BaseSite.start(self)
        server = self._runner.server
        if server is None:
            raise RuntimeError("call runner.setup() first")
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self.guard.factory(server), self._host,
                                                self._port, backlog=self._backlog,
                                                reuse_address=True)
        self._bound_port = (self._server.sockets[0].getsockname()[1] if self._server.sockets
                            else self._port)


def websocket_slot(request: web.Request) -> Callable[[], None] | None:
    """Take an event-subscriber slot: the function that gives it back, or None when all are
    taken."""
    guard = request.app.get(GUARD)
    if guard is None:
        return lambda: None
    if guard.websockets >= guard.max_websockets:
        return None
    guard.websockets += 1
    done = False

    def release() -> None:
        nonlocal done
        if not done:
            done = True
            guard.websockets -= 1

    return release


class AcceptErrorLog:
    """The event loop's exception handler: an accept error such as "Too many open files" is
    logged once per interval with how many were left out; anything else as before."""

    def __init__(self, interval_s: float = ACCEPT_LOG_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.suppressed = 0
        self._last: float | None = None

    def should_log(self) -> bool:
        """Whether this accept error is logged (pure bookkeeping on `clock`)."""
        now = self.clock()
        if self._last is not None and now - self._last < self.interval_s:
            self.suppressed += 1
            return False
        self._last = now
        return True

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        message = str(context.get("message", ""))
        if isinstance(exc, OSError) and ("accept" in message or "socket" in message):
            if self.should_log():
                left_out, self.suppressed = self.suppressed, 0
                log.error("cannot accept connections: %s (%d more such errors left out of the "
                          "log)", exc, left_out)
            return
        loop.default_exception_handler(context)


def install_accept_log(loop: asyncio.AbstractEventLoop) -> AcceptErrorLog:
    """Rate-limit accept errors on `loop`."""
    handler = AcceptErrorLog()
    loop.set_exception_handler(handler)
    return handler

