"""Print jobs: the JSON contract of docs/print-jobs.md, validated, and rendered to printer bytes.

One envelope for every printer: a receipt printer (ESC/POS) takes receipt templates and block
documents, a label printer (TSPL, ZPL) label templates and label documents (docs/labels.md).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from drivers import InvalidInput
from drivers.print_budget import Budget, JobTooLarge
from drivers.profiles import PrinterProfile
from sync.protocol import ProtocolError
from sync.protocol import print_job as envelope
from sync.protocol.print_job import MAX_COPIES, PrintJob, canonical_json

if TYPE_CHECKING:
    from drivers.escpos.encoder import Encoded

# The renderers (templates, ESC/POS encoder, label layout) are imported with the first job
# that needs them, not at start: an idle box does not hold them (docs/deploy.md).

LABEL_LANGUAGES = frozenset({"tspl", "zpl"})
"""Profile languages of label printers; every other language is a receipt printer's."""
INLINE_MAX_BYTES = 4096
"""A receipt job of at most this many bytes of JSON may be rendered on the event loop."""
INLINE_CPU_S = 0.005
"""CPU time a rendering may take on the event loop before it goes to a thread instead."""
_RENDERERS = frozenset({"agent.printing.templates", "drivers.escpos.encoder"})
__all__ = ["INLINE_CPU_S", "INLINE_MAX_BYTES", "MAX_COPIES", "PrintJob", "canonical_json",
           "is_label_printer", "parse_job", "render_inline", "render_job"]


def parse_job(raw: object) -> PrintJob:
    """Validate the job envelope with the rules HQ uses too (sync.protocol.print_job);
    InvalidInput names the field. Content is checked by render_job."""
    try:
        return envelope.parse_job(raw)
    except ProtocolError as e:
        raise InvalidInput(e.field, e.reason) from None


def is_label_printer(profile: PrinterProfile) -> bool:
    """True for a TSPL or ZPL label printer profile."""
    return profile.language in LABEL_LANGUAGES


def render_inline(job: PrintJob, profile: PrinterProfile, size: int,
                  cpu_s: float = INLINE_CPU_S) -> Encoded | None:
    """`job` (`size` bytes of JSON) rendered on the calling thread when that is cheap, else None:
    raw bytes, or a receipt job of at most INLINE_MAX_BYTES that needs no raster (no image,
    raster text or raster symbol), has no QR code and takes under `cpu_s` of CPU (a sales slip
    or picking list: 2-3 ms). InvalidInput for bad content."""
    if job.raw is None and (is_label_printer(profile) or size > INLINE_MAX_BYTES
                            or not _RENDERERS.issubset(sys.modules)):
        return None  # (the first job imports the renderers, on a thread)
    try:
        # No pixels, raster rows or QR codes: the encoder charges each before working on it.
        return render_job(job, profile, Budget("document", 0, 0, cpu_s, max_qr=0))
    except JobTooLarge:
        return None  # over this budget, not necessarily over the real one: a thread decides


def render_job(job: PrintJob, profile: PrinterProfile, budget: Budget | None = None) -> Encoded:
    """The bytes for one copy of `job` on a printer of `profile`; InvalidInput if content is bad,
    JobTooLarge (an InvalidInput) if it would cost more than `budget` (by default what
    drivers.print_budget allows a receipt document) or a label's budget."""
    from agent.printing.templates import TEMPLATES as RECEIPT_TEMPLATES
    from agent.printing.templates import build_document
    from drivers.escpos.document import parse_document
    from drivers.escpos.encoder import Encoded, encode

    if job.raw is not None:
        return Encoded((job.raw,), 0)
    if is_label_printer(profile):
        return Encoded((_render_label(job, profile),), 0)
    if job.template is not None and job.template not in RECEIPT_TEMPLATES \
            and job.template in _label_templates():
        raise InvalidInput("template", f"{job.template} is a label template, and printer "
                                       f"profile {profile.name} is a receipt printer "
                                       f"({profile.language}); send it to a label printer")
    if job.template is None:
        return encode(parse_document(job.body.get("document")), profile, budget)
    doc = build_document(job.template, job.body.get("data"), profile)
    try:
        return encode(doc, profile, budget)
    except JobTooLarge as e:
        raise JobTooLarge("data", f"the {job.template} is too large to print "
                                  f"({e.field}: {e.reason})") from None


def _render_label(job: PrintJob, profile: PrinterProfile) -> bytes:
    """The TSPL / ZPL bytes of a label template or label document (docs/labels.md)."""
    from agent.printing.templates import TEMPLATES as RECEIPT_TEMPLATES
    from drivers.label import TEMPLATES, build_template, encode_label, parse_label

    if job.template is None:
        return encode_label(parse_label(job.body.get("document")), profile)
    if job.template in RECEIPT_TEMPLATES:
        raise InvalidInput("template", f"{job.template} is a receipt template, and printer "
                                       f"profile {profile.name} is a {profile.language} label "
                                       f"printer (label templates: "
                                       f"{', '.join(TEMPLATES)})")
    doc = build_template(job.template, job.body.get("data"))
    try:
        return encode_label(doc, profile)
    except JobTooLarge as e:
        raise JobTooLarge("data", f"the {job.template} is too large to print "
                                  f"({e.field}: {e.reason})") from None
    except InvalidInput as e:
        # Templates fit every built-in label printer; a narrower custom profile may not.
        raise InvalidInput("template", f"{job.template} does not fit printer profile "
                                       f"{profile.name}: {e.field}: {e.reason}") from None



def _label_templates() -> tuple[str, ...]:
    """The label templates' names (drivers.label loads only when a job names a template that
    is not a receipt's)."""
    from drivers.label import TEMPLATES

    return tuple(TEMPLATES)
