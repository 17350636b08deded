"""HQ's store: the narrow interface every room uses, and the records it holds.

`hq.store.sqlite.SqliteStore` implements it on one SQLite file,
`hq.store.postgres.PostgresStore` on a PostgreSQL database; both pass the same tests
(tests/hq/store/) and migrate their schema (hq.store.schema) when opened. Methods block: call
them from worker threads. Several workers may share one store: journal and event appends are
conditional on the position the caller read (optimistic), never a lock held across I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from hq import HqError
from hq.store.alerts import AlertsStore
from hq.store.catalog import CatalogStore
from hq.store.clearing import ClearingStore
from hq.store.orders import OrdersStore
from hq.store.people import PeopleStore
from hq.store.reports import ReportStore
from sync.protocol.messages import Event


class StoreError(HqError):
    """The database could not be opened or written."""


class StoreUnavailableError(StoreError):
    """The database cannot be reached right now (down, restarting, connection lost): retry."""


@dataclass(frozen=True)
class JournalHead:
    """What HQ holds of one box's journal: log, record count, last hash, last cosignature."""

    log: str
    size: int
    head: bytes
    cosignature: dict[str, Any]


@dataclass(frozen=True)
class StoredEntry:
    """One stored journal entry."""

    seq: int
    raw: bytes
    hash: bytes
    sig: bytes

    def export_line(self) -> str:
        """The JSON Lines export form of docs/journal.md."""
        return (f'{{"hash":"{self.hash.hex()}","record":{self.raw.decode("utf-8")},'
                f'"sig":"{self.sig.hex()}"}}\n')


@dataclass(frozen=True)
class JobRow:
    """A cloud print job as HQ stored it."""

    id: str
    box: str
    printer: str
    body: dict[str, Any]
    body_hash: str
    expires_at_ms: int
    created_ms: int
    dispatched_ms: int | None = None
    intake: str | None = None
    intake_error: str | None = None
    intake_ms: int | None = None


class HqStore(PeopleStore, OrdersStore, ClearingStore, AlertsStore, CatalogStore, ReportStore,
              Protocol):
    """All of HQ's durable state: journals, alarms, event streams, jobs, commands, boxes, and
    people (hq.store.people), customers and orders (hq.store.orders), clearing
    (hq.store.clearing), alerts (hq.store.alerts), the catalog (hq.store.catalog) and report
    aggregates (hq.store.reports)."""

    def close(self) -> None:
        """Close the database."""
        ...

    def schema_version(self) -> int:
        """The schema version the database is at (hq.store.schema)."""
        ...

    def journal_head(self, box: str) -> JournalHead | None:
        """What HQ holds of `box`'s journal, or None if nothing yet."""
        ...

    def journal_entries(self, box: str, start: int, end: int) -> list[StoredEntry]:
        """Stored entries with start <= seq < end, in order."""
        ...

    def journal_append(self, box: str, log: str, expected_size: int, entries: list[StoredEntry],
                       cosignature: dict[str, Any], now_ms: int) -> bool:
        """Append entries from seq `expected_size` with the new cosignature, atomically; False if
        the stored size is no longer `expected_size` (another worker was first)."""
        ...

    def add_alarm(self, box: str, kind: str, seq: int, reason: str, evidence: dict[str, Any],
                  now_ms: int) -> bool:
        """Raise an alarm; False if the same (box, kind, seq) was raised before."""
        ...

    def alarms(self, box: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Alarms newest first."""
        ...

    def event_pos(self, box: str, stream: str) -> int:
        """The last eseq of `stream` applied (0 if none)."""
        ...

    def apply_events(self, box: str, stream: str, expected_pos: int, events: list[Event],
                     now_ms: int) -> bool:
        """Apply events from `expected_pos`+1 and advance the stream in one transaction; False if
        the stream is no longer at `expected_pos` (another worker applied them)."""
        ...

    def job_create(self, job: JobRow) -> tuple[JobRow, bool]:
        """Store a new job, or return the stored one with the same id (created False)."""
        ...

    def job(self, job_id: str) -> JobRow | None:
        """The job with this id, or None."""
        ...

    def job_states(self, job_id: str) -> list[dict[str, Any]]:
        """The job's state history as the box reported it, by version."""
        ...

    def job_dispatched(self, job_id: str, now_ms: int) -> None:
        """The broker accepted the job's PUBLISH."""
        ...

    def jobs_recent(self, limit: int, box: str | None = None) -> list[JobRow]:
        """The newest jobs (of `box`, if given), newest first."""
        ...

    def jobs_undispatched(self, now_ms: int, limit: int = 500) -> list[JobRow]:
        """Unexpired jobs the broker has not accepted yet (HQ was disconnected), oldest first."""
        ...

    def jobs_unanswered(self, box: str, now_ms: int, limit: int = 1000) -> list[JobRow]:
        """Unexpired jobs of `box` it has not answered yet, oldest first."""
        ...

    def command_create(self, nonce: str, box: str, name: str, args: dict[str, Any],
                       issued_ms: int, expires_ms: int) -> None:
        """Remember a signed command HQ is sending."""
        ...

    def command_published(self, nonce: str, now_ms: int) -> None:
        """The broker accepted the command's PUBLISH."""
        ...

    def command(self, nonce: str) -> dict[str, Any] | None:
        """A command and the box's answer, or None."""
        ...

    def box_update(self, box: str,
                   fn: Callable[[dict[str, Any] | None], dict[str, Any] | None]) -> None:
        """Read-modify-write one box's registry state (a JSON object) in one transaction;"""
        ...

    def box_states(self) -> dict[str, dict[str, Any]]:
        """Every box's registry state."""
        ...

    def box_state(self, box: str) -> dict[str, Any] | None:
        """One box's registry state, or None."""
        ...
