"""Topic builders and parser: every box owns one subtree; anything else is refused by name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.protocol import ProtocolError
from sync.protocol.topics import (
    BoxTopic,
    Down,
    Up,
    box_down_filter,
    check_box_id,
    down,
    hq_filters,
    hq_state,
    parse_topic,
    up,
)


def test_builders_put_every_leaf_under_the_box_subtree() -> None:
    assert up("CQ-JB-001-B1", Up.BIRTH) == "storelink/v1/box/CQ-JB-001-B1/up/birth"
    assert down("CQ-JB-001-B1", Down.PRINT) == "storelink/v1/box/CQ-JB-001-B1/down/print"
    assert box_down_filter("b1") == "storelink/v1/box/b1/down/#"
    assert hq_state("hq-1") == "storelink/v1/hq/hq-1/state"
    for leaf in Up:
        assert parse_topic(up("b_1", leaf)) == BoxTopic("b_1", leaf)
    for dleaf in Down:
        assert parse_topic(down("b_1", dleaf)) == BoxTopic("b_1", dleaf)


def test_hq_filters_share_the_work_but_not_births() -> None:
    f = hq_filters("hq")
    assert "storelink/v1/box/+/up/birth" in f and "storelink/v1/box/+/up/death" in f
    assert "$share/hq/storelink/v1/box/+/up/journal" in f
    assert "storelink/v1/box/+/up/journal" in hq_filters(None)


@pytest.mark.parametrize("bad", ["", "a/b", "+", "#", "a b", "门店1", "-x", "x" * 65, "a\x00"])
def test_box_ids_that_cannot_be_one_topic_level_are_refused(bad: str) -> None:
    with pytest.raises(ProtocolError) as e:
        check_box_id(bad)
    assert e.value.field == "box"
    with pytest.raises(ProtocolError):
        up(bad, Up.BIRTH)


@pytest.mark.parametrize("topic", [
    "storelink/v2/box/b1/up/birth", "storelink/v1/box/b1/up/nope", "storelink/v1/box/b1/sideways/x",
    "storelink/v1/box/b1/up", "storelink/v1/box/+/up/birth", "storelink/v1/hq/h/state", ""])
def test_parse_topic_refuses_foreign_topics(topic: str) -> None:
    with pytest.raises(ProtocolError) as e:
        parse_topic(topic)
    assert e.value.field == "topic"


@given(st.text(max_size=80))
def test_parse_topic_raises_only_protocol_error(topic: str) -> None:
    try:
        parsed = parse_topic(topic)
    except ProtocolError:
        return
    assert topic.startswith(f"storelink/v1/box/{parsed.box_id}/")
