"""Label printing (TSPL and ZPL): documents in mm, encoders, interpreters, renderer, templates.

document   parse_label(raw) -> LabelDocument          layout     layout(doc, dpi) -> LabelPlan
tspl/zpl   encode_tspl / encode_zpl(doc, profile)     render     render_label, preview, to_png
interpret  encode_label(doc, profile) -> bytes; interpret.interpret(data, profile) -> [ParsedLabel]
templates  flow_card / price_label / shipping_label   flowcard   encode / parse the QR payload
status     query bytes, parse_* -> PrinterStatus, StatusReader
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drivers.label.document import LabelDocument, parse_label
    from drivers.label.drawing import ParsedLabel
    from drivers.label.flowcard import FlowCard, encode_flow_card, parse_flow_card
    from drivers.label.interpret import encode_label, reader_for
    from drivers.label.render import preview, preview_png, render_label, to_png
    from drivers.label.status import (
        QUERIES,
        StatusReader,
        StatusReplyError,
        parse_tspl_extended_status,
        parse_tspl_status,
        parse_zpl_host_status,
    )
    from drivers.label.templates import TEMPLATES, build_template

# Loaded on first use: a box without label printers loads none of this, and one whose label
# printers only ask for status never loads layout, encoders, readers or rendering
# (docs/deploy.md, idle memory). The function `interpret` is not exported here: its module has
# the same name, and once that module is imported the package attribute is the module; import
# it as `from drivers.label.interpret import interpret`.
_LAZY = {"encode_label": "interpret", "reader_for": "interpret", "QUERIES": "status",
         "StatusReader": "status", "StatusReplyError": "status",
         "parse_tspl_extended_status": "status", "parse_tspl_status": "status",
         "parse_zpl_host_status": "status",
         "LabelDocument": "document", "parse_label": "document", "ParsedLabel": "drawing",
         "FlowCard": "flowcard", "encode_flow_card": "flowcard", "parse_flow_card": "flowcard",
         "preview": "render", "preview_png": "render", "render_label": "render",
         "to_png": "render", "TEMPLATES": "templates", "build_template": "templates"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'drivers.label' has no attribute {name!r}")
    return getattr(importlib.import_module(f"drivers.label.{module}"), name)


__all__ = [
    "QUERIES", "TEMPLATES", "FlowCard", "LabelDocument", "ParsedLabel", "StatusReader",
    "StatusReplyError", "build_template", "encode_flow_card", "encode_label",
    "parse_flow_card", "parse_label", "parse_tspl_extended_status", "parse_tspl_status",
    "parse_zpl_host_status", "preview", "preview_png", "reader_for", "render_label", "to_png",
]
