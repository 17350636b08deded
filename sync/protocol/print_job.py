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
from typing import Annotated, Any, Literal, cast

from msgspec import UNSET, Meta, UnsetType

from sync.protocol import ProtocolError
from validation import Schema, ValidationError
from validation.decode import convert
from validation.reasons import got

JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")

MAX_RAW = 4 * 1024 * 1024
MAX_COPIES = 20
MAX_PRINTER_ID = 64
RECEIPT_TEMPLATES = ("receipt", "sales_slip", "picking_list", "self_test", "defect_sheet")
"""Templates of receipt printers (rendered by agent/templates)."""
LABEL_TEMPLATES = ("flow_card", "price_label", "shipping_label")
"""Templates of label printers (rendered by drivers/label)."""
TEMPLATES = RECEIPT_TEMPLATES + LABEL_TEMPLATES
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


REPRINT_TITLE = "** 补打 **"
"""The double-size heading of a reprint's paper (docs/print-jobs.md, Templates)."""


def reprint_lines(of: str, reason: str) -> tuple[str, str]:
    """The lines under REPRINT_TITLE: the original job and the reason."""
    return f"原单: {of}", f"补打原因: {reason}"


def canonical_json(value: object) -> bytes:
    """Sorted-key compact UTF-8 JSON, the form hashed to compare two submissions."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class JobEnvelope(Schema, frozen=True, kw_only=True):
    """The job envelope of docs/print-jobs.md; exactly one of template, document or raw.

    `id`'s pattern, the one-of rule and the object types of `data` and `document` are checked by
    parse_job: as schema constraints they cost the queue's acceptance path more than they do by
    hand (a regex called from C, a copy of `data`).
    """

    id: str
    printer: Annotated[str, Meta(min_length=1, max_length=MAX_PRINTER_ID, extra={
        "reason": f"must be a printer id of 1-{MAX_PRINTER_ID} characters"})]
    template: str | UnsetType = UNSET
    data: Any = UNSET
    document: Any = UNSET
    raw: str | UnsetType = UNSET
    copies: Annotated[int, Meta(ge=1, le=MAX_COPIES)] = 1
    expires_at: str | None = None


def parse_job(raw: object) -> PrintJob:
    """Validate a job's envelope; ProtocolError names the field (`copies`, not `job.copies`)."""
    try:
        env = convert(raw, JobEnvelope, whole="job", toml=False)
    except ValidationError as e:
        raise ProtocolError(e.path, e.reason) from None
    if not JOB_ID.fullmatch(env.id):
        raise ProtocolError("id", "must be 1-128 characters of A-Z a-z 0-9 . _ : - "
                                  "(the sender's id, kept across retries)")
    given = cast(Mapping[str, object], raw)
    present: list[JobKind] = [k for k in ("template", "document", "raw") if k in given]
    if len(present) != 1:
        raise ProtocolError("template", "exactly one of template, document or raw is required")
    expires_at_ms = None if env.expires_at is None else parse_time(env.expires_at, "expires_at")
    kind = present[0]
    template = None
    raw_bytes = None
    if isinstance(env.template, str):
        template = _template(env.template)
        if env.data is UNSET:
            raise ProtocolError("data", "is required with a template")
        if not isinstance(env.data, dict):
            raise ProtocolError("data", f"must be an object, got {got(env.data)}")
    elif env.data is not UNSET:
        raise ProtocolError("data", "only goes with template")
    if kind == "document" and not isinstance(env.document, dict):
        raise ProtocolError("document", f"must be an object, got {got(env.document)}")
    if isinstance(env.raw, str):
        raw_bytes = _raw(env.raw)
    body = dict(given)
    return PrintJob(env.id, env.printer, kind, env.copies, expires_at_ms, body,
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
