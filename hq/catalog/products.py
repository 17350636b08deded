"""A product of HQ's catalog and the check of an imported list (errors name the dotted field)."""

from __future__ import annotations

from hq import HqError
from hq.store.catalog import Product
from sync.journal import RecordError
from sync.journal.schema import MAX_MONEY, array, ident, integer, obj, run, text

MAX_PRODUCTS = 20_000
"""Products in one PUT or import at most."""


class CatalogError(HqError):
    """A catalog was refused: `field` is the dotted path of the bad value."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


_MONEY = integer(0, MAX_MONEY)
PRODUCT = obj({"sku": ident(), "name": text(1, 120), "price": _MONEY, "cost": _MONEY},
              {"spec": text(0, 120), "unit": text(0, 16), "member_price": _MONEY,
               "barcode": text(0, 64), "location": text(0, 64), "category": text(0, 120)})
CATALOG = array(PRODUCT, 1, MAX_PRODUCTS)


def parse_products(value: object, path: str = "products") -> list[Product]:
    """The products of a JSON array, each checked; CatalogError naming the first bad field, or
    a sku given twice."""
    flags: list[bool] = []
    if isinstance(value, list):
        # `serial_tracked` is the one boolean member: checked here, the rest by the schema.
        for i, p in enumerate(value):
            flag = p.get("serial_tracked", False) if isinstance(p, dict) else False
            if type(flag) is not bool:
                raise CatalogError(f"{path}[{i}].serial_tracked", "must be true or false")
            flags.append(flag)
        value = [{k: v for k, v in p.items() if k != "serial_tracked"}
                 if isinstance(p, dict) else p for p in value]
    try:
        run(CATALOG, value, path)
    except RecordError as e:
        raise CatalogError(e.field.lstrip("."), e.reason) from None
    assert isinstance(value, list)
    seen: dict[str, int] = {}
    out = []
    for i, p in enumerate(value):
        if p["sku"] in seen:
            raise CatalogError(f"{path}[{i}].sku",
                               f"sku {p['sku']!r} is already at {path}[{seen[p['sku']]}]")
        seen[p["sku"]] = i
        out.append(Product(p["sku"], p["name"], p.get("spec", ""), p.get("unit", ""),
                           p["price"], p.get("member_price", p["price"]), p["cost"],
                           p.get("barcode", ""), p.get("location", ""), p.get("category", ""),
                           flags[i]))
    return out
