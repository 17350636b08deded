"""HQ's product catalog in the store (SQL both backends run, written once with `?`)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Product:
    """One product; money in fen. `cost` is what reports take for gross margin."""

    sku: str
    name: str
    spec: str
    unit: str
    price: int
    member_price: int
    cost: int
    barcode: str
    location: str
    category: str
    serial_tracked: bool = False
    """Each unit carries a serial number (phones, appliances)."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form (as imported)."""
        return asdict(self)


_COLUMNS = ("sku, name, spec, unit, price, member_price, cost, barcode, location, category, "
            "serial_tracked")


class CatalogStore(Protocol):
    """The catalog part of `hq.store.HqStore`."""

    def catalog_put(self, products: list[Product], now_ms: int) -> int:
        """Insert or replace these products in one transaction; how many were written."""
        ...

    def catalog_search(self, q: str, limit: int) -> list[Product]:
        """Products whose sku, name or barcode contains `q` (every product for ''), by sku."""
        ...

    def catalog_costs(self, skus: Iterable[str]) -> dict[str, int]:
        """The current cost of each of these skus the catalog knows."""
        ...

    def catalog_names(self, skus: Iterable[str]) -> dict[str, str]:
        """The name of each of these skus the catalog knows."""
        ...


class CatalogSql(CatalogStore):
    """`CatalogStore` in SQL both backends run."""

    @abstractmethod
    def _param(self, sql: str) -> str:
        """`sql` with its `?` placeholders in the backend's style."""

    @abstractmethod
    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        """The rows of one query (in the backend's placeholder style)."""

    @abstractmethod
    def _changes(self, statements: list[tuple[str, tuple[object, ...]]]) -> list[int]:
        """Run statements in one transaction; their row counts."""

    def catalog_put(self, products: list[Product], now_ms: int) -> int:
        """Insert or replace these products in one transaction; how many were written."""
        sql = self._param(
            f"INSERT INTO catalog ({_COLUMNS}, changed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?) ON CONFLICT (sku) DO UPDATE SET name = excluded.name, spec = excluded.spec, "
            "unit = excluded.unit, price = excluded.price, member_price = excluded.member_price,"
            " cost = excluded.cost, barcode = excluded.barcode, location = excluded.location, "
            "category = excluded.category, serial_tracked = excluded.serial_tracked, "
            "changed_ms = excluded.changed_ms")
        return sum(self._changes([(sql, (p.sku, p.name, p.spec, p.unit, p.price,
                                         p.member_price, p.cost, p.barcode, p.location,
                                         p.category, int(p.serial_tracked), now_ms))
                                  for p in products]))

    def catalog_search(self, q: str, limit: int) -> list[Product]:
        """Products whose sku, name or barcode contains `q` (every product for ''), by sku."""
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = self._read(self._param(
            f"SELECT {_COLUMNS} FROM catalog WHERE sku LIKE ? ESCAPE '\\' OR name LIKE ? "
            "ESCAPE '\\' OR barcode LIKE ? ESCAPE '\\' ORDER BY sku LIMIT ?"),
            (like, like, like, limit))
        return [Product(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), r[7], r[8],
                        r[9], bool(r[10])) for r in rows]

    def catalog_costs(self, skus: Iterable[str]) -> dict[str, int]:
        """The current cost of each of these skus the catalog knows."""
        return {sku: int(v) for sku, v in self._by_sku(skus, "cost").items()}

    def catalog_names(self, skus: Iterable[str]) -> dict[str, str]:
        """The name of each of these skus the catalog knows."""
        return {sku: str(v) for sku, v in self._by_sku(skus, "name").items()}

    def _by_sku(self, skus: Iterable[str], column: str) -> dict[str, Any]:
        """`column` of each of these skus the catalog knows (500 skus per query)."""
        wanted = sorted(set(skus))
        out: dict[str, Any] = {}
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            rows = self._read(self._param(
                f"SELECT sku, {column} FROM catalog WHERE sku IN ("
                + ", ".join("?" * len(part)) + ")"), tuple(part))
            out.update({r[0]: r[1] for r in rows})
        return out
