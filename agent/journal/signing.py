"""Signing a group commit's records on several cores: Ed25519 signing releases the GIL.

The writer builds and checks every record of a batch first (the hash chain needs no
signatures), then signs them together with helper threads: each thread takes the next
unsigned record until none is left, so a slow or busy core never holds the batch up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.journal.handoff import Appended
from sync.journal.chain import Unsigned

PARALLEL_MIN = 6
"""Below this many records a batch is signed on the writer's thread (a hand-off costs more)."""

Signable = tuple[Ed25519PrivateKey, bytes]
"""A key and the statement it must sign."""


class Pending:
    """A record of the open batch, built and checked; `appended` is set once it is signed."""

    __slots__ = ("amount", "appended", "built", "signer", "time", "type")

    def __init__(self, built: Unsigned, signer: Ed25519PrivateKey, time: int, type_: str,
                 amount: int) -> None:
        self.built, self.signer, self.time, self.type, self.amount = (built, signer, time, type_,
                                                                      amount)
        self.appended: Appended | None = None


def resolve(result: Any) -> Any:
    """A writer's result with each Pending in it replaced by its Appended (once signed)."""
    if isinstance(result, Pending):
        return result.appended
    if isinstance(result, tuple):
        return tuple(resolve(r) for r in result)
    return result


def _sign_from(work: Iterator[tuple[int, Signable]], out: list[bytes]) -> None:
    # Threads share `work`: next() on it is atomic under the GIL, so each item is signed once.
    for i, (key, message) in work:
        out[i] = key.sign(message)


class BatchSigner:
    """Signs batches on the calling thread plus up to `helpers` threads (default: cores − 1,
    at most 3); the threads start with the first large batch and end with close()."""

    def __init__(self, helpers: int | None = None) -> None:
        self._helpers = (max(0, min(os.cpu_count() or 1, 4) - 1) if helpers is None
                         else max(0, helpers))
        self._pool: ThreadPoolExecutor | None = None

    def sign(self, items: Sequence[Signable]) -> list[bytes]:
        """The signatures of `items`, in order."""
        out = [b""] * len(items)
        work = iter(enumerate(items))
        if self._helpers == 0 or len(items) < PARALLEL_MIN:
            _sign_from(work, out)
            return out
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._helpers, thread_name_prefix="journal-sign")
        helpers: list[Future[None]] = [self._pool.submit(_sign_from, work, out)
                                       for _ in range(self._helpers)]
        _sign_from(work, out)
        for f in helpers:
            if not f.cancel():  # a helper that has not woken up yet has nothing in hand
                f.result()
        return out

    def close(self) -> None:
        """Stop the helper threads (a later batch would start them again)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
