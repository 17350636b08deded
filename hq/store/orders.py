"""HQ's customers and customer orders in the store, who is which salesperson, and reprints.

The SQL is the same on SQLite and PostgreSQL, written once (`?` placeholders) on top of
`hq.store.people.PeopleSql`'s `_q` and `_do`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from hq.store.people import PeopleSql


@dataclass(frozen=True)
class OrderRow:
    """An order as HQ keeps it: the validated body and what it is found by."""

    order_no: str
    customer: str
    salesperson: str
    store: str | None
    body: dict[str, Any]
    body_hash: str
    created_ms: int


@dataclass(frozen=True)
class Reprint:
    """A reprint: the new job, the job it repeats, why, who asked and when."""

    job_id: str
    original: str
    reason: str
    user: str
    at_ms: int

    def to_json(self) -> dict[str, Any]:
        """As the API shows it."""
        return {"job_id": self.job_id, "original": self.original, "reason": self.reason,
                "user": self.user, "at_ms": self.at_ms}


class OrdersStore(Protocol):
    """The orders part of `hq.store.HqStore`."""

    def customers_put(self, customers: list[dict[str, Any]], now_ms: int) -> int:
        """Create or replace customers by id, in one transaction; how many."""
        ...

    def customer(self, customer_id: str) -> dict[str, Any] | None:
        """One customer, or None."""
        ...

    def order_add(self, row: OrderRow) -> tuple[OrderRow, bool]:
        """Store a new order, or return the stored one with this order_no (created False)."""
        ...

    def order(self, order_no: str) -> OrderRow | None:
        """One order, or None."""
        ...

    def orders_of(self, salesperson: str | None, limit: int) -> list[OrderRow]:
        """The newest orders (of `salesperson`, if given), newest first."""
        ...

    def salesperson_set(self, user: str, salesperson: str) -> None:
        """User `user` acts as salesperson `salesperson` (the ERP's id)."""
        ...

    def salesperson_of(self, user: str) -> str | None:
        """The salesperson id of a user, or None."""
        ...

    def reprint_add(self, reprint: Reprint) -> None:
        """Record a reprint."""
        ...

    def reprints(self, job_ids: list[str]) -> dict[str, Reprint]:
        """The reprint records of these new jobs, by job id."""
        ...


class OrdersSql(PeopleSql, OrdersStore):
    """`OrdersStore` in SQL both backends run."""

    def customers_put(self, customers: list[dict[str, Any]], now_ms: int) -> int:
        """Create or replace customers by id, in one transaction; how many."""
        self._do(*[("INSERT INTO customers (id, name, body, changed_ms) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET name = excluded.name, body = excluded.body,"
                    " changed_ms = excluded.changed_ms",
                    (c["id"], c["name"], json.dumps(c, ensure_ascii=False), now_ms))
                   for c in customers])
        return len(customers)

    def customer(self, customer_id: str) -> dict[str, Any] | None:
        """One customer, or None."""
        rows = self._q("SELECT body FROM customers WHERE id = ?", customer_id)
        return dict(json.loads(rows[0][0])) if rows else None

    _ORDER = "SELECT order_no, customer, salesperson, store, body, body_hash, created_ms " \
             "FROM orders"

    @staticmethod
    def _order(r: Any) -> OrderRow:
        return OrderRow(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], int(r[6]))

    _NEXT_ORDER_SEQ = "(SELECT COALESCE(MAX(seq), 0) + 1 FROM orders)"
    """The next order's list position (a backend with concurrent writers uses a sequence)."""

    def order_add(self, row: OrderRow) -> tuple[OrderRow, bool]:
        """Store a new order, or return the stored one with this order_no (created False)."""
        created = self._do(
            ("INSERT INTO orders (order_no, customer, salesperson, store, body, body_hash, "
             f"created_ms, seq) VALUES (?, ?, ?, ?, ?, ?, ?, {self._NEXT_ORDER_SEQ}) "
             "ON CONFLICT (order_no) DO NOTHING",
             (row.order_no, row.customer, row.salesperson, row.store,
              json.dumps(row.body, ensure_ascii=False), row.body_hash, row.created_ms)))[0] == 1
        stored = self.order(row.order_no)
        return (stored or row), created

    def order(self, order_no: str) -> OrderRow | None:
        """One order, or None."""
        rows = self._q(self._ORDER + " WHERE order_no = ?", order_no)
        return self._order(rows[0]) if rows else None

    def orders_of(self, salesperson: str | None, limit: int) -> list[OrderRow]:
        """The newest orders (of `salesperson`, if given), newest first."""
        if salesperson is None:
            rows = self._q(self._ORDER + " ORDER BY seq DESC LIMIT ?", limit)
        else:
            rows = self._q(self._ORDER + " WHERE salesperson = ? ORDER BY seq DESC LIMIT ?",
                           salesperson, limit)
        return [self._order(r) for r in rows]

    def salesperson_set(self, user: str, salesperson: str) -> None:
        """User `user` acts as salesperson `salesperson` (the ERP's id)."""
        self._do(("INSERT INTO salesperson_users (username, salesperson) VALUES (?, ?) "
                  "ON CONFLICT (username) DO UPDATE SET salesperson = excluded.salesperson",
                  (user, salesperson)))

    def salesperson_of(self, user: str) -> str | None:
        """The salesperson id of a user, or None."""
        rows = self._q("SELECT salesperson FROM salesperson_users WHERE username = ?", user)
        return str(rows[0][0]) if rows else None

    def reprint_add(self, reprint: Reprint) -> None:
        """Record a reprint."""
        self._do(("INSERT INTO job_reprints (job_id, original, reason, username, at_ms) "
                  "VALUES (?, ?, ?, ?, ?)", (reprint.job_id, reprint.original, reprint.reason,
                                             reprint.user, reprint.at_ms)))

    def reprints(self, job_ids: list[str]) -> dict[str, Reprint]:
        """The reprint records of these new jobs, by job id."""
        out: dict[str, Reprint] = {}
        for job_id in job_ids:
            rows = self._q("SELECT job_id, original, reason, username, at_ms FROM job_reprints "
                           "WHERE job_id = ?", job_id)
            if rows:
                r = rows[0]
                out[job_id] = Reprint(r[0], r[1], r[2], r[3], int(r[4]))
        return out
