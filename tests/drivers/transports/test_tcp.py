"""TCP transport against real sockets on 127.0.0.1; also write_chunks and query."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from drivers import InvalidInput
from drivers.transports.base import TransportError, chunk_bytes, query, write_chunks
from drivers.transports.open import open_transport
from drivers.transports.tcp import (
    KEEPALIVE_COUNT,
    KEEPALIVE_IDLE_S,
    KEEPALIVE_INTERVAL_S,
    TcpTarget,
    TcpTransport,
)
from tests.drivers.polling import DEADLINE_S, wait_for

DLE_EOT_1 = b"\x10\x04\x01"
RECEIPT = "门店：华强北旗舰店\n收银员：李娜\n合计：¥128.50\n谢谢惠顾\n".encode("gb18030")


class Peer:
    """A listening socket on 127.0.0.1 that runs `handler` on the one connection it accepts."""

    def __init__(self, handler: Callable[[socket.socket, Peer], None], rcvbuf: int = 0) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.received = bytearray()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.done = threading.Event()
        self._handler = handler
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not select.select([self.listener], [], [], 0.05)[0]:
            if self.stop.is_set():
                return
        conn, _ = self.listener.accept()
        try:
            self._handler(conn, self)
        finally:
            conn.close()
            self.done.set()

    def recv_into_buffer(self, conn: socket.socket) -> bytes:
        data = conn.recv(65536)
        with self.lock:
            self.received += data
        return data

    def got(self) -> bytes:
        with self.lock:
            return bytes(self.received)

    def target(self, **options: float) -> TcpTarget:
        return TcpTarget("127.0.0.1", self.port, **options)

    def close(self) -> None:
        self.stop.set()
        self._thread.join(DEADLINE_S)
        self.listener.close()


def collect(conn: socket.socket, peer: Peer) -> None:
    """Read everything until the client closes."""
    while peer.recv_into_buffer(conn):
        pass


def answer_status(conn: socket.socket, peer: Peer) -> None:
    """Read everything; answer 0x12 each time a DLE EOT has arrived."""
    while data := peer.recv_into_buffer(conn):
        if data.endswith(DLE_EOT_1):
            conn.sendall(b"\x12")


def hold(conn: socket.socket, peer: Peer) -> None:
    """Accept and never read (a printer out of paper with a full buffer)."""
    peer.stop.wait(DEADLINE_S)


@pytest.fixture
def peers() -> Iterator[Callable[..., Peer]]:
    made: list[Peer] = []

    def make(handler: Callable[[socket.socket, Peer], None], rcvbuf: int = 0) -> Peer:
        made.append(Peer(handler, rcvbuf))
        return made[-1]

    yield make
    for p in made:
        p.close()


def failure(target: TcpTarget) -> TransportError:
    with pytest.raises(TransportError) as info:
        open_transport(target)
    return info.value


def test_writes_a_chinese_receipt_and_queries_status(peers: Callable[..., Peer]) -> None:
    peer = peers(answer_status)
    t = open_transport(peer.target())
    assert t.description == f"tcp://127.0.0.1:{peer.port}"
    t.write(RECEIPT)
    assert query(t, DLE_EOT_1, 1, 5.0) == b"\x12"
    t.close()
    assert peer.done.wait(DEADLINE_S)
    assert peer.got() == RECEIPT + DLE_EOT_1


def test_keepalive_nodelay_and_user_timeout_are_set(peers: Callable[..., Peer]) -> None:
    peer = peers(collect)
    t = TcpTransport(peer.target(write_timeout=7.5))
    t.open()
    sock = t.socket
    assert sock is not None
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == KEEPALIVE_IDLE_S
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == KEEPALIVE_INTERVAL_S
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == KEEPALIVE_COUNT
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 7500
    finally:
        t.close()


def test_query_discards_bytes_that_were_waiting(peers: Callable[..., Peer]) -> None:
    def stale_then_answer(conn: socket.socket, peer: Peer) -> None:
        conn.sendall(b"\x99\x99\x99")  # e.g. the answer to a query that timed out
        while data := peer.recv_into_buffer(conn):
            if data.endswith(DLE_EOT_1):
                conn.sendall(b"\x16")

    peer = peers(stale_then_answer)
    t = TcpTransport(peer.target())
    t.open()
    sock = t.socket
    assert sock is not None
    wait_for(lambda: bool(select.select([sock], [], [], 0)[0]))
    assert query(t, DLE_EOT_1, 1, 5.0) == b"\x16"
    t.close()


def test_query_returns_none_when_nothing_answers(peers: Callable[..., Peer]) -> None:
    peer = peers(collect)
    t = open_transport(peer.target())
    assert query(t, DLE_EOT_1, 1, 0.2) is None
    assert t.read(16, 0.0) == b""
    t.close()
    assert peer.done.wait(DEADLINE_S)
    assert peer.got() == DLE_EOT_1


def test_a_refused_connection_is_unreachable() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # bound, never listening: the kernel answers RST
    err = failure(TcpTarget("127.0.0.1", port))
    assert err.reason == "unreachable"
    assert f"127.0.0.1:{port}" in err.message


def test_a_connect_that_gets_no_answer_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    addr = listener.getsockname()
    fillers = []
    try:
        # Once the accept queue is full the kernel drops further SYNs: nobody answers.
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(addr)
            fillers.append(s)
        err = failure(TcpTarget("127.0.0.1", addr[1], connect_timeout=0.3))
        assert err.reason == "timeout"
    finally:
        for s in fillers:
            s.close()
        listener.close()


def test_the_printer_closing_mid_job_is_a_disconnect(peers: Callable[..., Peer]) -> None:
    def read_a_little_then_close(conn: socket.socket, peer: Peer) -> None:
        peer.recv_into_buffer(conn)

    peer = peers(read_a_little_then_close)
    t = open_transport(peer.target())
    t.write(RECEIPT)
    assert peer.done.wait(DEADLINE_S)
    with pytest.raises(TransportError) as info:
        for _ in range(10_000):
            t.write(RECEIPT * 1000)
    assert info.value.reason == "disconnected"
    with pytest.raises(TransportError) as info:
        t.write(b"x")
    assert info.value.reason == "disconnected"  # closed after the failure


def test_a_printer_that_stops_reading_times_out_the_write(peers: Callable[..., Peer]) -> None:
    peer = peers(hold, rcvbuf=4096)
    t = open_transport(peer.target(write_timeout=0.3))
    with pytest.raises(TransportError) as info:
        t.write(bytes(32 * 1024 * 1024))  # far more than both socket buffers hold
    assert info.value.reason == "timeout"
    t.close()


def test_the_printer_hanging_up_is_seen_by_read(peers: Callable[..., Peer]) -> None:
    peer = peers(lambda conn, peer: None)
    t = open_transport(peer.target())
    assert peer.done.wait(DEADLINE_S)
    with pytest.raises(TransportError) as info:
        t.read(1, DEADLINE_S)
    assert info.value.reason == "disconnected"
    t.close()
    t.close()


def test_write_chunks_pauses_between_chunks_only(peers: Callable[..., Peer]) -> None:
    peer = peers(collect)
    t = open_transport(peer.target())
    chunks = chunk_bytes(RECEIPT * 3, 40)
    assert len(chunks) > 3
    seen_at_pause: list[int] = []
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        sent = len(b"".join(chunks[: len(pauses)]))
        wait_for(lambda: len(peer.got()) >= sent)
        seen_at_pause.append(len(peer.got()))

    write_chunks(t, chunks, 0.05, sleep=sleep)
    t.close()
    assert peer.done.wait(DEADLINE_S)
    assert peer.got() == RECEIPT * 3
    assert pauses == [0.05] * (len(chunks) - 1)
    # At each pause the printer had exactly the chunks before it, nothing of the next one.
    assert seen_at_pause == [len(b"".join(chunks[: i + 1])) for i in range(len(chunks) - 1)]


def test_write_chunks_without_pause_never_sleeps(peers: Callable[..., Peer]) -> None:
    peer = peers(collect)
    t = open_transport(peer.target())
    calls: list[float] = []
    write_chunks(t, [b"a", b"", b"b"], 0.0, sleep=calls.append)
    write_chunks(t, [b"", b"c"], 1.0, sleep=calls.append)
    t.close()
    assert peer.done.wait(DEADLINE_S)
    assert peer.got() == b"abc"
    assert calls == []


def test_helpers_reject_bad_arguments(peers: Callable[..., Peer]) -> None:
    peer = peers(collect)
    t = open_transport(peer.target())
    with pytest.raises(InvalidInput):
        query(t, DLE_EOT_1, 0, 1.0)
    with pytest.raises(InvalidInput):
        write_chunks(t, [b"x"], -1.0)
    with pytest.raises(InvalidInput):
        chunk_bytes(b"x", 0)
    t.close()


def test_target_validation_and_description() -> None:
    with pytest.raises(InvalidInput) as info:
        TcpTarget("192.168.1.50", 0)
    assert info.value.field == "port"
    with pytest.raises(InvalidInput) as info:
        TcpTarget("")
    assert info.value.field == "host"
    assert TcpTransport(TcpTarget("192.168.1.50")).description == "tcp://192.168.1.50:9100"
    assert TcpTransport(TcpTarget("fe80::1", 9101)).description == "tcp://[fe80::1]:9101"
    with pytest.raises(TransportError) as err:
        TcpTransport(TcpTarget("192.168.1.50")).write(b"x")
    assert err.value.reason == "disconnected"
