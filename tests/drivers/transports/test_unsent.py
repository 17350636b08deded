"""How many written bytes a printer has not taken yet (TCP), and what silence means then."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from drivers.printer_state import BUSY, OFFLINE, silence
from drivers.transports.base import unsent_bytes
from drivers.transports.file import FileTarget, FileTransport
from drivers.transports.tcp import TcpTarget, TcpTransport


def test_silence_is_busy_only_while_the_printer_takes_our_bytes() -> None:
    assert silence(None, 5) == OFFLINE and silence(5, None) == OFFLINE
    assert silence(12, 12) == OFFLINE  # a silent printer took not even the query
    assert silence(12, 0) == OFFLINE  # took the query, answered nothing
    assert silence(90_000, 4_000) == BUSY  # still taking a job's tail, the query behind it
    assert silence(4_000, 4_000) == OFFLINE  # took nothing in the window


def test_a_slow_reader_leaves_written_bytes_unsent_until_it_reads() -> None:
    with socket.socket() as srv:
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        t = TcpTransport(TcpTarget("127.0.0.1", srv.getsockname()[1], write_timeout=10.0))
        t.open()
        peer, _ = srv.accept()
        try:
            assert unsent_bytes(t) == 0
            t.write("长图".encode("gb18030") + b"\x00" * 300_000)
            before = unsent_bytes(t)
            assert before is not None and before > 100_000
            taken = 0
            deadline = time.monotonic() + 30
            while (now := unsent_bytes(t)) is not None and now >= before:
                taken += len(peer.recv(65536))
                assert time.monotonic() < deadline
            assert taken > 0 and now is not None and now < before
        finally:
            peer.close()
            t.close()
    assert unsent_bytes(t) is None  # closed: unknown


def test_a_transport_that_cannot_tell_says_none(tmp_path: Path) -> None:
    dev = tmp_path / "lp0"
    dev.write_bytes(b"")
    t = FileTransport(FileTarget(str(dev)))
    t.open()
    try:
        t.write(b"\x1b@")
        assert unsent_bytes(t) is None
    finally:
        t.close()
