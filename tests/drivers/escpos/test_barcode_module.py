"""Receipt barcodes: without a `module` the widest up to 2 that fits the paper; CODE128 data is
sent as data."""

from __future__ import annotations

import pytest
import zxingcpp

from drivers import InvalidInput
from drivers.escpos.document import Document, parse_document
from drivers.escpos.encoder import encode
from drivers.escpos.interpreter import EscposInterpreter
from drivers.escpos.paper_events import Barcode as PrintedBarcode
from drivers.escpos.render import render_bytes
from drivers.profiles import get_profile


def doc(**fields: object) -> Document:
    return parse_document({"blocks": [{"type": "barcode", "symbology": "CODE128", **fields}]})


@pytest.mark.parametrize("profile", ["generic-cn-58", "raster-80"])
def test_code128_of_16_characters_prints_on_58mm_without_a_module(profile: str) -> None:
    p = get_profile(profile)
    data = "XS-20261129-0042"
    out = encode(doc(data=data), p).data
    if p.native_barcode:
        assert b"\x1dw\x01" in out  # 211 modules at 2 dots are 422 > 384: module 1
    img = render_bytes(out, p)
    assert [r.text for r in zxingcpp.read_barcodes(img.convert("L"))] == [data]
    # Where 2 fits, 2 it is.
    assert b"\x1dw\x02" in encode(doc(data="XS-0042"), get_profile("generic-cn-58")).data


def test_a_module_that_is_given_is_kept_or_refused() -> None:
    with pytest.raises(InvalidInput) as e:
        encode(doc(data="XS-20261129-0042", module=2), get_profile("generic-cn-58"))
    assert (e.value.field, e.value.reason) == ("document.blocks[0].data",
                                               "barcode is 422 dots wide, paper is 384 (module 2)")
    with pytest.raises(InvalidInput, match="module 1"):
        encode(doc(data="A" * 40), get_profile("generic-cn-58"))


def test_a_brace_in_code128_data_is_data_not_a_code_set() -> None:
    p = get_profile("generic-cn-80")
    for data in ("A{C1234", "{{B}", "X{"):
        interp = EscposInterpreter(p)
        interp.feed(encode(doc(data=data), p).data)
        interp.close()
        printed = [e.data for e in interp.events() if isinstance(e, PrintedBarcode)]
        assert printed == [data]
        img = render_bytes(encode(doc(data=data), p).data, p)
        assert [r.text for r in zxingcpp.read_barcodes(img.convert("L"))] == [data]
