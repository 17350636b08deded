"""The part of HQ's store whose SQL is the same on SQLite and PostgreSQL, written once."""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import Any

from hq.store import HqStore
from hq.store.alerts import AlertsSql
from hq.store.catalog import CatalogSql
from hq.store.clearing import ClearingSql
from hq.store.orders import OrdersSql
from hq.store.reports import ReportSql


class SqlShared(OrdersSql, ClearingSql, AlertsSql, CatalogSql, ReportSql, HqStore):
    """Signed commands and registry reads, in SQL both backends run; statements are written with
    `?` placeholders, which a backend turns into its own in `_param`."""

    @abstractmethod
    def _param(self, sql: str) -> str:
        """`sql` with its `?` placeholders in the backend's style."""

    @abstractmethod
    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        """The rows of one query (in the backend's placeholder style)."""

    @abstractmethod
    def _write(self, sql: str, args: tuple[object, ...]) -> None:
        """One statement (in the backend's placeholder style) in its own transaction."""

    # --- commands ------------------------------------------------------------------------

    def command_create(self, nonce: str, box: str, name: str, args: dict[str, Any],
                       issued_ms: int, expires_ms: int) -> None:
        """Remember a signed command HQ is sending."""
        self._write(self._param("INSERT INTO commands (nonce, box, name, args, issued_ms, "
                                "expires_ms) VALUES (?, ?, ?, ?, ?, ?)"),
                    (nonce, box, name, json.dumps(args), issued_ms, expires_ms))

    def command_published(self, nonce: str, now_ms: int) -> None:
        """The broker accepted the command's PUBLISH."""
        self._write(self._param("UPDATE commands SET published_ms = ? WHERE nonce = ?"),
                    (now_ms, nonce))

    def command(self, nonce: str) -> dict[str, Any] | None:
        """A command and the box's answer, or None."""
        rows = self._read(self._param(
            "SELECT nonce, box, name, args, issued_ms, expires_ms, published_ms, result, error, "
            "result_ms FROM commands WHERE nonce = ?"), (nonce,))
        if not rows:
            return None
        r = rows[0]
        return {"nonce": r[0], "box": r[1], "name": r[2], "args": json.loads(r[3]),
                "issued_ms": r[4], "expires_ms": r[5], "published_ms": r[6], "result": r[7],
                "error": r[8], "result_ms": r[9]}

    # --- device registry (reads; the read-modify-write is each backend's own) ------------

    def box_states(self) -> dict[str, dict[str, Any]]:
        """Every box's registry state."""
        rows = self._read("SELECT id, state FROM boxes ORDER BY id")
        return {r[0]: json.loads(r[1]) for r in rows}

    def box_state(self, box: str) -> dict[str, Any] | None:
        """One box's registry state, or None."""
        rows = self._read(self._param("SELECT state FROM boxes WHERE id = ?"), (box,))
        return json.loads(rows[0][0]) if rows else None
