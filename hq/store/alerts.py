"""HQ's alerts in the store: the alerts table (at most one open alert per kind and subject, a
partial unique index) and the durable outbox of their deliveries (MQTT, each webhook).

The SQL is the same on SQLite and PostgreSQL, written once (`?` placeholders, typed casts where
a parameter has no column to take its type from); each backend supplies `_read` and `_changes`.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class AlertRow:
    """One alert: an episode of a condition from raised to cleared, and who acknowledged it."""

    id: int
    kind: str
    subject: str
    box: str
    store: str
    raised_ms: int
    cleared_ms: int | None
    detail: Mapping[str, Any]
    acked_by: str | None = None
    acked_ms: int | None = None


@dataclass(frozen=True)
class OutboxRow:
    """One delivery to make: an alert's `raised` or `cleared` event to one target (`mqtt` or
    `webhook:{name}`)."""

    id: int
    alert_id: int
    event: str
    target: str
    at_ms: int
    attempts: int
    next_ms: int
    delivered_ms: int | None = None
    failed_ms: int | None = None
    last_error: str | None = None


class AlertsStore(Protocol):
    """The alerts part of `hq.store.HqStore`."""

    def alert_raise(self, kind: str, subject: str, box: str, store: str,
                    detail: Mapping[str, Any], now_ms: int, targets: Sequence[str],
                    once_ever: bool = False) -> int | None:
        """Open an alert and queue its `raised` deliveries in one transaction; its id, or None
        if one is open already (or, `once_ever`, was ever raised) for (kind, subject)."""
        ...

    def alert_clear(self, kind: str, subject: str, now_ms: int,
                    targets: Sequence[str]) -> int | None:
        """Clear the open alert of (kind, subject) and queue its `cleared` deliveries in one
        transaction; its id, or None if none was open."""
        ...

    def alert(self, alert_id: int) -> AlertRow | None:
        """One alert, or None."""
        ...

    def alerts_open(self) -> list[AlertRow]:
        """Every open alert, oldest first."""
        ...

    def alerts_recent(self, since_ms: int, limit: int) -> list[AlertRow]:
        """Open alerts and those cleared since `since_ms`, newest first."""
        ...

    def alert_keys(self, kinds: Iterable[str]) -> set[tuple[str, str]]:
        """Every (kind, subject) ever raised of these kinds."""
        ...

    def alert_ack(self, alert_id: int, who: str, now_ms: int) -> bool:
        """Record who acknowledged an alert; False if it is unknown or acknowledged already."""
        ...

    def outbox_due(self, now_ms: int, limit: int) -> list[OutboxRow]:
        """Undelivered deliveries due now and not leased to a worker, oldest first; none
        behind an earlier undelivered event of the same alert to the same target."""
        ...

    def outbox_lease(self, row_id: int, worker: str, now_ms: int, until_ms: int) -> bool:
        """Take a delivery for `worker` until `until_ms`; False if another worker has it or it
        is done."""
        ...

    def outbox_done(self, row_id: int, worker: str, now_ms: int) -> bool:
        """Mark a leased delivery made; False if the lease was lost."""
        ...

    def outbox_failed(self, row_id: int, worker: str, now_ms: int, next_ms: int | None,
                      error: str) -> None:
        """Count a failed attempt: try again at `next_ms`, or give up (None)."""
        ...

    def outbox_of(self, alert_id: int) -> list[OutboxRow]:
        """An alert's deliveries."""
        ...

    def alert_marks(self) -> tuple[dict[str, int], dict[str, int],
                                   list[dict[str, Any]]]:
        """What alerts judge of journals: records HQ holds per box, when it last stored one,
        and the gap and fork alarms."""
        ...


class AlertsSql(AlertsStore):
    """`AlertsStore` in SQL both backends run."""

    @abstractmethod
    def _param(self, sql: str) -> str:
        """`sql` with its `?` placeholders in the backend's style."""

    @abstractmethod
    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        """The rows of one query (in the backend's placeholder style)."""

    @abstractmethod
    def _changes(self, statements: list[tuple[str, tuple[object, ...]]]) -> list[int]:
        """Run statements in one transaction; their row counts."""

    _ALERT = ("SELECT id, kind, subject, box, store, raised_ms, cleared_ms, detail, acked_by, "
              "acked_ms FROM alerts")
    _OUTBOX = ("SELECT id, alert_id, event, target, at_ms, attempts, next_ms, delivered_ms, "
               "failed_ms, last_error FROM alert_outbox")

    @staticmethod
    def _alert(r: Any) -> AlertRow:
        return AlertRow(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]),
                        None if r[6] is None else int(r[6]), json.loads(r[7]), r[8],
                        None if r[9] is None else int(r[9]))

    @staticmethod
    def _outbox(r: Any) -> OutboxRow:
        return OutboxRow(int(r[0]), int(r[1]), r[2], r[3], int(r[4]), int(r[5]), int(r[6]),
                         None if r[7] is None else int(r[7]),
                         None if r[8] is None else int(r[8]), r[9])

    def _aq(self, sql: str, *args: object) -> list[Any]:
        return self._read(self._param(sql), args)

    def _enqueue(self, event: str, where: str, where_args: tuple[object, ...], now_ms: int,
                 targets: Sequence[str]) -> list[tuple[str, tuple[object, ...]]]:
        """Statements queueing `event` of the alert `where` selects to every target (a target
        queued before for that event is left as it is)."""
        return [(self._param(
            "INSERT INTO alert_outbox (alert_id, event, target, at_ms, attempts, next_ms) "
            "SELECT id, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), 0, "
            f"CAST(? AS BIGINT) FROM alerts WHERE {where} ON CONFLICT DO NOTHING"),
            (event, t, now_ms, now_ms, *where_args)) for t in targets]

    def _open_id(self, kind: str, subject: str) -> int | None:
        rows = self._aq("SELECT id FROM alerts WHERE kind = ? AND subject = ? AND "
                        "cleared_ms IS NULL", kind, subject)
        return int(rows[0][0]) if rows else None

    def alert_raise(self, kind: str, subject: str, box: str, store: str,
                    detail: Mapping[str, Any], now_ms: int, targets: Sequence[str],
                    once_ever: bool = False) -> int | None:
        """Open an alert and queue its `raised` deliveries in one transaction; its id, or None
        if one is open already (or, `once_ever`, was ever raised) for (kind, subject)."""
        insert = (self._param(
            "INSERT INTO alerts (kind, subject, box, store, raised_ms, detail) "
            "SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), "
            "CAST(? AS BIGINT), CAST(? AS TEXT) WHERE CAST(? AS INTEGER) = 0 OR NOT EXISTS "
            "(SELECT 1 FROM alerts WHERE kind = ? AND subject = ?) ON CONFLICT DO NOTHING"),
            (kind, subject, box, store, now_ms, json.dumps(dict(detail), ensure_ascii=False),
             int(once_ever), kind, subject))
        # Only the alert this statement opened has raised_ms = now (another worker's, opened in
        # the same millisecond, has its deliveries queued already: the pair is unique).
        counts = self._changes([insert, *self._enqueue(
            "raised", "kind = ? AND subject = ? AND cleared_ms IS NULL AND raised_ms = ?",
            (kind, subject, now_ms), now_ms, targets)])
        return self._open_id(kind, subject) if counts[0] == 1 else None

    def alert_clear(self, kind: str, subject: str, now_ms: int,
                    targets: Sequence[str]) -> int | None:
        """Clear the open alert of (kind, subject) and queue its `cleared` deliveries in one
        transaction; its id, or None if none was open."""
        found = self._open_id(kind, subject)
        if found is None:
            return None
        counts = self._changes([
            (self._param("UPDATE alerts SET cleared_ms = ? WHERE id = ? AND cleared_ms IS NULL"),
             (now_ms, found)),
            *self._enqueue("cleared", "id = ? AND cleared_ms = ?", (found, now_ms), now_ms,
                           targets)])
        return found if counts[0] == 1 else None

    def alert(self, alert_id: int) -> AlertRow | None:
        """One alert, or None."""
        rows = self._aq(self._ALERT + " WHERE id = ?", alert_id)
        return self._alert(rows[0]) if rows else None

    def alerts_open(self) -> list[AlertRow]:
        """Every open alert, oldest first."""
        return [self._alert(r) for r in self._aq(self._ALERT + " WHERE cleared_ms IS NULL "
                                                 "ORDER BY id")]

    def alerts_recent(self, since_ms: int, limit: int) -> list[AlertRow]:
        """Open alerts and those cleared since `since_ms`, newest first."""
        return [self._alert(r) for r in self._aq(
            self._ALERT + " WHERE cleared_ms IS NULL OR cleared_ms >= ? ORDER BY id DESC "
            "LIMIT ?", since_ms, limit)]

    def alert_keys(self, kinds: Iterable[str]) -> set[tuple[str, str]]:
        """Every (kind, subject) ever raised of these kinds."""
        out: set[tuple[str, str]] = set()
        for kind in sorted(set(kinds)):
            out.update((r[0], r[1]) for r in self._aq(
                "SELECT DISTINCT kind, subject FROM alerts WHERE kind = ?", kind))
        return out

    def alert_ack(self, alert_id: int, who: str, now_ms: int) -> bool:
        """Record who acknowledged an alert; False if it is unknown or acknowledged already."""
        return self._changes([(self._param(
            "UPDATE alerts SET acked_by = ?, acked_ms = ? WHERE id = ? AND acked_ms IS NULL"),
            (who, now_ms, alert_id))])[0] == 1

    def outbox_due(self, now_ms: int, limit: int) -> list[OutboxRow]:
        """Undelivered deliveries due now and not leased to a worker, oldest first; none
        behind an earlier undelivered event of the same alert to the same target."""
        # An alert's events reach each target in order: a clear waits for its raise.
        return [self._outbox(r) for r in self._aq(
            self._OUTBOX + " o WHERE delivered_ms IS NULL AND failed_ms IS NULL AND next_ms <= ? "
            "AND (lease_until_ms IS NULL OR lease_until_ms <= ?) AND NOT EXISTS (SELECT 1 FROM "
            "alert_outbox e WHERE e.alert_id = o.alert_id AND e.target = o.target AND e.id < o.id"
            " AND e.delivered_ms IS NULL AND e.failed_ms IS NULL) ORDER BY id LIMIT ?",
            now_ms, now_ms, limit)]

    def outbox_lease(self, row_id: int, worker: str, now_ms: int, until_ms: int) -> bool:
        """Take a delivery for `worker` until `until_ms`; False if another worker has it or it
        is done."""
        return self._changes([(self._param(
            "UPDATE alert_outbox SET lease_by = ?, lease_until_ms = ? WHERE id = ? AND "
            "delivered_ms IS NULL AND failed_ms IS NULL AND "
            "(lease_until_ms IS NULL OR lease_until_ms <= ?)"),
            (worker, until_ms, row_id, now_ms))])[0] == 1

    def outbox_done(self, row_id: int, worker: str, now_ms: int) -> bool:
        """Mark a leased delivery made; False if the lease was lost."""
        return self._changes([(self._param(
            "UPDATE alert_outbox SET delivered_ms = ?, attempts = attempts + 1, "
            "lease_until_ms = NULL WHERE id = ? AND lease_by = ? AND delivered_ms IS NULL"),
            (now_ms, row_id, worker))])[0] == 1

    def outbox_failed(self, row_id: int, worker: str, now_ms: int, next_ms: int | None,
                      error: str) -> None:
        """Count a failed attempt: try again at `next_ms`, or give up (None)."""
        self._changes([(self._param(
            "UPDATE alert_outbox SET attempts = attempts + 1, next_ms = COALESCE(?, next_ms), "
            "failed_ms = ?, last_error = ?, lease_until_ms = NULL "
            "WHERE id = ? AND lease_by = ? AND delivered_ms IS NULL"),
            (next_ms, None if next_ms is not None else now_ms, error[:500], row_id, worker))])

    def outbox_of(self, alert_id: int) -> list[OutboxRow]:
        """An alert's deliveries."""
        return [self._outbox(r) for r in self._aq(self._OUTBOX + " WHERE alert_id = ? "
                                                  "ORDER BY id", alert_id)]

    def alert_marks(self) -> tuple[dict[str, int], dict[str, int],
                                   list[dict[str, Any]]]:
        """What alerts judge of journals: records HQ holds per box, when it last stored one,
        and the gap and fork alarms."""
        sizes = {r[0]: int(r[1]) for r in self._aq("SELECT box, size FROM journal_head")}
        received = {r[0]: int(r[1]) for r in self._aq(
            "SELECT j.box, j.received_ms FROM journal j JOIN journal_head h "
            "ON j.box = h.box AND j.seq = h.size - 1")}
        alarms = [{"box": r[0], "kind": r[1], "seq": int(r[2]), "reason": r[3],
                   "at_ms": int(r[4])} for r in self._aq(
            "SELECT box, kind, seq, reason, at_ms FROM alarms WHERE kind IN ('gap', 'fork') "
            "ORDER BY id")]
        return sizes, received, alarms
