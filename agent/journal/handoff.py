"""What callers hand the journal's writer thread, and how the writer answers them."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from dataclasses import dataclass
from typing import Any

from sync.journal.receipt_qr import from_entry
from sync.journal.record import Entry


@dataclass(frozen=True)
class Appended:
    """A committed record: where it is, what it hashes to, and the entry itself."""

    seq: int
    hash: bytes
    time: int
    type: str
    entry: Entry
    amount: int

    def __init__(self, seq: int, hash: bytes, time: int, type: str, entry: Entry,
                 amount: int) -> None:
        # One per record written: see ChainHead.__init__ (sync.journal.rules) for why.
        d = self.__dict__
        d["seq"], d["hash"], d["time"], d["type"], d["entry"], d["amount"] = (
            seq, hash, time, type, entry, amount)

    def receipt_text(self) -> str:
        """The QR payload for a printed receipt of this record (docs/journal.md §11)."""
        return from_entry(self.entry).text()


@dataclass
class Request:
    """One piece of work for the writer and the future its caller awaits."""

    kind: str
    args: tuple[Any, ...]
    fut: asyncio.Future[Any] | concurrent.futures.Future[Any]
    loop: asyncio.AbstractEventLoop | None = None
    """The caller's event loop for an asyncio future; None for a concurrent one."""


STOP = Request("stop", (), concurrent.futures.Future())


def answer(batch: list[Request], results: list[Any]) -> None:
    """Settle each request's future; one wake-up per event loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Any]]] = {}
    for req, result in zip(batch, results, strict=True):
        if req.loop is None:
            _settle([(req.fut, result)])
        else:
            by_loop.setdefault(req.loop, []).append((req.fut, result))
    for loop, items in by_loop.items():
        # A closed loop raises RuntimeError: its callers are gone and nobody is waiting.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, items)


def _settle(items: list[tuple[Any, Any]]) -> None:
    for fut, result in items:
        if fut.cancelled():
            continue
        if isinstance(result, BaseException):
            fut.set_exception(result)
        else:
            fut.set_result(result)
