"""HQ's stores from its configuration: `[[stores]]` with region, kind and boxes; who works where
is what store-scoped users are limited to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from sync.protocol.topics import BOX_ID
from validation import Problem, Schema
from validation.decode import collect_items

KINDS = ("store", "warehouse", "workshop")

StoreId = Annotated[str, Meta(pattern=BOX_ID.pattern, extra={
    "reason": "1-64 characters of A-Z a-z 0-9 _ -"})]


@dataclass(frozen=True)
class StoreEntry:
    """A store (or warehouse, or workshop) of the chain, in a region, with its boxes."""

    id: str
    name: str
    region: str
    kind: str
    boxes: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """The store as the API shows it."""
        return {"id": self.id, "name": self.name, "region": self.region, "kind": self.kind,
                "boxes": list(self.boxes)}


class StoreTable(Schema, frozen=True, kw_only=True):
    """`[[stores]]`."""

    id: StoreId
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    region: Annotated[str, Meta(max_length=100)] = ""
    kind: Literal["store", "warehouse", "workshop"] = "store"
    boxes: list[StoreId] = msgspec.field(default_factory=list)


def parse_stores(raw: Mapping[str, object], problems: list[Problem]) -> dict[str, StoreEntry]:
    """The `[[stores]]` of a parsed config; a box belongs to one store at most."""
    stores: dict[str, StoreEntry] = {}
    owner: dict[str, str] = {}
    for i, (_, s) in enumerate(collect_items(raw.get("stores"), StoreTable, problems, "stores")):
        if s is None:
            continue
        if s.id in stores:
            problems.append(Problem(f"stores[{i}].id", f"duplicate store {s.id!r}"))
        for j, box in enumerate(s.boxes):
            if box in owner:
                problems.append(Problem(f"stores[{i}].boxes[{j}]",
                                        f"box {box!r} is already in store {owner[box]!r}"))
            owner[box] = s.id
        stores[s.id] = StoreEntry(s.id, s.name, s.region, s.kind, tuple(s.boxes))
    return stores
