"""Print jobs: the JSON contract of docs/print-jobs.md, validated, and rendered to printer bytes.

One envelope for every printer: a receipt printer (ESC/POS) takes receipt templates and block
documents, a label printer (TSPL, ZPL) label templates and label documents (docs/labels.md).
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

from agent.templates import TEMPLATES as RECEIPT_TEMPLATES
from agent.templates import build_document
from drivers import InvalidInput
from drivers.escpos.document import parse_document
from drivers.escpos.encoder import Encoded, encode
from drivers.label import TEMPLATES as LABEL_TEMPLATES
from drivers.label import build_template, encode_label, parse_label
from drivers.profiles import PrinterProfile
from validation import Schema, ValidationError
from validation.decode import convert
from validation.reasons import got

JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}$")
MAX_RAW = 4 * 1024 * 1024
MAX_COPIES = 20
JobKind = Literal["template", "document", "raw"]
LABEL_LANGUAGES = frozenset({"tspl", "zpl"})
"""Profile languages of label printers; every other language is a receipt printer's."""


@dataclass(frozen=True)
class PrintJob:
    """A validated print job; `body_hash` identifies its content for duplicate detection."""

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


class JobEnvelope(Schema, frozen=True, kw_only=True):
    """The job envelope of docs/print-jobs.md; exactly one of template, document or raw.

    `id`'s pattern and `data`'s type are checked by parse_job: as schema constraints they
    cost the queue's acceptance path more than they do by hand (a regex called from C, a copy
    of `data`).
    """

    id: str
    printer: Annotated[str, Meta(min_length=1, extra={"reason": "must be a printer id"})]
    template: str | UnsetType = UNSET
    data: Any = UNSET
    document: Any = UNSET
    raw: str | UnsetType = UNSET
    copies: Annotated[int, Meta(ge=1, le=MAX_COPIES)] = 1
    expires_at: str | None = None


def parse_job(raw: object) -> PrintJob:
    """Validate the job envelope; InvalidInput names the field. Content is checked by render_job."""
    try:
        env = convert(raw, JobEnvelope, whole="job")
    except ValidationError as e:
        raise InvalidInput(e.path, e.reason) from None
    if not JOB_ID.match(env.id):
        raise InvalidInput("id", "must be 1-128 characters of A-Z a-z 0-9 . _ : - (the "
                                 "sender's id, kept across retries)")
    raw = cast(Mapping[str, object], raw)
    present = [k for k in ("template", "document", "raw") if k in raw]
    if len(present) != 1:
        raise InvalidInput("template", "exactly one of template, document or raw is required")
    expires_at_ms = None
    if env.expires_at is not None:
        expires_at_ms = _parse_time(env.expires_at, "expires_at")
    kind = present[0]
    template = None
    raw_bytes = None
    if isinstance(env.template, str):
        template = env.template
        if env.data is UNSET:
            raise InvalidInput("data", "is required with a template")
        if not isinstance(env.data, dict):
            raise InvalidInput("data", f"must be an object, got {got(env.data)}")
    elif env.data is not UNSET:
        raise InvalidInput("data", "only goes with template")
    if isinstance(env.raw, str):
        try:
            raw_bytes = base64.b64decode(env.raw, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("raw", "is not valid base64") from None
        if not raw_bytes or len(raw_bytes) > MAX_RAW:
            raise InvalidInput("raw", f"must be 1 to {MAX_RAW} bytes")
    body = dict(raw)
    return PrintJob(env.id, env.printer, "template" if kind == "template" else
                    "document" if kind == "document" else "raw", env.copies, expires_at_ms, body,
                    hashlib.sha256(canonical_json(body)).hexdigest(), template, raw_bytes)


def _parse_time(v: object, field: str) -> int:
    if not isinstance(v, str):
        raise InvalidInput(field, "must be an RFC 3339 date-time with a UTC offset")
    try:
        t = datetime.fromisoformat(v)
    except ValueError:
        raise InvalidInput(field, "must be an RFC 3339 date-time with a UTC offset") from None
    if t.tzinfo is None:
        raise InvalidInput(field, "needs a UTC offset (e.g. +08:00 or Z)")
    return int(t.timestamp() * 1000)


def is_label_printer(profile: PrinterProfile) -> bool:
    """True for a TSPL or ZPL label printer profile."""
    return profile.language in LABEL_LANGUAGES


def render_job(job: PrintJob, profile: PrinterProfile) -> Encoded:
    """The bytes for one copy of `job` on a printer of `profile`; InvalidInput if content is bad."""
    if job.raw is not None:
        return Encoded((job.raw,), 0)
    if is_label_printer(profile):
        return Encoded((_render_label(job, profile),), 0)
    if job.template in LABEL_TEMPLATES:
        raise InvalidInput("template", f"{job.template} is a label template, and printer "
                                       f"profile {profile.name} is a receipt printer "
                                       f"({profile.language}); send it to a label printer")
    if job.template is not None:
        doc = build_document(job.template, job.body.get("data"), profile)
    else:
        doc = parse_document(job.body.get("document"))
    return encode(doc, profile)


def _render_label(job: PrintJob, profile: PrinterProfile) -> bytes:
    """The TSPL / ZPL bytes of a label template or label document (docs/labels.md)."""
    if job.template is None:
        return encode_label(parse_label(job.body.get("document")), profile)
    if job.template in RECEIPT_TEMPLATES:
        raise InvalidInput("template", f"{job.template} is a receipt template, and printer "
                                       f"profile {profile.name} is a {profile.language} label "
                                       f"printer (label templates: "
                                       f"{', '.join(LABEL_TEMPLATES)})")
    doc = build_template(job.template, job.body.get("data"))
    try:
        return encode_label(doc, profile)
    except InvalidInput as e:
        # Templates fit every built-in label printer; a narrower custom profile may not.
        raise InvalidInput("template", f"{job.template} does not fit printer profile "
                                       f"{profile.name}: {e.field}: {e.reason}") from None
