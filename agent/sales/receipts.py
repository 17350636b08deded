"""Print jobs made from records: a sale's receipt with its journal QR code, a day's Z report.

Job ids derive from the record (`sale-<log>-<seq>-receipt`, `zreport-<log>-<seq>`), so a
retried request finds the job already queued and nothing prints twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.config import Config, PrinterConfig
from agent.printing.jobs import PrintJob, is_label_printer, parse_job, render_job
from drivers import InvalidInput
from sync.journal.measure import MEASURES
from validation.decode import unknown_keys
from validation.reasons import unknown_key

RECEIPT_EXTRAS = frozenset({"store", "member", "footer", "change", "cashier"})
"""Receipt template fields a sale request may add; everything else comes from the record."""
_FROM_SALE = {"order_no": "order", "till": "till", "lines": "lines", "total": "total",
              "payments": "payments", "time": "time", "qr": "qr"}
PLACEHOLDER_QR = "SLJ1:" + "0" * 275
"""As long as a real receipt code: the receipt is laid out with it before the sale commits."""


@dataclass(frozen=True)
class PrintRequest:
    """Where a sale's receipt prints and the template fields the client adds."""

    printer: str
    receipt: Mapping[str, Any]


def receipt_printer(config: Config, printer: object, field: str) -> PrinterConfig:
    """The configured receipt printer named `printer` (or journal.receipt_printer if None)."""
    if printer is None:
        printer = config.journal.receipt_printer
        if printer is None:
            raise InvalidInput(field, "name a printer (no journal.receipt_printer is configured)")
    if not isinstance(printer, str):
        raise InvalidInput(field, "must be a printer id")
    cfg = config.printer(printer)
    if cfg is None:
        raise InvalidInput(field, f"no printer {printer!r}")
    if is_label_printer(cfg.profile):
        raise InvalidInput(field, f"{printer} is a label printer; receipts need a receipt printer")
    return cfg


def parse_print(raw: object, config: Config) -> PrintRequest:
    """A sale request's `print`: {"printer": id?, "receipt": {store, member, footer, …}?}."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("print", 'must be an object: {"printer": …, "receipt": {…}}')
    for problem in unknown_keys(raw, {"printer", "receipt"}, "print", toml=False)[:1]:
        raise InvalidInput(problem.path, problem.reason)
    cfg = receipt_printer(config, raw.get("printer"), "print.printer")
    receipt = raw.get("receipt", {})
    if not isinstance(receipt, Mapping):
        raise InvalidInput("print.receipt", "must be an object")
    for key in receipt:
        if key in _FROM_SALE:
            raise InvalidInput(f"print.receipt.{key}", "is taken from the sale record")
        if key not in RECEIPT_EXTRAS:
            raise InvalidInput(f"print.receipt.{key}", unknown_key(key, RECEIPT_EXTRAS, False))
    return PrintRequest(cfg.id, receipt)


def local_time(ms: int) -> str:
    """A record time as the box's local ISO 8601 time with offset."""
    return datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")


def receipt_data(body: Mapping[str, Any], time_ms: int, extras: Mapping[str, Any],
                 store_name: str, qr: str) -> dict[str, Any]:
    """Template `receipt` data for a sale body; change is added to the first cash payment."""
    change = extras.get("change", 0)
    payments: list[dict[str, Any]] = []
    for p in body["payments"]:
        amount = p["amount"]
        if change and type(change) is int and p["method"] == "cash" and not any(
                q["method"] == "cash" for q in payments):
            amount += change
        payments.append({"method": p["method"], "amount": amount})
    lines = [{k: line[k] for k in ("name", "sku", "qty", "unit", "unit_price", "discount",
                                   "amount", *MEASURE_MEMBERS) if k in line}
             for line in body["lines"]]
    data: dict[str, Any] = {"store": {"name": store_name}, "order_no": body["order"],
                            "till": body.get("till", "-"), "cashier": body.get("cashier", "-"),
                            "time": local_time(time_ms), "lines": lines, "total": body["total"],
                            "payments": payments, **extras, "qr": qr}
    return data


MEASURE_MEMBERS = tuple(m for names in MEASURES for m in names[:2])


def receipt_job_id(log: str, seq: int) -> str:
    """The print job id of sale `seq`'s receipt."""
    return f"sale-{log}-{seq}-receipt"


def receipt_job(job_id: str, printer: str, data: Mapping[str, Any]) -> PrintJob:
    """The receipt print job."""
    return parse_job({"id": job_id, "printer": printer, "template": "receipt", "data": data})


def _request_field(field: str, extras: Mapping[str, Any]) -> str:
    name = field.removeprefix("data.")
    head = name.split(".")[0].split("[")[0]
    if head in extras or (head not in _FROM_SALE and head != "cashier"):
        return "print.receipt." + name
    if head == "cashier":
        return "clerk"
    return _FROM_SALE[head] + name[len(head):]


def check_receipt(request: PrintRequest, body: Mapping[str, Any], printer: PrinterConfig,
                  store_name: str) -> None:
    """Lay the receipt out before the sale commits; InvalidInput names the request field."""
    data = receipt_data(body, 0, request.receipt, store_name, PLACEHOLDER_QR)
    try:
        render_job(receipt_job("check", printer.id, data), printer.profile)
    except InvalidInput as e:
        raise InvalidInput(_request_field(e.field, request.receipt), e.reason) from None


ZREPORT_EXPIRY_MS = 24 * 3600 * 1000
"""A Z report still prints when its printer comes back within a day (a receipt expires sooner)."""


def zreport_job(log: str, seq: int, printer: str, document: Mapping[str, Any],
                time_ms: int) -> PrintJob:
    """The Z report print job of day close `seq` made at `time_ms`."""
    return parse_job({"id": f"zreport-{log}-{seq}", "printer": printer, "document": document,
                      "expires_at": local_time(time_ms + ZREPORT_EXPIRY_MS)})
