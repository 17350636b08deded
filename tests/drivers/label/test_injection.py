"""No text in any field of a label can add a command: TSPL and ZPL read back by our own readers
hold exactly the commands the encoder meant (or the field is refused, by name)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.label import encode_label, parse_label
from drivers.label.document import QR, LabelDocument
from drivers.label.document import Text as LabelText
from drivers.label.drawing import (
    DrawBar,
    DrawBarcode,
    DrawBitmap,
    DrawBox,
    DrawQR,
    DrawText,
    Event,
    Notice,
    ParsedLabel,
)
from drivers.label.interpret import interpret_events
from drivers.label.layout import BarcodePlan, BarPlan, BoxPlan, QrPlan, TextPlan, layout, line_boxes
from drivers.label.tspl import _native
from drivers.profiles import PrinterProfile, get_profile

ATTACK = 'X"\r\nCLS\r\nPRINT 1,999\r\nREM "'
PROFILES = ["tspl-203", "tspl-203-bitmap", "zpl-203", "zpl-300-cjk"]


def qr_label(data: str, copies: int = 1) -> dict[str, Any]:
    return {"width": 60, "height": 40, "copies": copies,
            "elements": [{"type": "qr", "x": 2, "y": 2, "data": data, "size": 30}]}


def intended(doc: LabelDocument, profile: PrinterProfile) -> list[tuple[str, object]]:
    """The drawing commands the encoder means to send for `doc`, in order."""
    out: list[tuple[str, object]] = []
    for item in layout(doc, profile.dpi, profile.paper_dots).items:
        if isinstance(item, TextPlan):
            native = (_native(item, profile.label_cjk_font) if profile.language == "tspl"
                      else bool(profile.label_cjk_font))
            for line, *_ in line_boxes(item, item.cw, item.h):
                if line:
                    out += [("text", line)] * (1 + item.bold) if native else [("bitmap", None)]
        elif isinstance(item, BarcodePlan):
            out.append(("barcode", item.data))
        elif isinstance(item, QrPlan):
            out.append(("qr", (item.data, item.ec)))
        elif isinstance(item, BoxPlan):
            out.append(("box", None))
        elif isinstance(item, BarPlan):
            out.append(("bar" if profile.language == "tspl" else "box", None))
    return out


def read_back(events: list[Event]) -> list[tuple[str, object]]:
    (label,) = [e for e in events if isinstance(e, ParsedLabel)]
    out: list[tuple[str, object]] = []
    for e in label.elements:
        if isinstance(e, DrawText):
            out.append(("text", e.text))
        elif isinstance(e, DrawBitmap):
            out.append(("bitmap", None))
        elif isinstance(e, DrawBarcode):
            out.append(("barcode", e.data))
        elif isinstance(e, DrawQR):
            out.append(("qr", (e.data, e.ec)))
        elif isinstance(e, DrawBox):
            out.append(("box", None))
        elif isinstance(e, DrawBar):
            out.append(("bar", None))
    return out


def test_the_audit_attack_is_refused_by_name() -> None:
    for profile in PROFILES:
        with pytest.raises(InvalidInput) as e:
            encode_label(parse_label(qr_label(ATTACK)), get_profile(profile))
        assert (e.value.field, e.value.reason) == ("document.elements[0].data",
                                                   "contains the control character U+000D")


def test_tspl_strings_never_carry_a_line_end_even_from_code() -> None:
    """A document built in code skips parse_label: the encoder itself refuses the bytes."""
    for text in (ATTACK, "第一行\r第二行"):
        doc = LabelDocument(60, 40, (QR(2, 2, text, 30),))
        with pytest.raises(InvalidInput, match="a TSPL string cannot carry") as e:
            encode_label(doc, get_profile("tspl-203"))
        assert e.value.field == "document.elements[0]"
    doc = LabelDocument(60, 40, (LabelText(2, 2, "价\r签"),))
    with pytest.raises(InvalidInput, match=r"U\+000D"):
        encode_label(doc, get_profile("tspl-203"))
    # ZPL escapes control characters in field data instead: they read back as sent.
    doc = LabelDocument(60, 40, (QR(2, 2, "A\r\nB^XZ~JA", 30),))
    zpl = get_profile("zpl-203")
    data = encode_label(doc, zpl)
    assert b"\r" not in data and b"^XZ~" not in data
    assert read_back(interpret_events(data, zpl)) == [("qr", ("A\r\nB^XZ~JA", "M"))]


@pytest.mark.parametrize("profile", PROFILES)
def test_quotes_and_command_text_stay_data(profile: str) -> None:
    data = 'X",0,"\\["]PRINT 1,999^XZ^XA^PQ999~JA_5E'
    p = get_profile(profile)
    events = interpret_events(encode_label(parse_label(qr_label(data, 2)), p), p)
    assert [e for e in events if isinstance(e, Notice)] == []
    assert read_back(events) == [("qr", (data, "M"))]
    assert [e.copies for e in events if isinstance(e, ParsedLabel)] == [2]


def test_label_cjk_font_names_cannot_carry_commands() -> None:
    for name in ("tspl-203", "zpl-300-cjk"):
        profile = replace(get_profile(name), label_cjk_font='X",0,1,1,"Y\r\nPRINT 1,9^XZ')
        with pytest.raises(InvalidInput) as e:
            encode_label(parse_label(qr_label("A")), profile)
        assert e.value.field == "profile.label_cjk_font"


HOSTILE = st.sampled_from([*list('"\\[]^~_,: 价签合页É'), '\\["]', "^XZ", "~JA", "_5E"])
PRINTABLE = st.characters(min_codepoint=32, max_codepoint=0x9FFF).filter(str.isprintable)
ANY = st.text(max_size=30)  # mostly refused, by name
# Any text at all, and (more often) printable text full of TSPL and ZPL syntax.
SYNTAX = st.lists(HOSTILE | PRINTABLE, min_size=1, max_size=16).map("".join)
INJECTED = st.tuples(SYNTAX, st.sampled_from(["\r\n", "\n", "\r"]), SYNTAX).map(
    lambda t: f'{t[0]}"{t[1]}CLS{t[1]}PRINT 1,999{t[1]}^XZ^XA^PQ999{t[1]}"{t[2]}')
TEXTS = st.integers(0, 5).flatmap(lambda k: ANY if k == 0 else INJECTED if k == 1 else SYNTAX)
ASCII = st.integers(0, 5).flatmap(
    lambda k: ANY if k == 0 else INJECTED if k == 1 else st.text(
        st.sampled_from('"\\[]^~_,: AZaz09'), min_size=1, max_size=20))


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    return {"width": 100, "height": 70, "copies": draw(st.integers(1, 999)), "elements": [
        {"type": "text", "x": 1, "y": 1, "text": draw(TEXTS), "lines": 4,
         "bold": draw(st.booleans()), "rotation": draw(st.sampled_from([0, 90, 180, 270])),
         "size": draw(st.sampled_from([3, 6]))},
        {"type": "qr", "x": 70, "y": 1, "data": draw(TEXTS), "size": 28},
        {"type": "barcode", "x": 1, "y": 45, "symbology": "CODE128", "data": draw(ASCII),
         "height": 8},
        {"type": "box", "x": 0.5, "y": 0.5, "width": 99, "height": 69},
        {"type": "line", "x": 1, "y": 40, "x2": 60, "y2": 40}]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.sampled_from(PROFILES))
def test_any_text_in_any_field_reads_back_as_exactly_the_intended_commands(
        raw: dict[str, Any], profile_name: str) -> None:
    profile = get_profile(profile_name)
    try:
        doc = parse_label(raw)
        data = encode_label(doc, profile)
    except InvalidInput as e:  # refused: by the name of the field, never half-sent
        assert e.field.startswith("document.elements["), e
        event(f"refused at {e.field}: {e.reason[:30]}")
        return
    event("read back")
    events = interpret_events(data, profile)
    assert [e for e in events if isinstance(e, Notice)] == []
    assert [e.copies for e in events if isinstance(e, ParsedLabel)] == [doc.copies]
    assert read_back(events) == intended(doc, profile)
