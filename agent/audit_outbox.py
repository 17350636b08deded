"""Audit records committed with their action in the queue's database, moved into the journal.

A print job and its audit record are written in one queue transaction (both or neither), so a
full journal disk cannot leave an accepted job unaudited; the record reaches the signed journal
here, right after the request and again at start and in housekeeping until it succeeds. The
audit record of any other request that the journal could not take is kept here as well. A crash
between the journal's commit and the outbox's delete appends that record twice (never zero
times).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agent.journal.store import JournalStore
from agent.printing.queue.store import Store
from sync.journal import RecordError

log = logging.getLogger(__name__)


class AuditOutbox:
    """Drains `store`'s audit outbox into `journal`, one drain at a time."""

    def __init__(self, store: Store, journal: JournalStore) -> None:
        self.store = store
        self.journal = journal
        self.behind = True
        """Records may be waiting (a drain failed or has not run yet)."""
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[int] | None = None
        self._again = False

    def kick(self) -> None:
        """Drain soon, in the background: the request that committed a record with its action
        is answered without waiting for the journal (the record is durable in the outbox)."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._drain_until_quiet())

    async def _drain_until_quiet(self) -> int:
        moved = await self.drain()
        while self._again:
            self._again = False
            moved += await self.drain()
        return moved

    async def settle(self) -> None:
        """Wait for a background drain to finish (shutdown, tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def keep(self, body: dict[str, Any]) -> bool:
        """Put a record the journal could not take into the outbox; False if that failed too."""
        try:
            await self.store.audit_keep(body)
        except Exception as e:
            log.warning("the audit outbox cannot take a record either: %s", e)
            return False
        self.behind = True
        return True

    async def drain(self) -> int:
        """Append every waiting record to the journal; how many were moved. A failure leaves
        the rest waiting for the next drain."""
        moved = 0
        async with self._lock:
            try:
                while rows := await self.store.audit_outbox():
                    # All waiting records in one journal commit (the writer groups requests
                    # queued together, in this order), then one outbox delete: a drain costs two
                    # commits however many requests wait behind it.
                    results = await asyncio.gather(
                        *(self.journal.append("audit", body) for _, body in rows),
                        return_exceptions=True)
                    sent: list[int] = []
                    failure: BaseException | None = None
                    for (seq, body), result in zip(rows, results, strict=True):
                        if isinstance(result, RecordError):  # never valid: logged, not retried
                            log.error("audit record %d of the outbox is refused: %s %r", seq,
                                      result, body)
                        elif isinstance(result, BaseException):
                            failure = failure or result
                            continue
                        sent.append(seq)
                    if sent:
                        await self.store.audit_sent(sent)
                        moved += len(sent)
                    if failure is not None:
                        raise failure
            except Exception as e:
                self.behind = True
                log.warning("audit records wait in the queue's outbox: %s", e)
                return moved
            self.behind = False
        return moved
