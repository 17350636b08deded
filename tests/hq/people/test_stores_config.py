"""`[[stores]]` in HQ's configuration: regions, kinds, boxes; every error names its key."""

from __future__ import annotations

import pytest

from hq.config import HqConfigError, parse_hq_config


def test_stores_with_regions_kinds_and_boxes() -> None:
    cfg = parse_hq_config({"stores": [
        {"id": "CQ-JB-001", "name": "重庆江北建材旗舰店", "region": "西南", "boxes": ["B1", "B2"]},
        {"id": "CD-WH-003", "name": "成都三号仓", "kind": "warehouse"}]})
    a, b = cfg.stores["CQ-JB-001"], cfg.stores["CD-WH-003"]
    assert (a.name, a.region, a.kind, a.boxes) == ("重庆江北建材旗舰店", "西南", "store",
                                                    ("B1", "B2"))
    assert (b.kind, b.boxes, b.region) == ("warehouse", (), "")
    assert parse_hq_config({}).stores == {}


@pytest.mark.parametrize(("stores", "key"), [
    ([{"id": "A", "name": "甲", "boxes": ["B1"]}, {"id": "B", "name": "乙", "boxes": ["B1"]}],
     "stores[1].boxes[0]"),
    ([{"id": "A", "name": "甲"}, {"id": "A", "name": "乙"}], "stores[1].id"),
    ([{"id": "A", "name": "甲", "kind": "mall"}], "stores[0].kind"),
    ([{"id": "A 1", "name": "甲"}], "stores[0].id"),
    ([{"id": "A", "name": "甲", "manager": "x"}], "stores[0].manager"),
    ([{"id": "A"}], "stores[0].name"),
])
def test_bad_stores_name_the_key(stores: list[dict[str, object]], key: str) -> None:
    with pytest.raises(HqConfigError) as e:
        parse_hq_config({"stores": stores})
    assert any(line.startswith(key + ":") for line in e.value.errors), e.value.errors
