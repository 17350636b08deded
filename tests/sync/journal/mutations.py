"""Whole records with one member replaced by any JSON value (nested or not) or removed: the
inputs every reader of records must answer with a verdict, never a traceback."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from sync.journal.record import record_hash, record_statement
from sync.journal.vectors import BOX1, BOX2

VECTORS = Path(__file__).resolve().parents[3] / "docs" / "vectors"
LINES = (VECTORS / "journal.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
OBJECTS = [json.loads(line) for line in LINES]
ROTATED_AT = 17
"""The vectors' key_rotate record: box1 signs up to it, box2 after it."""

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans()
    | st.integers(-(2**64), 2**64) | st.sampled_from([2**53 - 1, 2**53, -(2**53), 10**13 + 1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["sale", "genesis", "\u202eabc\u200b\x9b", "\u3000", "合", "0" * 64]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                  max_size=3),
    max_leaves=6)
"""Every JSON type: null, booleans, integers (also beyond 2⁵³), fractions, strings, arrays,
objects, nested."""


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every member and item position inside `value` (the record's own members first)."""
    out: list[tuple[Any, ...]] = []
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list) else ())
    for key, inner in items:
        out.append((*prefix, key))
        out.extend(paths(inner, (*prefix, key)))
    return out


@dataclass(frozen=True)
class Mutant:
    """Records 0..seq of the vectors with record `seq` changed (and re-signed by its key)."""

    seq: int
    record: Any
    objects: list[dict[str, Any]]
    """Export-line objects {"hash","record","sig"}; the last one is the changed record."""

    def lines(self) -> list[str]:
        """As export lines (canonical where the values allow; fractions as JSON writes them)."""
        return [json.dumps(o, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
                for o in self.objects]

    def rows(self) -> list[tuple[int, bytes, bytes, bytes]]:
        """As journal table rows (seq, record bytes, hash, sig)."""
        out = []
        for i, o in enumerate(self.objects):
            raw = json.dumps(o["record"], ensure_ascii=False, sort_keys=True,
                             separators=(",", ":")).encode("utf-8", "surrogatepass")
            out.append((i, raw, bytes.fromhex(o["hash"]), bytes.fromhex(o["sig"])))
        return out


def _sign(record: Any, seq: int) -> tuple[str, str]:
    raw = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")
                     ).encode("utf-8", "surrogatepass")
    h = record_hash(raw)
    key = BOX1 if seq <= ROTATED_AT else BOX2
    try:
        sig = key.sign(record_statement(record, h)).hex()
    except (KeyError, TypeError, ValueError, AttributeError, UnicodeError):
        sig = "00" * 64  # no statement can be made of it: any signature will do
    return h.hex(), sig


@st.composite
def mutants(draw: st.DrawFn) -> Mutant:
    """A record of the vectors with one member (at any depth) replaced or removed."""
    seq = draw(st.integers(0, len(OBJECTS) - 1))
    record = copy.deepcopy(OBJECTS[seq]["record"])
    # Half the time one of the record's own members (or all of it), else any depth.
    every = paths(record)
    where = draw(st.sampled_from([(), *(p for p in every if len(p) == 1)])
                 | st.sampled_from(every))
    if where == ():
        record = draw(JSON)  # the whole record replaced
    else:
        parent = record
        for key in where[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent[where[-1]] = draw(JSON)
    h, sig = _sign(record, seq)
    changed = {"hash": h, "record": record, "sig": sig}
    return Mutant(seq, record, [*OBJECTS[:seq], changed])
