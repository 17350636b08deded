"""Receipt documents decoded through their schema: errors in the validation layer's words."""

from __future__ import annotations

import pytest

from drivers import InvalidInput
from drivers.escpos.document import Cell, Columns, Drawer, Text, parse_document


@pytest.mark.parametrize(("block", "field", "reason"), [
    ({"type": "txt", "text": "价"}, "document.blocks[0].type",
     "must be one of text, columns, rule, feed, barcode, qr, image, cut, drawer, beep"),
    ({"type": "text", "text": "合计", "widht": 2}, "document.blocks[0].widht",
     "unknown field; did you mean `width`?"),
    ({"type": "text", "text": "合计", "width": "2"}, "document.blocks[0].width",
     "must be an integer, got a string"),
    ({"type": "text", "text": "合计", "width": 9}, "document.blocks[0].width", "must be 1-8"),
    ({"type": "text"}, "document.blocks[0].text", "is required"),
    ({"type": "drawer", "pin": 3}, "document.blocks[0].pin", "must be one of 2, 5"),
    ({"type": "columns", "cells": [{"text": "品名", "width": 20}, {"txt": "x"}]},
     "document.blocks[0].cells[1].txt", "unknown field; did you mean `text`?"),
    ({"type": "qr", "data": ""}, "document.blocks[0].data", "must be 1-1000 characters"),
])
def test_block_errors_name_the_field_and_say_what_was_wanted(block: dict[str, object],
                                                             field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_document({"blocks": [block]})
    assert (e.value.field, e.value.reason) == (field, reason)


def test_the_document_itself_is_named() -> None:
    with pytest.raises(InvalidInput) as e:
        parse_document(["收银小票"])
    assert (e.value.field, e.value.reason) == ("document", "must be an object, got an array")
    with pytest.raises(InvalidInput) as e:
        parse_document({"blocks": [], "title": "小票"})
    assert e.value.field == "document.title"


def test_a_valid_document_keeps_its_chinese_text() -> None:
    doc = parse_document({"blocks": [
        {"type": "text", "text": "重庆江北建材旗舰店", "align": "center", "bold": True},
        {"type": "columns", "cells": [{"text": "合页 4寸", "width": 30}, {"text": "¥36.00",
                                                                        "align": "right"}]},
        {"type": "drawer"}]})
    assert doc.blocks == (Text("重庆江北建材旗舰店", "center", True),
                          Columns((Cell("合页 4寸", 30), Cell("¥36.00", None, "right"))),
                          Drawer())
