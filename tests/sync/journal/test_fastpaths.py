"""The fast paths agree with the precise ones: compiled body checks, one-pass record reading,
the verifier's one-pass acceptance, the writer's member-by-member encoding, totals text."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.journal import RecordError
from sync.journal.canonical import MAX_SAFE, canonical, encode_unchecked, parse_canonical_fast
from sync.journal.chain import MemoryChain, cosign_body
from sync.journal.checkpoint import cosign, note_key_hash
from sync.journal.fastcheck import compile_check
from sync.journal.fastparse import parse_record, split_record
from sync.journal.record import (
    Entry,
    parse_export_line,
    public_bytes,
    record_hash,
    record_text,
    statement,
)
from sync.journal.schema import BODIES, METHODS, RECORD, TOTALS, TYPES, check_envelope, run
from sync.journal.totals import Totals, canonical_text, signed_amount
from sync.journal.vectors import (
    BASE,
    BOX1,
    BOX2,
    HQ,
    HQ_NAME,
    LOG,
    build,
    build_workshop,
    lines,
    sale,
)
from sync.journal.verify import Failure, Verifier

ENTRIES = build()[0].entries
RECORDS = [e.record() for e in ENTRIES]
GOOD: dict[str, dict[str, Any]] = {r["type"]: r["body"] for r in reversed(
    [*RECORDS, *(e.record() for e in build_workshop().entries)])}
COSIGNERS = {(HQ_NAME, note_key_hash(HQ_NAME, 4, public_bytes(HQ)).hex()): HQ.public_key()}
CHECKS = {**{f"body:{t}": c for t, c in BODIES.items()}, "totals": TOTALS, "record": RECORD}
FAST = {name: compile_check(c) for name, c in CHECKS.items()}
SAMPLES = {**{f"body:{t}": b for t, b in GOOD.items()}, "totals": RECORDS[16]["totals"],
           "record": RECORDS[2]}

NASTY: st.SearchStrategy[Any] = st.sampled_from([
    None, True, False, 0, -1, 1, 2, 10**9, 10**9 + 1, 10**13, 10**13 + 1, MAX_SAFE, MAX_SAFE + 1,
    1.5, "", " ", "a b", "\x00", "a\x7f", "\u2028", "合页", "x" * 16, "x" * 17, "x" * 64,
    "x" * 65, "x" * 121, "x" * 201, "x" * 501, "2026-02-30", "2026-11-29", "cash", "credit",
    "raised", "a" * 32, "0" * 64, "user.login", [], {}, [{}], {"extra": 1},
])


def _passes(name: str, value: Any) -> bool:
    try:
        run(CHECKS[name], value, "v")
    except RecordError:
        return False
    return True


def _mutate(value: Any, data: st.DataObject) -> Any:
    """`value` with one place (found by a random walk) replaced, removed or extended."""
    value = copy.deepcopy(value)
    node = value
    while True:
        children = (list(node) if isinstance(node, dict)
                    else list(range(len(node))) if isinstance(node, list) else [])
        if not children:
            return data.draw(NASTY)
        key = data.draw(st.sampled_from(children))
        action = data.draw(st.sampled_from(["descend", "replace", "remove", "add"]))
        child = node[key]
        if action == "descend" and isinstance(child, dict | list) and child:
            node = child
            continue
        if action == "remove":
            del node[key]
        elif action == "add" and isinstance(node, dict):
            node[data.draw(st.sampled_from(["extra", "note", "unit", "discount", "ref"]))] = (
                data.draw(NASTY))
        else:
            node[key] = data.draw(NASTY)
        return value


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_compiled_checks_accept_the_vectors(name: str) -> None:
    assert FAST[name](SAMPLES[name]) and _passes(name, SAMPLES[name])


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(CHECKS)), st.data())
def test_compiled_checks_agree_with_the_precise_ones(name: str, data: st.DataObject) -> None:
    value = _mutate(SAMPLES[name], data)
    assert FAST[name](value) == _passes(name, value)


@given(st.sampled_from(sorted(CHECKS)),
       st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=4),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.sampled_from(["order", "lines", "total", "net", "sku",
                                                       "counts", "sale", "x"]), inner,
                                      max_size=4), max_leaves=12))
def test_compiled_checks_agree_on_random_values(name: str, value: Any) -> None:
    assert FAST[name](value) == _passes(name, value)


def _general(raw: bytes) -> dict[str, Any] | None:
    try:
        record = parse_canonical_fast(raw)
        check_envelope(record)
    except RecordError:
        return None
    assert isinstance(record, dict)
    return record


def test_one_pass_reading_gives_the_parsed_record() -> None:
    for e in ENTRIES:
        fast = parse_record(e.raw)
        assert fast is not None and list(fast.items()) == list(e.record().items())
        split = split_record(e.raw)
        assert split is not None
        assert split[1] == encode_unchecked(e.record()["totals"])


@pytest.mark.parametrize(("old", "new"), [
    (b'"totals":{"absolute":', b'"totals":{ "absolute":'), (b'"net":', b'"net" :'),
    (b',"v":1}', b',"v":1} '), (b'{"body":{', b'{ "body":{'), (b'"v":1}', b'"v":01}'),
    (b'"v":1}', b'"v":1.0}'), (b'"seq":2,', b'"seq":-0,'), (b'"type":"sale"', b'"type":"Sale"'),
    (b'"order":"', b'"order":"\\u0058'), (b'"boot":"', b'"boot":"A'), (b',"v":1}', b'}'),
])
def test_one_pass_reading_declines_what_is_not_plainly_canonical(old: bytes, new: bytes) -> None:
    raw = ENTRIES[2].raw.replace(old, new, 1)
    assert raw != ENTRIES[2].raw
    assert parse_record(raw) is None


@settings(max_examples=400, deadline=None)
@given(st.integers(0, len(ENTRIES) - 1), st.data())
def test_one_pass_reading_never_accepts_more(index: int, data: st.DataObject) -> None:
    raw = bytearray(ENTRIES[index].raw)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos:pos + 1] = data.draw(st.sampled_from(
            [b" ", b"0", b"1", b"-", b'"', b"\\", b",", b"}", b"a", b"", b"\xe5", b"e", b"."]))
    fast = parse_record(bytes(raw))
    if fast is not None:
        general = _general(bytes(raw))
        assert general is not None and list(fast.items()) == list(general.items())


def _feed_general(v: Verifier, raw: bytes, sig: bytes, stored: bytes) -> Failure | None:
    # Verifier.feed without its one-pass acceptance: parse fully, then feed the record.
    try:
        record = parse_canonical_fast(raw)
    except RecordError as e:
        return v.reject("canonical", f"{e.field}: {e.reason}")
    return v.feed_record(record, raw, sig, stored)


def _verdicts(entries: list[Entry]) -> tuple[Any, ...]:
    fast, general = Verifier(cosigners=COSIGNERS), Verifier(cosigners=COSIGNERS)
    for e in entries:
        if fast.feed(e.raw, e.sig, e.hash) is not None:
            break
    for e in entries:
        if _feed_general(general, e.raw, e.sig, e.hash) is not None:
            break
    assert fast.head == general.head and fast.keys.keys() == general.keys.keys()
    return fast.finish(), general.finish()


def _resigned(entries: list[Entry], i: int, raw: bytes) -> list[Entry]:
    # An entry whose bytes were changed and then hashed and signed again with the box key.
    h = record_hash(raw)
    try:
        r = parse_canonical_fast(raw)
        msg = statement(r["log"], r["seq"], r["time"], r["type"],
                        signed_amount(r["type"], r["body"]), r["key"], h)
    except (RecordError, KeyError, TypeError):
        msg = b"unreadable"
    key = BOX2 if i > 17 else BOX1
    return [*entries[:i], Entry(raw, h, key.sign(msg)), *entries[i + 1:]]


def test_the_verifier_agrees_with_its_general_path_on_the_vectors() -> None:
    a, b = _verdicts(list(ENTRIES))
    assert a is None and b is None


@pytest.mark.parametrize(("i", "old", "new", "code"), [
    (3, b'"totals":{"absolute":', b'"totals":{ "absolute":', "canonical"),
    (3, b'"net":', b'"net" :', "canonical"),
    (3, b'"seq":3,', b'"seq":4,', "seq"),
    (2, b'"total":59200', b'"total":59201', "body"),
    (4, b'"absolute":471100', b'"absolute":471101', "totals"),
    (9, b'"time":1795915980000', b'"time":1795915800000', "time"),
    (16, b'"size":16', b'"size":15', "cosign"),
])
def test_box_signed_edits_get_the_general_verdict(i: int, old: bytes, new: bytes,
                                                  code: str) -> None:
    raw = ENTRIES[i].raw.replace(old, new, 1)
    assert raw != ENTRIES[i].raw
    fast, general = _verdicts(_resigned(list(ENTRIES), i, raw))
    assert fast == general and fast is not None and (fast.seq, fast.code) == (i, code)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, len(ENTRIES) - 1), st.data(), st.booleans())
def test_the_verifier_agrees_with_its_general_path(index: int, data: st.DataObject,
                                                   resign: bool) -> None:
    raw = bytearray(ENTRIES[index].raw)
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos:pos + 1] = data.draw(st.sampled_from([b" ", b"0", b"1", b"9", b'"', b",", b"",
                                                  b"\\", b"}", b"a", b"-"]))
    entries = (_resigned(list(ENTRIES), index, bytes(raw)) if resign
               else [*ENTRIES[:index], Entry(bytes(raw), ENTRIES[index].hash,
                                             ENTRIES[index].sig), *ENTRIES[index + 1:]])
    fast, general = _verdicts(entries)
    assert fast == general


def _line_verdicts(lines: list[str]) -> tuple[Any, ...]:
    fast, general = Verifier(cosigners=COSIGNERS), Verifier(cosigners=COSIGNERS)
    for line in lines:
        if fast.feed_line(line) is not None:
            break
    for line in lines:
        try:
            record, entry = parse_export_line(line)
        except RecordError as e:
            general.reject("canonical", f"{e.field}: {e.reason}")
            break
        if general.feed_record(record, entry.raw, entry.sig, entry.hash) is not None:
            break
    assert fast.head == general.head
    return fast.finish(), general.finish()


LINES = [e.export_line() for e in ENTRIES]


def test_export_lines_get_the_general_verdicts() -> None:
    assert _line_verdicts(LINES) == (None, None)
    assert _line_verdicts([line.rstrip("\n") for line in LINES]) == (None, None)
    # §8: an export line is itself canonical JSON (then LF): spaces, CR, member order refused.
    spaced = LINES[3].replace('"record":{', '"record": {', 1)
    crlf = LINES[3].replace("\n", "\r\n")
    obj = json.loads(LINES[3])
    reordered = json.dumps({"sig": obj["sig"], "hash": obj["hash"], "record": obj["record"]},
                           ensure_ascii=False, separators=(",", ":")) + "\n"
    escaped = json.dumps(obj, sort_keys=True, separators=(",", ":")) + "\n"  # \\u escapes
    for bad in (spaced, crlf, reordered, escaped, "\n"):
        fast, general = _line_verdicts([*LINES[:3], bad, *LINES[4:]])
        assert fast == general and fast is not None and (fast.seq, fast.code) == (3, "canonical")
    upper = LINES[3].replace(LINES[3][9:73], LINES[3][9:73].upper(), 1)
    fast, general = _line_verdicts([*LINES[:3], upper, *LINES[4:]])
    assert fast == general and fast is not None and (fast.seq, fast.code) == (3, "canonical")


@settings(max_examples=300, deadline=None)
@given(st.integers(1, len(LINES) - 1), st.data())
def test_export_lines_agree_with_the_general_path(index: int, data: st.DataObject) -> None:
    line = list(LINES[index])
    for _ in range(data.draw(st.integers(1, 2))):
        pos = data.draw(st.integers(0, len(line) - 1))
        line[pos:pos + 1] = data.draw(st.sampled_from([" ", "0", "f", "F", '"', ",", "", "}",
                                                       "\\", "\n", "-", "合"]))
    lines = [*LINES[:index], "".join(line), *LINES[index + 1:]]
    fast, general = _line_verdicts(lines)
    assert fast == general


def test_a_journal_with_every_type_is_read_in_one_pass() -> None:
    c = MemoryChain(log=LOG, key=BOX1, time=BASE, boot="b1", cosigners=COSIGNERS)
    c.append("sale", sale("XS-1", lines(("JC-1001", 10)), ("cash", 8500)), BASE + 1)
    c.day_close("2026-11-29", BASE + 2)
    c.append("cosign", cosign_body(cosign(c.checkpoint(), HQ_NAME, HQ, 1), HQ_NAME), BASE + 3)
    c.rotate(BOX2, "换钥", BASE + 4)
    assert all(split_record(e.raw) is not None for e in c.entries)
    a, b = _verdicts(c.entries)
    assert a is None and b is None


counts = st.dictionaries(st.sampled_from(TYPES), st.integers(1, MAX_SAFE), max_size=5)
methods = st.dictionaries(st.sampled_from(METHODS), st.integers(-MAX_SAFE, MAX_SAFE).filter(
    bool), max_size=4)


@given(st.integers(-MAX_SAFE, MAX_SAFE), st.integers(0, MAX_SAFE), methods, counts)
def test_totals_text_is_their_canonical_json(net: int, absolute: int, m: dict[str, int],
                                             c: dict[str, int]) -> None:
    t = Totals(net, absolute, m, c)
    assert canonical_text(t).encode() == canonical(t.to_json())


scalars = st.none() | st.booleans() | st.integers(-MAX_SAFE, MAX_SAFE) | st.text(max_size=5)


@given(st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=4),
                       st.recursive(scalars, lambda i: st.lists(i, max_size=3), max_leaves=6),
                       max_size=4),
       st.text(max_size=6), st.integers(0, MAX_SAFE) | st.booleans(), st.sampled_from(TYPES))
def test_the_writers_encoding_is_the_canonical_one(body: dict[str, Any], boot: str, time: int,
                                                   type_: str) -> None:
    totals = Totals(5, 7, {"cash": -3}, {type_: 2})
    record, text = record_text(log=LOG, seq=3, time=time, boot=boot, type_=type_, body=body,
                               prev=bytes(range(32)), totals=totals, key="a8d1fdaddd9470e2")
    assert text == encode_unchecked(record)
    assert record["totals"] == totals.to_json() and record["prev"] == bytes(range(32)).hex()
