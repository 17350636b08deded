"""What the TSPL and ZPL readers share (drivers/label/command_reader.py): the element bound,
bad commands as notices, and Chinese text through both."""

from __future__ import annotations

from drivers.label.command_reader import MAX_ELEMENTS, CommandReader
from drivers.label.drawing import DrawText, Event, Notice, ParsedLabel
from drivers.label.tspl_reader import TsplReader
from drivers.label.zpl_reader import ZplReader

LIMIT = f"more than {MAX_ELEMENTS} elements on a label"


def run(reader: CommandReader, data: bytes) -> list[Event]:
    return reader.feed(data) + reader.finish()


def test_a_tspl_label_keeps_at_most_max_elements() -> None:
    data = b"CLS\r\n" + b"BOX 0,0,10,10,1\r\n" * (MAX_ELEMENTS + 2) + b"PRINT 1\r\n"
    *notices, label = run(TsplReader(), data)
    assert notices == [Notice(LIMIT)] * 2
    assert isinstance(label, ParsedLabel) and len(label.elements) == MAX_ELEMENTS


def test_a_zpl_label_keeps_at_most_max_elements() -> None:
    data = b"^XA" + b"^FO0,0^GB10,10,1^FS" * (MAX_ELEMENTS + 2) + b"^XZ"
    *notices, label = run(ZplReader(), data)
    assert notices == [Notice(LIMIT)] * 2
    assert isinstance(label, ParsedLabel) and len(label.elements) == MAX_ELEMENTS


def test_bad_commands_become_notices_and_chinese_text_still_prints() -> None:
    tspl = run(TsplReader(), b'CLS\r\nTEXT 1,1,"TSS24.BF2",0,1,1,"\xbc\xdb\r\nBAR 1,1\r\n'
               + 'TEXT 1,1,"TSS24.BF2",0,1,1,"价签"\r\nPRINT 1\r\n'.encode("gb18030"))
    zpl = run(ZplReader(), "^XA^FO99999,0^FS^CI28^FO1,1^FD价签^FS^XZ".encode())
    assert tspl[:2] == [Notice("TEXT skipped: unterminated string"),
                        Notice("BAR skipped: list index out of range")]
    assert zpl[0] == Notice("^FO skipped: 99999 out of range")
    for events in (tspl, zpl):
        [label] = [e for e in events if isinstance(e, ParsedLabel)]
        [text] = label.elements
        assert isinstance(text, DrawText) and text.text == "价签"
