"""Scale frames: byte vectors per built-in protocol, chunking, garbage, user protocols."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers import InvalidInput
from drivers.scale import Reading, ScaleParser, builtin_protocols
from drivers.scale.frames import STATUSES, frame_for
from drivers.scale.protocol import protocols_with

P = builtin_protocols()


def read(name: str, data: bytes) -> list[Reading]:
    return ScaleParser(P[name]).feed(data)


@pytest.mark.parametrize(("name", "data", "expected"), [
    # Toledo 8217: the answer to W, and the status byte when it cannot answer a weight.
    ("toledo-8217", b"\x02001.234\r", Reading("stable", 1234)),
    ("toledo-8217", b"\x02 12.50\r", Reading("stable", 12500)),
    ("toledo-8217", b"\x02?!\r", Reading("motion", None)),
    ("toledo-8217", b'\x02?"\r', Reading("overload", None)),
    ("toledo-8217", b"\x02?$\r", Reading("under_zero", None)),
    # A&D style continuous lines.
    ("ad-continuous", b"ST,GS,+0001.234kg\r\n", Reading("stable", 1234)),
    ("ad-continuous", b"US,GS,+0001.230kg\r\n", Reading("motion", 1230)),
    ("ad-continuous", b"ST,NT,+0000.350kg\r\n", Reading("stable", 350, net=True)),
    ("ad-continuous", b"ST,GS,-0000.120kg\r\n", Reading("under_zero", -120)),
    ("ad-continuous", b"ST,GS,+  1250.0 g\r\n", Reading("stable", 1250)),
    ("ad-continuous", b"ST,GS,+   2.205lb\r\n", Reading("stable", 1000)),
    ("ad-continuous", b"OL,GS,+         \r\n", Reading("overload", None)),
    # Yousheng JCS-B class: FF, flags (decimals+1 | neg<<5 | stable<<6 | over<<7), BCD LSB first.
    ("yousheng-jcs", b"\xff\x44\x34\x12\x00\x00", Reading("stable", 1234)),
    ("yousheng-jcs", b"\xff\x04\x34\x12\x00\x00", Reading("motion", 1234)),
    ("yousheng-jcs", b"\xff\x64\x20\x01\x00\x00", Reading("under_zero", -120)),
    ("yousheng-jcs", b"\xff\x84\x00\x00\x00\x00", Reading("overload", None)),
    ("yousheng-jcs", b"\xff\x43\x50\x12\x00\x00", Reading("stable", 12500)),  # two decimals
])
def test_byte_vectors(name: str, data: bytes, expected: Reading) -> None:
    assert read(name, data) == [expected]


@pytest.mark.parametrize(("name", "data"), [
    ("toledo-8217", b"\x02001.2x4\r"),
    ("ad-continuous", b"ST,GS,+00-1.234kg\r\n"),
    ("ad-continuous", b"XX,GS,+0001.234kg\r\n"),
    ("ad-continuous", b"ST,GS,+0001.234kg" + b" " * 60 + b"\r\n"),  # longer than max_frame
    ("yousheng-jcs", b"\xff\x44\x3a\x12\x00\x00"),  # not BCD
    ("yousheng-jcs", b"\xff\x40\x34\x12\x00\x00"),  # decimal field 0 is below the offset
])
def test_garbage_frames_are_skipped_and_counted(name: str, data: bytes) -> None:
    parser = ScaleParser(P[name])
    assert parser.feed(data) == []
    assert parser.skipped >= 1


def test_noise_glued_before_a_frame_does_not_hide_it() -> None:
    assert read("toledo-8217", b"\x00\x01zz\x02001.000\r") == [Reading("stable", 1000)]
    assert read("yousheng-jcs", b"\x12\xff\xff\x44\x34\x12\x00\x00") == [Reading("stable", 1234)]


def test_chinese_text_is_noise_not_a_failure() -> None:
    parser = ScaleParser(P["ad-continuous"])
    noise = "秤已开机 重量".encode("gb18030") + b"\r\n"
    assert parser.feed(noise + b"ST,GS,+0000.500kg\r\n") == [Reading("stable", 500)]
    assert parser.skipped == 1


names = st.sampled_from(sorted(P))
readings = st.tuples(st.integers(-99_999, 999_999), st.sampled_from(STATUSES))


def _stream(name: str, values: list[tuple[int, str]], noise: list[bytes]) -> bytes:
    out = b""
    for i, (grams, status) in enumerate(values):
        out += frame_for(name, grams, status)
        if i < len(noise):
            # Noise always ends a frame so the next frame starts clean on every protocol.
            out += noise[i].replace(b"\xff", b"") + P[name].frame_end
    return out


@given(names, st.lists(readings, max_size=8), st.lists(st.binary(max_size=20), max_size=8),
       st.data())
def test_any_chunking_gives_the_same_readings(name: str, values: list[tuple[int, str]],
                                              noise: list[bytes], data: st.DataObject) -> None:
    stream = _stream(name, values, noise)
    whole = ScaleParser(P[name]).feed(stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    parser = ScaleParser(P[name])
    pieces: list[Reading] = []
    for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        pieces += parser.feed(stream[a:b])
    assert pieces == whole
    clean = [r for r in whole]
    assert len(clean) >= len(values)  # every frame the scale sent is read


@given(names, st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(name: str, data: bytes) -> None:
    parser = ScaleParser(P[name])
    for r in parser.feed(data):
        assert r.status in STATUSES


@given(st.integers(-99_999, 999_999), st.sampled_from(STATUSES))
def test_every_builtin_reads_back_what_the_simulator_sends(grams: int, status: str) -> None:
    for name in P:
        [r] = read(name, frame_for(name, grams, status))
        if status == "overload":
            assert r == Reading("overload", None)
        elif status == "motion":
            assert r.status == "motion"
        elif r.grams is not None:
            assert r.grams == grams


def test_a_user_protocol_from_config() -> None:
    protos = protocols_with({
        "shop-scale": {"base": "ad-continuous", "description": "店里的秤", "baudrate": 2400},
        "plain": {"mode": "continuous", "frame_end": "\n", "decimals": 3,
                  "patterns": ["^=(?P<sign>-?)(?P<weight>[0-9]{6})\\n$"]},
    })
    assert protos["shop-scale"].baudrate == 2400
    assert protos["shop-scale"].patterns == P["ad-continuous"].patterns
    assert ScaleParser(protos["plain"]).feed(b"=001234\n=-000050\n") == [
        Reading("stable", 1234), Reading("under_zero", -50)]


@pytest.mark.parametrize(("body", "field"), [
    ({"patterns": ["(?P<nope>x)"], "frame_end": "\n"}, "scale_protocols.x.patterns[0]"),
    ({"patterns": ["(unclosed"], "frame_end": "\n"}, "scale_protocols.x.patterns[0]"),
    ({"patterns": ["(?P<weight>x)"], "frame_end": "\n", "mode": "poll"}, "scale_protocols.x.poll"),
    ({"patterns": ["(?P<weight>x)"], "frame_end": "重"}, "scale_protocols.x.frame_end"),
    ({"patterns": ["(?P<weight>x)"], "baudrate": 7}, "scale_protocols.x.baudrate"),
    ({"patterns": ["(?P<weight>x)"], "status_words": {"ST": "calm"}},
     "scale_protocols.x.status_words.ST"),
    ({"base": "nope"}, "scale_protocols.x.base"),
    ({"colour": "red"}, "scale_protocols.x.colour"),
])
def test_bad_user_protocols_name_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        protocols_with({"x": body})
    assert exc.value.field == field
