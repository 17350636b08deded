"""Clearing in HQ's store: the recorded runs (one per business day, never changed) and the cash
deposits finance entered. The SQL is the same on SQLite and PostgreSQL, written once (`?`)."""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ClearingRun:
    """A recorded clearing: who ran which day when, and the figures (hq.clearing.clear)."""

    id: str
    day: str
    by: str
    at_ms: int
    body: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """The run without its lines (for lists)."""
        return {"id": self.id, "day": self.day, "by": self.by, "at_ms": self.at_ms}


@dataclass(frozen=True)
class Deposit:
    """Cash a store banked, as finance entered it (amount in fen)."""

    id: str
    store: str
    day: str
    amount: int
    bank_ref: str
    note: str
    by: str
    at_ms: int

    def to_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {"id": self.id, "store": self.store, "day": self.day, "amount": self.amount,
                "bank_ref": self.bank_ref, "note": self.note, "by": self.by,
                "at_ms": self.at_ms}


class ClearingStore(Protocol):
    """The clearing part of `hq.store.HqStore`."""

    def clearing_run_add(self, run: ClearingRun, after: int) -> bool:
        """Record a run if no run holds its day and the newest run is still number `after`
        (0: none); False otherwise, nothing written."""
        ...

    def clearing_runs(self, limit: int) -> list[tuple[int, ClearingRun]]:
        """The newest `limit` runs with their numbers, newest first (bodies included)."""
        ...

    def clearing_days(self) -> list[tuple[int, str]]:
        """Every run's number and day, oldest first."""
        ...

    def clearing_run(self, run_id: str) -> ClearingRun | None:
        """One run, or None."""
        ...

    def deposit_add(self, deposit: Deposit) -> None:
        """Record a cash deposit."""
        ...

    def deposits(self, day: str | None, limit: int) -> list[Deposit]:
        """Deposits of `day` (all days if None), oldest first."""
        ...


class ClearingSql(ClearingStore):
    """`ClearingStore` in SQL both backends run."""

    @abstractmethod
    def _param(self, sql: str) -> str:
        """`sql` with its `?` placeholders in the backend's style."""

    @abstractmethod
    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        """The rows of one query (in the backend's placeholder style)."""

    @abstractmethod
    def _changes(self, statements: list[tuple[str, tuple[object, ...]]]) -> list[int]:
        """Run statements in one transaction; their row counts."""

    _RUN = "SELECT n, id, day, by_user, at_ms, body FROM clearing_runs"

    @staticmethod
    def _run(r: Any) -> tuple[int, ClearingRun]:
        return int(r[0]), ClearingRun(r[1], r[2], r[3], int(r[4]), json.loads(r[5]))

    def clearing_run_add(self, run: ClearingRun, after: int) -> bool:
        """Record a run if no run holds its day and the newest run is still number `after`
        (0: none); False otherwise, nothing written."""
        sql = ("INSERT INTO clearing_runs (n, id, day, by_user, at_ms, body) "
               "SELECT ?, ?, ?, ?, ?, ? WHERE (SELECT COALESCE(MAX(n), 0) FROM clearing_runs) = ?"
               " AND NOT EXISTS (SELECT 1 FROM clearing_runs WHERE day = ? OR id = ?)")
        body = json.dumps(run.body, ensure_ascii=False, separators=(",", ":"))
        args = (after + 1, run.id, run.day, run.by, run.at_ms, body, after, run.day, run.id)
        try:
            return self._changes([(self._param(sql), args)])[0] == 1
        except Exception as e:  # a concurrent insert of the same day or number
            if "unique" in str(e).lower() or "duplicate" in str(e).lower():
                return False
            raise

    def clearing_runs(self, limit: int) -> list[tuple[int, ClearingRun]]:
        """The newest `limit` runs with their numbers, newest first (bodies included)."""
        return [self._run(r) for r in self._read(self._param(self._RUN + " ORDER BY n DESC "
                                                                          "LIMIT ?"), (limit,))]

    def clearing_days(self) -> list[tuple[int, str]]:
        """Every run's number and day, oldest first."""
        return [(int(r[0]), r[1]) for r in self._read("SELECT n, day FROM clearing_runs "
                                                      "ORDER BY n")]

    def clearing_run(self, run_id: str) -> ClearingRun | None:
        """One run, or None."""
        rows = self._read(self._param(self._RUN + " WHERE id = ?"), (run_id,))
        return self._run(rows[0])[1] if rows else None

    def deposit_add(self, deposit: Deposit) -> None:
        """Record a cash deposit."""
        d = deposit
        self._changes([(self._param(
            "INSERT INTO clearing_deposits (id, store, day, amount, bank_ref, note, by_user, "
            "at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
            (d.id, d.store, d.day, d.amount, d.bank_ref, d.note, d.by, d.at_ms))])

    def deposits(self, day: str | None, limit: int) -> list[Deposit]:
        """Deposits of `day` (all days if None), oldest first."""
        sql = "SELECT id, store, day, amount, bank_ref, note, by_user, at_ms FROM clearing_deposits"
        args: tuple[object, ...] = ()
        if day is not None:
            sql += " WHERE day = ?"
            args = (day,)
        rows = self._read(self._param(sql + " ORDER BY at_ms, id LIMIT ?"), (*args, limit))
        return [Deposit(r[0], r[1], r[2], int(r[3]), r[4], r[5], r[6], int(r[7])) for r in rows]
