"""HQ's report aggregates in the store: rows added per box, exactly once, in the transaction that
advances the box's report position (SQL both backends run, written once with `?`)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

Sums = tuple[int, int, int, int]
"""qty, amount (fen), cost (fen), n (orders, or payments for the method cube)."""
RowKey = tuple[str, str, str, str]
"""(cube, period, store, key) of one aggregate row."""
Part = tuple[str, str, str, int]
"""(cube, first period, last period, sign): the rows of periods first … last, added (+1) or
subtracted (-1)."""
Credit = tuple[str, str] | None
"""The (store, clerk) credited with a member's later sale, or None."""
Rows = Callable[[list[Credit]], Mapping[RowKey, Sequence[int]]]
"""The rows to add, given the credit of each touch (computed in the transaction)."""


@dataclass(frozen=True)
class Touch:
    """A sale, refund or void as the first-contact rule sees it; `origin` is the (box, seq) of
    the sale (the refunded or voided one); `member` None: no member."""

    member: str | None
    is_sale: bool
    clerk: str
    store: str
    box: str
    seq: int
    origin: tuple[str, int]


class ReportStore(Protocol):
    """The reports part of `hq.store.HqStore`."""

    def report_lag(self) -> list[tuple[str, int, int]]:
        """(box, journal size, report position) of every box whose reports are behind."""
        ...

    def report_apply(self, box: str, expected_pos: int, new_pos: int,
                     touches: Sequence[Touch], rows: Rows, now_ms: int) -> bool:
        """Add the rows of records expected_pos … new_pos-1 of `box` to the aggregates and
        set the position to `new_pos`, in one transaction; False (nothing written) if the
        position is no longer `expected_pos` (another worker applied them). `rows` is given
        each touch's credit as the member table stands in that transaction."""
        ...

    def report_sums(self, parts: Sequence[Part], stores: Sequence[str] | None,
                    by_period: bool = False, by_store: bool = True
                    ) -> list[tuple[str, str, str, Sums]]:
        """(period, store, key, sums) of the rows of each part, added or subtracted by its sign
        (of `stores`, None: all), summed over periods unless `by_period` and over stores unless
        `by_store` (a summed-over column is ''); keys whose sums are all zero are left out."""
        ...

    def report_contact(self, member: str) -> dict[str, Any] | None:
        """A member's first-contact clerk, or None."""
        ...

    def report_assign(self, member: str, clerk: str, store: str, by: str, now_ms: int) -> None:
        """Make (store, clerk) the member's first-contact clerk from now on."""
        ...


class ReportSql(ReportStore):
    """`ReportStore` in SQL both backends run."""

    @abstractmethod
    def _param(self, sql: str) -> str:
        """`sql` with its `?` placeholders in the backend's style."""

    @abstractmethod
    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        """The rows of one query (in the backend's placeholder style)."""

    @abstractmethod
    def _changes(self, statements: list[tuple[str, tuple[object, ...]]]) -> list[int]:
        """Run statements in one transaction; their row counts."""

    @abstractmethod
    def _tx(self) -> AbstractContextManager[Any]:
        """One write transaction; what it yields has `execute` and `executemany`."""

    def report_lag(self) -> list[tuple[str, int, int]]:
        """(box, journal size, report position) of every box whose reports are behind."""
        rows = self._read("SELECT h.box, h.size, COALESCE(p.pos, 0) FROM journal_head h "
                          "LEFT JOIN report_pos p ON p.box = h.box "
                          "WHERE h.size > COALESCE(p.pos, 0) ORDER BY h.box")
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    def report_apply(self, box: str, expected_pos: int, new_pos: int,
                     touches: Sequence[Touch], rows: Rows, now_ms: int) -> bool:
        """Add the rows of records expected_pos … new_pos-1 of `box` to the aggregates and
        set the position to `new_pos`, in one transaction; False (nothing written) if the
        position is no longer `expected_pos` (another worker applied them)."""
        p = self._param
        self._changes([(p("INSERT INTO report_pos (box, pos) VALUES (?, 0) "
                          "ON CONFLICT (box) DO NOTHING"), (box,))])
        with self._tx() as c:
            # The conditional update comes first: on PostgreSQL its row lock makes a second
            # worker wait here and then find the position moved, before it writes anything.
            cur = c.execute(p("UPDATE report_pos SET pos = ? WHERE box = ? AND pos = ?"),
                            (new_pos, box, expected_pos))
            if cur.rowcount != 1:
                return False
            added = rows([self._credit(c, t, now_ms) for t in touches])
            c.executemany(p(
                "INSERT INTO report_agg (cube, period, store, key, qty, amount, cost, n) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cube, period, store, key) DO "
                "UPDATE SET qty = report_agg.qty + excluded.qty, amount = report_agg.amount + "
                "excluded.amount, cost = report_agg.cost + excluded.cost, "
                "n = report_agg.n + excluded.n"), [(*k, *v) for k, v in sorted(added.items())])
            return True

    def _credit(self, c: Any, f: Touch, now_ms: int) -> Credit:
        """Who holds the first contact of the fact's member, when the fact is not the member's
        first sale (which makes its clerk the contact); None: no credit."""
        if f.member is None:
            return None
        p = self._param
        if f.is_sale:
            cur = c.execute(p("INSERT INTO report_member (member, clerk, store, box, seq, "
                              "assigned_by, changed_ms) VALUES (?, ?, ?, ?, ?, '', ?) "
                              "ON CONFLICT (member) DO NOTHING"),
                            (f.member, f.clerk, f.store, f.box, f.seq, now_ms))
            if cur.rowcount == 1:
                return None
        row = c.execute(p("SELECT store, clerk, box, seq FROM report_member WHERE member = ?"),
                        (f.member,)).fetchone()
        if row is None or (row[2], int(row[3])) == f.origin:
            return None
        return str(row[0]), str(row[1])

    def report_sums(self, parts: Sequence[Part], stores: Sequence[str] | None,
                    by_period: bool = False, by_store: bool = True
                    ) -> list[tuple[str, str, str, Sums]]:
        """(period, store, key, sums) of the rows of each part, added or subtracted by its sign
        (of `stores`, None: all), summed over periods unless `by_period` and over stores unless
        `by_store` (a summed-over column is ''); keys whose sums are all zero are left out."""
        if not parts or (stores is not None and not stores):
            return []
        cols = [c if on else "''" for c, on in (("period", by_period), ("store", by_store))]
        group = ", ".join([a for a, on in (("p", by_period), ("s", by_store)) if on] + ["key"])
        selects, args = [], []
        for sign, sql in ((1, "qty, amount, cost, n"), (-1, "-qty, -amount, -cost, -n")):
            mine = [(c, a, b) for c, a, b, s in parts if s == sign]
            if not mine:
                continue
            where, more = self._where(mine, stores)
            selects.append(f"SELECT {cols[0]} AS p, {cols[1]} AS s, key, {sql} FROM report_agg "
                           f"WHERE {where}")
            args += more
        rows = self._read(self._param(
            "SELECT p, s, key, SUM(qty), SUM(amount), SUM(cost), SUM(n) FROM ("
            + " UNION ALL ".join(selects) + f") AS t GROUP BY {group} HAVING SUM(qty) <> 0 OR "
            "SUM(amount) <> 0 OR SUM(cost) <> 0 OR SUM(n) <> 0"), tuple(args))
        return [(str(r[0]), str(r[1]), str(r[2]),
                 (int(r[3]), int(r[4]), int(r[5]), int(r[6]))) for r in rows]

    @staticmethod
    def _where(parts: Sequence[tuple[str, str, str]], stores: Sequence[str] | None
               ) -> tuple[str, list[object]]:
        """The WHERE clause (and its arguments) selecting the rows of `parts` in `stores`."""
        # One period is asked for with `=`, so the key's next column (store) narrows the read.
        where = " OR ".join("(cube = ? AND period = ?)" if a == b else
                            "(cube = ? AND period >= ? AND period <= ?)" for _, a, b in parts)
        args: list[object] = [x for c, a, b in parts for x in ((c, a) if a == b else (c, a, b))]
        if stores is not None:
            where = f"({where}) AND store IN (" + ", ".join("?" * len(stores)) + ")"
            args += stores
        return where, args

    def report_contact(self, member: str) -> dict[str, Any] | None:
        """A member's first-contact clerk, or None."""
        rows = self._read(self._param(
            "SELECT clerk, store, box, seq, assigned_by, changed_ms FROM report_member "
            "WHERE member = ?"), (member,))
        if not rows:
            return None
        r = rows[0]
        return {"member": member, "clerk": r[0], "store": r[1], "first_sale": {
            "box": r[2], "seq": int(r[3])} if r[2] else None, "assigned_by": r[4] or None,
            "changed_ms": int(r[5])}

    def report_assign(self, member: str, clerk: str, store: str, by: str, now_ms: int) -> None:
        """Make (store, clerk) the member's first-contact clerk from now on."""
        self._changes([(self._param(
            "INSERT INTO report_member (member, clerk, store, box, seq, assigned_by, changed_ms)"
            " VALUES (?, ?, ?, '', -1, ?, ?) ON CONFLICT (member) DO UPDATE SET "
            "clerk = excluded.clerk, store = excluded.store, assigned_by = excluded.assigned_by,"
            " changed_ms = excluded.changed_ms"), (member, clerk, store, by, now_ms))])
