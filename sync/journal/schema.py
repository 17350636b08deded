"""Shapes of records, bodies and totals (docs/journal.md §3, §5); errors name the bad field."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sync.journal import RecordError
from sync.journal import fastcheck as fc
from sync.journal.canonical import MAX_SAFE
from sync.journal.measure import check_measured_line
from validation.reasons import got, suggestion, unknown_key

VERSION = 1
TYPES = (
    "genesis", "sale", "refund", "void", "payment", "day_close", "handover", "approval", "audit",
    "key_rotate", "clock_set", "device_fault", "cosign", "production_task", "split",
    "handover_undo",
)
METHODS = ("cash", "wechat", "alipay", "card", "member", "credit")
MAX_MONEY = 10**13
"""Largest single amount in fen (one hundred billion yuan)."""
MAX_QTY = 10**9

Check = Callable[[Any], None]


class _BadValueError(Exception):
    """Internal: a check failed; `path` is the part below the checked value."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


def integer(lo: int, hi: int) -> Check:
    """An int (not bool) in [lo, hi]."""

    def check(v: Any) -> None:
        if type(v) is not int:
            raise _BadValueError(f"must be an integer, got {got(v)}")
        if not lo <= v <= hi:
            raise _BadValueError(f"must be {lo}-{hi}")

    fc.register(check, fc.int_form(lo, hi))
    return check


# The characters docs/journal.md §5 refuses, listed once here and in the spec (not taken from
# the running Python's Unicode tables, so every verifier refuses the same ones):
# Cc (C0, DEL, C1), Cf as of Unicode 15.0 except U+200D ZERO WIDTH JOINER (emoji sequences),
# and the line and paragraph separators U+2028, U+2029.
_INVISIBLE = ("\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2"
              "\u180e\u200b\u200c\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
              "\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
              "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
# Spaces (Zs) an identifier may not hold either, U+3000 IDEOGRAPHIC SPACE among them.
_SPACES = "\x20\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
TEXT_REFUSED = re.compile(f"[{_INVISIBLE}]")
"""What a *text* may not hold: control, format (but U+200D) and line-separator characters."""
ID_REFUSED = re.compile(f"[{_INVISIBLE}{_SPACES}\u200d]")
"""What an *id* may not hold: what a text may not, every space, and U+200D."""


def text(lo: int, hi: int) -> Check:
    """A string of lo..hi code points without control or invisible format characters."""

    def check(v: Any) -> None:
        if type(v) is not str:
            raise _BadValueError(f"must be a string, got {got(v)}")
        if not lo <= len(v) <= hi:
            raise _BadValueError(f"must have {lo}-{hi} characters")
        # isprintable() is the fast common case; the regex is the rule (docs/journal.md §5).
        if not v.isprintable():
            bad = TEXT_REFUSED.search(v)
            if bad is not None:
                raise _BadValueError("must not contain control or invisible characters "
                                     f"(U+{ord(bad[0]):04X})")

    fc.register(check, fc.text_form(lo, hi, TEXT_REFUSED))
    return check


def ident() -> Check:
    """An identifier (order no, sku, staff id): 1..64 code points, no spaces or invisibles."""

    def check(v: Any) -> None:
        if type(v) is not str:
            raise _BadValueError(f"must be a string, got {got(v)}")
        if not 1 <= len(v) <= 64:
            raise _BadValueError("must have 1-64 characters")
        if " " in v or not v.isprintable():
            bad = ID_REFUSED.search(v)
            if bad is not None:
                raise _BadValueError("must not contain spaces, control or invisible "
                                     f"characters (U+{ord(bad[0]):04X})")

    fc.register(check, fc.ident_form(ID_REFUSED))
    return check


def scrub(value: str, *, ident: bool = False, replacement: str = "?") -> str:
    """`value` with every character a text (or id) may not hold replaced (for texts made from
    what others sent: paths, device messages)."""
    return (ID_REFUSED if ident else TEXT_REFUSED).sub(replacement, value)


def pattern(regex: str, what: str) -> Check:
    """A string matching `regex` entirely."""
    rx = re.compile(regex)

    def check(v: Any) -> None:
        if type(v) is not str or rx.fullmatch(v) is None:
            raise _BadValueError(f"must be {what}")

    fc.register(check, fc.pattern_form(rx))
    return check


def one_of(options: tuple[str, ...]) -> Check:
    """One of a fixed set of strings."""
    allowed = frozenset(options)

    def check(v: Any) -> None:
        if type(v) is not str or v not in allowed:
            raise _BadValueError("must be one of " + ", ".join(options))

    fc.register(check, fc.one_of_form(allowed))
    return check


def day() -> Check:
    """A calendar day written YYYY-MM-DD."""
    shape = pattern(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a day YYYY-MM-DD")

    def check(v: Any) -> None:
        shape(v)
        try:
            date.fromisoformat(v)
        except ValueError:
            raise _BadValueError("is not a calendar day") from None

    return check


def array(item: Check, lo: int, hi: int) -> Check:
    """A list of lo..hi items, each passing `item`."""

    def check(v: Any) -> None:
        if type(v) is not list:
            raise _BadValueError(f"must be an array, got {got(v)}")
        if not lo <= len(v) <= hi:
            raise _BadValueError(f"must have {lo}-{hi} items")
        for i, x in enumerate(v):
            try:
                item(x)
            except _BadValueError as e:
                raise _BadValueError(e.reason, f"[{i}]{e.path}") from None

    fc.register(check, fc.list_form(item, lo, hi))
    return check


def obj(required: Mapping[str, Check], optional: Mapping[str, Check] | None = None) -> Check:
    """An object with exactly the required keys plus any of the optional ones."""
    req = tuple(required.items())
    opt = tuple(sorted((optional or {}).items()))
    known = frozenset(required) | frozenset(k for k, _ in opt)
    n_req = len(req)

    def check(v: Any) -> None:
        if type(v) is not dict:
            raise _BadValueError(f"must be an object, got {got(v)}")
        key = ""
        try:
            for key, c in req:
                c(v[key])
        except KeyError:
            raise _BadValueError("is required", "." + key) from None
        except _BadValueError as e:
            raise _BadValueError(e.reason, f".{key}{e.path}") from None
        if len(v) != n_req:
            extra = v.keys() - known
            if extra:
                key = str(min(extra, key=str))
                raise _BadValueError(unknown_key(key, known, toml=False), "." + key)
            try:
                for key, c in opt:
                    if key in v:
                        c(v[key])
            except _BadValueError as e:
                raise _BadValueError(e.reason, f".{key}{e.path}") from None

    fc.register(check, fc.object_form(dict(required), dict(opt)))
    return check


def mapping(keys: tuple[str, ...], value: Check) -> Check:
    """An object whose keys come from `keys` and whose values pass `value`."""
    allowed = frozenset(keys)

    def check(v: Any) -> None:
        if type(v) is not dict:
            raise _BadValueError(f"must be an object, got {got(v)}")
        for key, x in v.items():
            if key not in allowed:
                raise _BadValueError("unknown key" + suggestion(key, allowed), "." + key)
            try:
                value(x)
            except _BadValueError as e:
                raise _BadValueError(e.reason, f".{key}{e.path}") from None

    fc.register(check, fc.map_form(allowed, value, nonzero=False))
    return check


HEX16 = pattern(r"[0-9a-f]{16}", "16 lowercase hex digits")
HEX32 = pattern(r"[0-9a-f]{32}", "32 lowercase hex digits")
HEX64 = pattern(r"[0-9a-f]{64}", "64 lowercase hex digits")
HEX128 = pattern(r"[0-9a-f]{128}", "128 lowercase hex digits")
ID = ident()
SEQ = integer(0, MAX_SAFE)
POS_SEQ = integer(1, MAX_SAFE)
TIME = integer(0, MAX_SAFE)
MONEY = integer(0, MAX_MONEY)
POS_MONEY = integer(1, MAX_MONEY)
QTY = integer(1, MAX_QTY)
METHOD = one_of(METHODS)
NONZERO = integer(-MAX_SAFE, MAX_SAFE)

_PAYMENT = obj({"method": METHOD, "amount": POS_MONEY}, {"ref": ID})
_LINE = obj(
    {"sku": ID, "name": text(1, 120), "qty": QTY, "unit_price": MONEY, "amount": MONEY},
    {"discount": MONEY, "unit": text(1, 16), "weight_g": QTY, "unit_price_per_kg": MONEY,
     "length_mm": QTY, "unit_price_per_m": MONEY},
)
_TILL = {"till": ID, "cashier": ID}


def _nonzero_values(keys: tuple[str, ...], lo: int) -> Check:
    value = integer(lo, MAX_SAFE)
    base = mapping(keys, value)

    def check(v: Any) -> None:
        base(v)
        for key, x in v.items():
            if x == 0:
                raise _BadValueError("zero entries must be omitted", "." + key)

    fc.register(check, fc.map_form(frozenset(keys), value, nonzero=True))
    return check


TOTALS = obj({
    "net": integer(-MAX_SAFE, MAX_SAFE),
    "absolute": integer(0, MAX_SAFE),
    "methods": _nonzero_values(METHODS, -MAX_SAFE),
    "counts": _nonzero_values(TYPES, 1),
})

BODIES: dict[str, Check] = {
    "genesis": obj({"pubkey": HEX64, "software": text(1, 64)},
                   {"store": ID, "device": ID, "name": text(1, 120)}),
    "sale": obj(
        {"order": ID, "lines": array(_LINE, 1, 500), "total": MONEY,
         "payments": array(_PAYMENT, 0, 20)},
        {**_TILL, "customer": ID, "salesperson": ID, "note": text(0, 200)},
    ),
    "refund": obj(
        {"sale_seq": POS_SEQ, "order": ID, "lines": array(_LINE, 1, 500), "total": POS_MONEY,
         "payments": array(_PAYMENT, 1, 20), "reason": text(1, 200)},
        {**_TILL, "approval_seq": POS_SEQ},
    ),
    "void": obj(
        {"sale_seq": POS_SEQ, "total": MONEY, "payments": array(_PAYMENT, 0, 20),
         "reason": text(1, 200)},
        {**_TILL, "approval_seq": POS_SEQ},
    ),
    "payment": obj(
        {"purpose": one_of(("credit_settlement", "top_up", "deposit")),
         "method": one_of(tuple(m for m in METHODS if m != "credit")), "amount": POS_MONEY},
        {**_TILL, "customer": ID, "ref": ID, "note": text(0, 200)},
    ),
    "day_close": obj(
        {"day": day(), "z": integer(1, MAX_SAFE), "from_seq": POS_SEQ, "to_seq": SEQ,
         "period": TOTALS},
        {**_TILL, "cash_counted": MONEY},
    ),
    "handover": obj(
        {"task": ID, "step": integer(0, 10**6), "from_worker": ID, "to_worker": ID,
         "qty": integer(0, MAX_QTY)},
        {"step_name": text(1, 64), "product": ID, "batch": ID, "piece_rate": MONEY,
         "defects": array(obj({"reason": text(1, 64), "qty": QTY}), 0, 50),
         "supplier": ID, "outsourced": one_of(("out", "back")), "through": integer(0, 10**6)},
    ),
    "production_task": obj(
        {"task": ID, "product": ID, "product_name": text(1, 120), "qty": QTY,
         "route": array(obj({"step": integer(0, 10**6), "name": text(1, 64),
                             "piece_rate": MONEY}, {"outsource": one_of(("allowed",)),
                                                   "optional": one_of(("yes",))}), 1, 50)},
        {"spec": text(1, 120), "unit": text(1, 16), "due": day(),
         "source": one_of(("box", "hq")), "ref": ID},
    ),
    "split": obj(
        {"task": ID, "of": integer(1, 9999),
         "parts": array(obj({"part": integer(1, 9999), "qty": QTY}), 1, 9999)},
        {"replaces": integer(1, 9999)},
    ),
    "handover_undo": obj({"handover_seq": POS_SEQ, "reason": text(1, 200)},
                         {"approval_seq": POS_SEQ, "station": ID, "actor": ID}),
    "approval": obj(
        {"action": pattern(r"[a-z][a-z0-9_]{0,31}", "a lowercase action name"),
         "approver": ID, "via": one_of(("badge", "pin", "hq")), "subject": text(1, 200)},
        {"amount": MONEY, "ref_seq": SEQ},
    ),
    "audit": obj(
        {"event": pattern(r"[a-z][a-z0-9_.]{0,63}", "a lowercase dotted event name"),
         "actor": ID},
        {"detail": text(0, 500), "ref_seq": SEQ},
    ),
    "device_fault": obj(
        {"device": ID, "fault": pattern(r"[a-z][a-z0-9_]{0,31}", "a lowercase fault name"),
         "state": one_of(("raised", "cleared"))},
        {"detail": text(0, 200)},
    ),
    "clock_set": obj({"from": TIME, "to": TIME,
                      "reason": one_of(("backward_jump", "forward_jump", "manual", "ntp"))}),
    "key_rotate": obj({"new_key": HEX16, "new_pubkey": HEX64, "reason": text(1, 200),
                       "proof": HEX128}),
    "cosign": obj({"cosigner": pattern(r"[!-*,-~]{1,128}", "a note key name"),
                   "key_hash": pattern(r"[0-9a-f]{8}", "8 lowercase hex digits"),
                   "size": POS_SEQ, "head": HEX64, "time": integer(0, MAX_SAFE),
                   "sig": HEX128}),
}



def _any_object(v: Any) -> None:
    # Body and totals are checked later: the body by its type, totals against the arithmetic.
    if type(v) is not dict:
        raise _BadValueError(f"must be an object, got {got(v)}")


fc.register(_any_object, fc.dict_form)


_BOOT = r"[0-9a-z-]{1,64}"
RECORD = obj({
    "v": integer(VERSION, VERSION), "log": HEX32, "seq": SEQ, "time": TIME,
    "boot": pattern(_BOOT, "1 to 64 of [0-9a-z-]"), "type": one_of(TYPES),
    "body": _any_object, "prev": HEX64, "totals": _any_object, "key": HEX16,
})
_ENVELOPE_KEYS = frozenset(("v", "log", "seq", "time", "boot", "type", "body", "prev", "totals",
                            "key"))
_TYPE_SET = frozenset(TYPES)
_HEX = re.compile(r"[0-9a-f]+")
_BOOT_RX = re.compile(_BOOT)


def _envelope_ok(r: Any) -> bool:
    # The common case in one pass; anything unusual goes through RECORD for a precise error.
    return (type(r) is dict and r.keys() == _ENVELOPE_KEYS and r["v"] == VERSION
            and type(r["v"]) is int and type(r["seq"]) is int and 0 <= r["seq"] <= MAX_SAFE
            and type(r["time"]) is int and 0 <= r["time"] <= MAX_SAFE
            and type(r["log"]) is str and len(r["log"]) == 32 and _HEX.fullmatch(r["log"])
            is not None and type(r["prev"]) is str and len(r["prev"]) == 64
            and _HEX.fullmatch(r["prev"]) is not None and type(r["key"]) is str
            and len(r["key"]) == 16 and _HEX.fullmatch(r["key"]) is not None
            and type(r["boot"]) is str and _BOOT_RX.fullmatch(r["boot"]) is not None
            and type(r["type"]) is str and r["type"] in _TYPE_SET and type(r["body"]) is dict
            and type(r["totals"]) is dict)


def check_envelope(record: Any) -> None:
    """Check every record field except the body's and totals' insides (checked later)."""
    if not _envelope_ok(record):
        run(RECORD, record, "")


def run(check: Check, value: Any, path: str) -> None:
    """Apply `check`, raising RecordError with the full dotted field path on failure."""
    try:
        check(value)
    except _BadValueError as e:
        raise RecordError((path + e.path).lstrip(".") or "record", e.reason) from None


def _lines_add_up(body: Mapping[str, Any]) -> None:
    total = 0
    for i, line in enumerate(body["lines"]):
        if len(line) > 5:  # only lines with optional members can carry a measure (rule M)
            check_measured_line(line, f"body.lines[{i}]")
        gross = line["qty"] * line["unit_price"]
        discount = line.get("discount", 0)
        amount = line["amount"]
        if discount > gross:
            raise RecordError(f"body.lines[{i}].discount", "exceeds qty × unit_price")
        if amount != gross - discount:
            raise RecordError(f"body.lines[{i}].amount", f"is {amount}, qty × unit_price − "
                              f"discount is {gross - discount}")
        total += amount
    if body["total"] != total:
        raise RecordError("body.total", f"is {body['total']}, the lines add up to {total}")


def _payments_add_up(body: Mapping[str, Any]) -> None:
    paid = sum([p["amount"] for p in body["payments"]])
    if paid != body["total"]:
        raise RecordError("body.payments", f"add up to {paid}, total is {body['total']}")


def _parts_numbered(body: Mapping[str, Any]) -> None:
    # A first split numbers its parts 1..of; a re-split adds the last len(parts) numbers.
    n, of = len(body["parts"]), body["of"]
    first = of - n + 1
    if first < 1:
        raise RecordError("body.of", f"is {of}, fewer than the {n} parts")
    replaces = body.get("replaces")
    if replaces is None and first != 1:
        raise RecordError("body.of", f"a first split has parts 1..of; of must be {n}")
    for i, part in enumerate(body["parts"]):
        if part["part"] != first + i:
            raise RecordError(f"body.parts[{i}].part", f"must be {first + i}")
    if replaces is not None and replaces >= first:
        raise RecordError("body.replaces", f"must be an earlier part (< {first})")


_REFS = {"refund": ("sale_seq", "approval_seq"), "void": ("sale_seq", "approval_seq"),
         "approval": ("ref_seq",), "audit": ("ref_seq",),
         "handover_undo": ("handover_seq", "approval_seq")}
"""The members that point at earlier records, by type (the schema admits no others)."""


_FAST_BODIES = {t: fc.compile_check(c) for t, c in BODIES.items()}


def validate_body(type_: str, body: Any, seq: int) -> None:
    """Check a body against its type's schema and arithmetic; RecordError names the field."""
    fast = _FAST_BODIES.get(type_)
    if fast is None:
        raise RecordError("type", f"unknown record type {type_!r}")
    if not fast(body):  # the precise check says why
        run(BODIES[type_], body, "body")
    if type_ in ("sale", "refund"):
        _lines_add_up(body)
        _payments_add_up(body)
    elif type_ == "void":
        _payments_add_up(body)
    elif type_ == "day_close":
        if body["to_seq"] != seq - 1:
            raise RecordError("body.to_seq", f"must be {seq - 1} (the record before this one)")
    elif type_ == "split":
        _parts_numbered(body)
    elif type_ == "genesis" and seq != 0:
        raise RecordError("type", "genesis is only allowed at seq 0")
    for ref in _REFS.get(type_, ()):
        if ref in body and body[ref] >= seq:
            raise RecordError(f"body.{ref}", f"must refer to an earlier record (< {seq})")
    if type_ == "cosign" and body["size"] > seq:
        raise RecordError("body.size", f"must not exceed {seq} (records before this one)")


def validate_record(record: Any) -> None:
    """Check the record envelope (every field but the body's inside) and the body."""
    check_envelope(record)
    validate_body(record["type"], record["body"], record["seq"])
