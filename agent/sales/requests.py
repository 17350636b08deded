"""Local-API requests turned into journal record bodies (pure); errors name the request field.

The bodies are checked with the journal's own rules (sync.journal.schema.validate_body), so the
API refuses exactly what the journal would; a RecordError's `body.…` path is renamed to the
request's field (`cashier` → `clerk`, `customer` → `member`, …).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drivers import InvalidInput
from drivers.label.flowcard import FlowCard, parse_flow_card
from sync.journal import RecordError
from sync.journal.measure import line_measure, measured_price
from sync.journal.schema import ID, MAX_MONEY, run, text, validate_body
from validation import ValidationError
from validation.decode import convert, unknown_keys

SALE_FIELDS = frozenset({"order", "clerk", "till", "member", "salesperson", "note", "lines",
                         "total", "payments", "print", "open_drawer"})
REFUND_FIELDS = frozenset({"sale_seq", "order", "lines", "total", "payments", "reason", "clerk",
                           "till", "approval"})
VOID_FIELDS = frozenset({"sale_seq", "reason", "clerk", "till", "approval"})
HANDOVER_FIELDS = frozenset({"flow_card", "step", "step_name", "worker", "to_worker", "good",
                             "defective", "defect_reason", "product", "piece_rate"})
DAY_CLOSE_FIELDS = frozenset({"day", "clerk", "till", "cash_counted", "print", "printer"})
REOPEN_FIELDS = frozenset({"day", "reason", "clerk", "approval"})

RENAMES = {"cashier": "clerk", "customer": "member"}
HANDOVER_RENAMES = {"task": "flow_card", "batch": "flow_card", "from_worker": "worker",
                    "qty": "good", "defects[0].qty": "defective",
                    "defects[0].reason": "defect_reason", "defects": "defective"}
UNKNOWN_WORKER = "-"
"""`to_worker` when the next step's worker is not known yet (their own scan names them)."""


def request_object(raw: object, allowed: frozenset[str], path: str = "") -> Mapping[str, Any]:
    """The request body (or its member at `path`) as an object with only `allowed` members;
    the values are checked by the journal's rules (`validated`)."""
    try:
        obj = convert(raw, dict[str, Any], prefix=path, whole="body")
    except ValidationError as e:
        raise InvalidInput(e.path, e.reason) from None
    for problem in unknown_keys(obj, set(allowed), path, toml=False)[:1]:
        raise InvalidInput(problem.path, problem.reason)
    return obj


def input_error(e: RecordError, renames: Mapping[str, str] = RENAMES) -> InvalidInput:
    """A journal rule's error as a request error: `body.cashier` → `clerk`."""
    field = e.field.removeprefix("body.") if e.field != "body" else "body"
    for src in sorted(renames, key=len, reverse=True):
        if field == src or field.startswith((src + ".", src + "[")):
            field = renames[src] + field[len(src):]
            break
    return InvalidInput(field, e.reason)


def check(rule: Any, value: object, field: str) -> None:
    """Apply one of the journal's value rules to a request field."""
    try:
        run(rule, value, field)
    except RecordError as e:
        raise InvalidInput(e.field, e.reason) from None


def validated(type_: str, body: dict[str, Any], seq: int,
              renames: Mapping[str, str] = RENAMES) -> dict[str, Any]:
    """`body` if the journal would accept it as record `seq` of `type_`; else InvalidInput."""
    try:
        validate_body(type_, body, seq)
    except RecordError as e:
        raise input_error(e, renames) from None
    return body


def _optional(raw: Mapping[str, Any], body: dict[str, Any], pairs: tuple[tuple[str, str], ...]
              ) -> None:
    for src, dst in pairs:
        if raw.get(src) is not None:
            body[dst] = raw[src]


def fill_measured(line: Mapping[str, Any]) -> dict[str, Any]:
    """A measured line (weight_g × unit_price_per_kg, …) with qty 1 and unit_price filled in
    when absent; the journal's rule M then checks what was given (docs/journal.md §5)."""
    copy = dict(line)
    names = line_measure(line)
    if names is not None:
        measure, price = line.get(names[0]), line.get(names[1])
        if type(measure) is int and type(price) is int and measure >= 0 and price >= 0:
            copy.setdefault("qty", 1)
            copy.setdefault("unit_price", measured_price(measure, price))
    return copy


def _lines(raw: Mapping[str, Any]) -> list[Any]:
    lines = raw.get("lines")
    if not isinstance(lines, list):
        raise InvalidInput("lines", "must be a list of lines")
    out: list[Any] = []
    for i, line in enumerate(lines):
        if not isinstance(line, Mapping):
            out.append(line)
            continue
        copy = fill_measured(line)
        qty, price, disc = copy.get("qty"), copy.get("unit_price"), copy.get("discount", 0)
        if "amount" not in copy and type(qty) is int and type(price) is int \
                and type(disc) is int:
            if disc > qty * price:
                raise InvalidInput(f"lines[{i}].discount", "exceeds qty × unit_price")
            copy["amount"] = qty * price - disc
        out.append(copy)
    return out


def _total(raw: Mapping[str, Any], lines: list[Any]) -> Any:
    if "total" in raw:
        return raw["total"]
    amounts = [x.get("amount") for x in lines if isinstance(x, Mapping)]
    if len(amounts) == len(lines) and all(type(a) is int for a in amounts):
        return sum(amounts)
    return 0


def sale_body(raw: Mapping[str, Any], order: str, seq: int) -> dict[str, Any]:
    """The `sale` body of a POST /v1/sales request (line amounts and total filled in if left out).

    `order` is used when the request names none.
    """
    lines = _lines(raw)
    payments = raw.get("payments", [])
    body: dict[str, Any] = {"order": raw.get("order", order), "lines": lines,
                            "total": _total(raw, lines),
                            "payments": [dict(p) if isinstance(p, Mapping) else p
                                         for p in payments] if isinstance(payments, list)
                            else payments}
    _optional(raw, body, (("clerk", "cashier"), ("till", "till"), ("member", "customer"),
                          ("salesperson", "salesperson"), ("note", "note")))
    return validated("sale", body, seq)


def refund_body(raw: Mapping[str, Any], sale: Mapping[str, Any], seq: int) -> dict[str, Any]:
    """The `refund` body against `sale` (a sale body); payments default to the sale's one method."""
    lines = _lines(raw)
    total = _total(raw, lines)
    payments = raw.get("payments")
    if payments is None:
        methods = {p["method"] for p in sale["payments"]}
        if len(methods) != 1:
            raise InvalidInput("payments", "the sale was paid by several methods; say how much "
                                           "goes back by which")
        payments = [{"method": methods.pop(), "amount": total}]
    body: dict[str, Any] = {"sale_seq": raw.get("sale_seq"), "order": raw.get("order",
                                                                               sale["order"]),
                            "lines": lines, "total": total, "payments": payments,
                            "reason": raw.get("reason")}
    _optional(raw, body, (("clerk", "cashier"), ("till", "till")))
    return validated("refund", body, seq)


def void_body(raw: Mapping[str, Any], sale: Mapping[str, Any], seq: int) -> dict[str, Any]:
    """The `void` body of `sale`: its total and payments, exactly (docs/journal.md §9.2 10c)."""
    body: dict[str, Any] = {"sale_seq": raw.get("sale_seq"), "total": sale["total"],
                            "payments": sale["payments"], "reason": raw.get("reason")}
    _optional(raw, body, (("clerk", "cashier"), ("till", "till")))
    return validated("void", body, seq)


def sold_left(sale: Mapping[str, Any], refunds: list[Mapping[str, Any]]) -> dict[str, int]:
    """Quantity per sku still refundable: sold minus refunded so far."""
    left: dict[str, int] = {}
    for line in sale["lines"]:
        left[line["sku"]] = left.get(line["sku"], 0) + line["qty"]
    for refund in refunds:
        for line in refund["lines"]:
            left[line["sku"]] = left.get(line["sku"], 0) - line["qty"]
    return left


def check_refund_lines(body: Mapping[str, Any], left: dict[str, int]) -> None:
    """Never more of a sku than was sold and not yet refunded; InvalidInput names the line."""
    want: dict[str, int] = {}
    for i, line in enumerate(body["lines"]):
        sku = line["sku"]
        if sku not in left:
            raise InvalidInput(f"lines[{i}].sku", f"{sku} was not sold in this sale")
        want[sku] = want.get(sku, 0) + line["qty"]
        if want[sku] > left[sku]:
            raise InvalidInput(f"lines[{i}].qty", f"only {max(left[sku], 0)} of {sku} are left "
                                                  "to refund")


@dataclass(frozen=True)
class Handover:
    """A handover request: the card it was validated against and the record body."""

    card: FlowCard
    body: dict[str, Any]


def _count(value: object, name: str) -> int:
    if type(value) is not int or value < 0:
        raise InvalidInput(name, "must be a whole number ≥ 0")
    return value


def handover_body(raw: Mapping[str, Any], worker: str, seq: int) -> Handover:
    """The `handover` body for a scanned flow card; `worker` is the resolved worker id."""
    payload = raw.get("flow_card")
    if not isinstance(payload, str):
        raise InvalidInput("flow_card", "must be the text scanned from the flow card's QR code")
    try:
        card = parse_flow_card(payload)
    except InvalidInput as e:
        raise InvalidInput("flow_card" + e.field.removeprefix("payload"), e.reason) from None
    good = _count(raw.get("good"), "good")
    defective = _count(raw.get("defective", 0), "defective")
    if good + defective > card.qty:
        raise InvalidInput("good", f"good + defective = {good + defective} is more than the "
                                   f"{card.qty} on flow card {card.task} {card.split}/{card.of}")
    reason = raw.get("defect_reason")
    if defective and reason is None:
        raise InvalidInput("defect_reason", "is required when there are defective pieces")
    if reason is not None and not defective:
        raise InvalidInput("defect_reason", "only goes with defective > 0")
    check(ID, worker, "worker")
    body: dict[str, Any] = {"task": card.task, "batch": f"{card.task}#{card.split}/{card.of}",
                            "step": raw.get("step"), "from_worker": worker,
                            "to_worker": raw.get("to_worker", UNKNOWN_WORKER), "qty": good}
    if defective:
        check(text(1, 64), reason, "defect_reason")
        body["defects"] = [{"reason": reason, "qty": defective}]
    _optional(raw, body, (("step_name", "step_name"), ("product", "product"),
                          ("piece_rate", "piece_rate")))
    return Handover(card, validated("handover", body, seq, HANDOVER_RENAMES))


def cash_counted(raw: Mapping[str, Any]) -> int | None:
    """The optional `cash_counted` of a day close, in fen."""
    value = raw.get("cash_counted")
    if value is None:
        return None
    if type(value) is not int or not 0 <= value <= MAX_MONEY:
        raise InvalidInput("cash_counted", "must be an amount in fen")
    return value
