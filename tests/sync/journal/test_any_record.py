"""Any record shape — every member replaced by every JSON type, nested, or missing — gets a
verdict of docs/journal.md §9.5 from the verifier (stored rows, export lines, the workers'
part of §9.3), never an exception."""

from __future__ import annotations

import json

from hypothesis import given, settings

from sync.journal.parallel import _work, collect_keys
from sync.journal.verify import Failure, Verifier
from tests.sync.journal.mutations import LINES, OBJECTS, Mutant, mutants

CODES = {"canonical", "malformed", "seq", "log", "prev", "hash", "key", "signature", "genesis",
         "body", "time", "reference", "totals", "rotation", "cosign"}


def _by_lines(lines: list[str]) -> Failure | None:
    v = Verifier()
    for line in lines:
        if v.feed_line(line) is not None:
            break
    return v.finish()


def _by_rows(m: Mutant) -> Failure | None:
    v = Verifier()
    for _, raw, h, sig in m.rows():
        if v.feed(raw, sig, h) is not None:
            break
    return v.finish()


def _judged(m: Mutant, f: Failure | None) -> None:
    if f is None:  # still a valid journal: the change kept every rule (a re-signed valid value)
        return
    assert f.code in CODES and f.seq == m.seq, f


@settings(max_examples=400, deadline=None)
@given(mutants())
def test_every_record_shape_gets_a_verdict(m: Mutant) -> None:
    by_line, by_row = _by_lines(m.lines()), _by_rows(m)
    _judged(m, by_line)
    _judged(m, by_row)
    assert (by_line is None) == (by_row is None)
    if by_line is not None and by_row is not None and isinstance(m.record, dict):
        assert by_line.code == by_row.code  # (§8: an export's record that is no object is
        # `canonical`; stored bytes that hold no object are `malformed`, §9.2 step 2)
    items: list[str | tuple[bytes, bytes, bytes | None]] = [*m.lines()]
    for answer in (_work((collect_keys(items), items)),
                   _work((collect_keys(r[1:] for r in m.rows()),
                          [(raw, sig, h) for _, raw, h, sig in m.rows()]))):
        assert len(answer) == m.seq + 1


def test_a_type_that_is_an_object_or_an_array_is_malformed() -> None:
    for bad in ({"a": 1}, ["sale"], {}, [], None, 3, True):
        rec = {**OBJECTS[3]["record"], "type": bad}
        line = json.dumps({**OBJECTS[3], "record": rec}, ensure_ascii=False, sort_keys=True,
                          separators=(",", ":")) + "\n"
        f = _by_lines([*LINES[:3], line])
        assert f is not None and (f.seq, f.code) == (3, "malformed"), (bad, f)
