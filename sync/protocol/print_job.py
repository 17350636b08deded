"""The print job envelope of docs/print-jobs.md, validated once for both ends: HQ checks it before
it answers `POST /v1/print-jobs`, the box at its cloud intake and its local API.

The envelope is everything that does not depend on the printer: id, printer, exactly one of
template/document/raw, copies, expiry, the template's name and the shape of its data. What the
content looks like on paper (every template field, every document element) is checked by the
box's renderers, which need the printer's profile.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sync.protocol import ProtocolError

JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")

MAX_RAW = 4 * 1024 * 1024
MAX_COPIES = 20
MAX_PRINTER_ID = 64
RECEIPT_TEMPLATES = ("receipt", "sales_slip", "picking_list", "self_test")
"""Templates of receipt printers (rendered by agent/templates)."""
LABEL_TEMPLATES = ("flow_card", "price_label", "shipping_label")
"""Templates of label printers (rendered by drivers/label)."""
TEMPLATES = RECEIPT_TEMPLATES + LABEL_TEMPLATES
FIELDS = frozenset({"id", "printer", "template", "data", "document", "raw", "copies",
                    "expires_at"})
JobKind = Literal["template", "document", "raw"]


@dataclass(frozen=True)
class PrintJob:
    """A job whose envelope is valid; `body_hash` identifies its content for duplicate checks."""

    id: str
    printer: str
    kind: JobKind
    copies: int
    expires_at_ms: int | None
    body: Mapping[str, object]
    body_hash: str
    template: str | None = None
    raw: bytes | None = None

    @property
    def label(self) -> str:
        """What the job prints, for lists and logs: the template name, 'document' or 'raw'."""
        return self.template or self.kind


def canonical_json(value: object) -> bytes:
    """Sorted-key compact UTF-8 JSON, the form hashed to compare two submissions."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_job(raw: object) -> PrintJob:
    """Validate a job's envelope; ProtocolError names the field (`copies`, not `job.copies`)."""
    if not isinstance(raw, Mapping):
        raise ProtocolError("job", "must be a JSON object")
    for k in raw:
        if k not in FIELDS:
            raise ProtocolError(str(k), "unknown field")
    job_id = raw.get("id")
    if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
        raise ProtocolError("id", "must be 1-128 characters of A-Z a-z 0-9 . _ : - "
                                  "(the sender's id, kept across retries)")
    printer = raw.get("printer")
    if not isinstance(printer, str) or not 1 <= len(printer) <= MAX_PRINTER_ID:
        raise ProtocolError("printer", f"must be a printer id of 1-{MAX_PRINTER_ID} characters")
    present: list[JobKind] = [k for k in ("template", "document", "raw") if k in raw]
    if len(present) != 1:
        raise ProtocolError("template", "exactly one of template, document or raw is required")
    copies = raw.get("copies", 1)
    if isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES:
        raise ProtocolError("copies", f"must be an integer 1-{MAX_COPIES}")
    expires_at_ms = None
    if raw.get("expires_at") is not None:
        expires_at_ms = parse_time(raw["expires_at"], "expires_at")
    kind = present[0]
    template = None
    raw_bytes = None
    if kind == "template":
        template = _template(raw["template"])
        if not isinstance(raw.get("data"), Mapping):
            raise ProtocolError("data", "must be an object")
    elif "data" in raw:
        raise ProtocolError("data", "only goes with template")
    if kind == "document" and not isinstance(raw["document"], Mapping):
        raise ProtocolError("document", "must be an object")
    if kind == "raw":
        raw_bytes = _raw(raw["raw"])
    body = dict(raw)
    return PrintJob(job_id, printer, kind, copies, expires_at_ms, body,
                    hashlib.sha256(canonical_json(body)).hexdigest(), template, raw_bytes)


def parse_dispatched(raw: object) -> PrintJob:
    """`parse_job` for the job inside a dispatch or an HQ submission: fields named `job.copies`."""
    try:
        return parse_job(raw)
    except ProtocolError as e:
        raise ProtocolError("job" if e.field == "job" else f"job.{e.field}", e.reason) from None


def _template(name: object) -> str:
    if not isinstance(name, str):
        raise ProtocolError("template", "must be a template name")
    if name not in TEMPLATES:
        raise ProtocolError("template", f"unknown template {name[:64]!r} (known: "
                                        f"{', '.join(TEMPLATES)})")
    return name


def _raw(b64: object) -> bytes:
    if not isinstance(b64, str):
        raise ProtocolError("raw", "must be a base64 string")
    try:
        data = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("raw", "is not valid base64") from None
    if not data or len(data) > MAX_RAW:
        raise ProtocolError("raw", f"must be 1 to {MAX_RAW} bytes")
    return data


def parse_time(v: object, field: str) -> int:
    """An RFC 3339 date-time with a UTC offset, as milliseconds since the epoch."""
    if not isinstance(v, str):
        raise ProtocolError(field, "must be an RFC 3339 date-time with a UTC offset")
    try:
        t = datetime.fromisoformat(v)
    except ValueError:
        raise ProtocolError(field, "must be an RFC 3339 date-time with a UTC offset") from None
    if t.tzinfo is None:
        raise ProtocolError(field, "needs a UTC offset (e.g. +08:00 or Z)")
    return int(t.timestamp() * 1000)
