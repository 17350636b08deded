"""Drawer kicks found in ESC/POS bytes: vectors, and never fewer than the interpreter acts on."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.escpos.document import Cut, Document, Drawer, Image, Text
from drivers.escpos.drawer_scan import DrawerKick, drawer_kicks
from drivers.escpos.encoder import encode
from drivers.escpos.interpreter import EscposInterpreter
from drivers.escpos.paper_events import Drawer as DrawerEvent
from drivers.profiles import get_profile

CN80 = get_profile("generic-cn-80")


@pytest.mark.parametrize(("data", "kicks"), [
    (b"", ()),
    ("谢谢惠顾\n".encode("gb18030") + b"\x1dVA\x00", ()),
    (b"\x1b@\x1bp\x00\x19\xfa", (DrawerKick(2, "ESC p"),)),
    (b"\x10\x14\x01\x01\x03", (DrawerKick(0, "DLE DC4 1"),)),
    # Parameters and image data are not commands: ESC ! 0x1b, then the text "p".
    (b"\x1b!\x1bp\x00\x19\xfa", ()),
    (b"\x1dv0\x00\x05\x00\x01\x00\x1bp\x00\x19\xfa", ()),
    # A real-time pulse acts even inside image data.
    (b"\x1dv0\x00\x05\x00\x01\x00\x10\x14\x01\x00\x01", (DrawerKick(8, "DLE DC4 1"),)),
    # Unfinished at the end: the next job's bytes would complete it.
    (b"abc\x1b", (DrawerKick(3, "an unfinished command at the end of the job"),)),
    (b"\x1bp\x00", (DrawerKick(0, "an unfinished command at the end of the job"),)),
    # An unknown command is skipped by its known length only.
    (b"\x1b\x99\x1bp\x00\x19\xfa", (DrawerKick(2, "ESC p"),)),
])
def test_vectors(data: bytes, kicks: tuple[DrawerKick, ...]) -> None:
    assert drawer_kicks(data) == kicks


def test_encoded_documents_kick_only_with_a_drawer_block() -> None:
    plain = encode(Document((Text("收银小票 合计 ¥70.00"), Cut())), CN80).data
    assert drawer_kicks(plain) == ()
    kicking = encode(Document((Text("找零"), Drawer(pin=5), Cut())), CN80).data
    assert [k.command for k in drawer_kicks(kicking)] == ["ESC p"]


def test_an_image_whose_pixels_spell_esc_p_is_no_kick() -> None:
    import io

    from PIL import Image as PILImage

    img = PILImage.new("1", (40, 2), 1)
    # Row bytes 0x1b 0x70 0x00 0x19 0xfa as black pixels (1 = black in GS v 0).
    for x, byte in enumerate(b"\x1bp\x00\x19\xfa"):
        for bit in range(8):
            if byte & (0x80 >> bit):
                img.putpixel((x * 8 + bit, 0), 0)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    data = encode(Document((Image(buf.getvalue(), "left", False), Cut())), CN80).data
    assert drawer_kicks(data) == ()


FRAGMENTS = st.one_of(
    st.binary(max_size=12),
    st.sampled_from([b"\x1bp", b"\x1bp\x00\x19\xfa", b"\x1bp\x01\x32\x32", b"\x10\x14\x01",
                     b"\x10\x14\x01\x00\x01", b"\x10\x14\x01\x01\x08", b"\x1b", b"\x10",
                     b"\x1d", b"\x1c", b"\x1b@", b"\x1dVA\x00", b"\x1c&", b"\x1c.",
                     "合页".encode("gb18030")]),
    st.builds(lambda w, h, m: b"\x1dv0" + bytes([m]) + w.to_bytes(2, "little")
              + h.to_bytes(2, "little"), st.integers(0, 700), st.integers(0, 3),
              st.sampled_from([0, 1, 2, 3, 48, 7])),
    st.builds(lambda c, n: b"\x1d(" + bytes([c]) + n.to_bytes(2, "little"),
              st.sampled_from([0x4C, 0x6B, 0x41]), st.integers(0, 20)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(FRAGMENTS, max_size=24))
def test_every_pulse_the_interpreter_acts_on_is_found(parts: list[bytes]) -> None:
    data = b"".join(parts)
    interp = EscposInterpreter(CN80)
    interp.feed(data)
    interp.close()
    pulses = {end - 5 for end, ev in interp.events_at() if isinstance(ev, DrawerEvent)}
    found = {k.offset for k in drawer_kicks(data)}
    assert pulses <= found, (data.hex(), pulses, found)
