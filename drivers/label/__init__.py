"""Label printing (TSPL and ZPL): documents in mm, encoders, interpreters, renderer, templates.

document   parse_label(raw) -> LabelDocument          layout     layout(doc, dpi) -> LabelPlan
tspl/zpl   encode_tspl / encode_zpl(doc, profile)     render     render_label, preview, to_png
interpret  encode_label(doc, profile) -> bytes; interpret(data, profile) -> [ParsedLabel]
templates  flow_card / price_label / shipping_label   flowcard   encode / parse the QR payload
status     query bytes, parse_* -> PrinterStatus, StatusReader
"""

from drivers.label.document import LabelDocument, parse_label
from drivers.label.drawing import ParsedLabel
from drivers.label.flowcard import FlowCard, encode_flow_card, parse_flow_card
from drivers.label.interpret import encode_label, interpret, reader_for
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

__all__ = [
    "QUERIES", "TEMPLATES", "FlowCard", "LabelDocument", "ParsedLabel", "StatusReader",
    "StatusReplyError", "build_template", "encode_flow_card", "encode_label", "interpret",
    "parse_flow_card", "parse_label", "parse_tspl_extended_status", "parse_tspl_status",
    "parse_zpl_host_status", "preview", "preview_png", "reader_for", "render_label", "to_png",
]
