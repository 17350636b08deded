"""Users and tokens from requests: every bad field named, stores checked against [[stores]]."""

from __future__ import annotations

import pytest

from hq.config import StoreEntry
from hq.people.accounts import PeopleError, new_token, new_user, token_hash
from hq.people.passwords import verify_password

STORES = {"CQ-JB-001": StoreEntry("CQ-JB-001", "重庆江北建材旗舰店", "西南", "store", ("B1",)),
          "CD-WH-003": StoreEntry("CD-WH-003", "成都三号仓", "西南", "warehouse", ("B3",))}


def body(**over: object) -> dict[str, object]:
    return {"name": "zhang.san", "display": "张三", "role": "store_manager",
            "stores": ["CQ-JB-001"], "password": "门店密码-2026-春", **over}


def test_a_user_is_made_with_a_hashed_password() -> None:
    u = new_user(body(), STORES, 5)
    assert (u.name, u.display, u.role, u.stores, u.disabled, u.created_ms) == (
        "zhang.san", "张三", "store_manager", ("CQ-JB-001",), False, 5)
    assert verify_password("门店密码-2026-春", u.password) and "门店" not in u.password


@pytest.mark.parametrize(("over", "field"), [
    ({"name": "张三"}, "name"), ({"name": "Zhang"}, "name"), ({"role": "boss"}, "role"),
    ({"stores": []}, "stores"), ({"stores": ["nowhere"]}, "stores[0]"),
    ({"role": "finance"}, "stores"), ({"role": "salesperson"}, "stores[0]"),
    ({"password": "短密码"}, "password"), ({"display": ""}, "display"), ({"extra": 1}, "extra"),
])
def test_bad_users_name_the_field(over: dict[str, object], field: str) -> None:
    with pytest.raises(PeopleError) as e:
        new_user(body(**over), STORES, 5)
    assert e.value.field == field


def test_a_salesperson_works_for_a_warehouse() -> None:
    u = new_user(body(role="salesperson", stores=["CD-WH-003", "CD-WH-003"]), STORES, 5)
    assert u.stores == ("CD-WH-003",)


def test_a_token_is_shown_once_and_kept_as_its_hash() -> None:
    token, secret = new_token({"name": "ERP 金蝶", "scopes": ["print", "print"]}, "an", 9)
    assert secret.startswith("slk_") and len(secret) > 40
    assert token.hash == token_hash(secret) and secret not in str(token)
    assert token.scopes == ("print",) and token.created_by == "an"
    for bad, field in (({"name": "ERP"}, "scopes"), ({"name": "", "scopes": ["print"]}, "name"),
                       ({"name": "ERP", "scopes": ["root"]}, "scopes")):
        with pytest.raises(PeopleError) as e:
            new_token(bad, "an", 9)
        assert e.value.field == field
