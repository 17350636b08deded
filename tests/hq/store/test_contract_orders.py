"""The orders part of the store contract (customers, orders, salesperson ids, reprints), run
against every backend."""

from __future__ import annotations

from hq.store import HqStore
from hq.store.orders import OrderRow, Reprint
from tests.hq.store.test_contract import store

__all__ = ["store"]

YONGSHENG = [{"id": "K002", "name": "永盛五金店", "phone": "13900139002"},
             {"id": "K003", "name": "永盛家装", "address": "重庆市江北区建新北路16号"}]


def order(no: str, salesperson: str = "S101", store_id: str | None = "CQ-JB-001",
          qty: int = 40) -> OrderRow:
    body = {"order_no": no, "customer": "K002", "salesperson": salesperson,
            "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": qty, "unit": "片",
                       "unit_price": 850, "amount": 850 * qty}]}
    return OrderRow(no, "K002", salesperson, store_id, body, f"h{qty}", 10)


def test_same_name_customers_stay_apart_by_id_and_are_replaced_by_id(store: HqStore) -> None:
    assert store.customers_put(YONGSHENG, 1) == 2
    assert store.customer("K002") == YONGSHENG[0]
    assert store.customer("K003") == YONGSHENG[1]
    store.customers_put([{"id": "K002", "name": "永盛五金店(空港)"}], 2)
    assert store.customer("K002") == {"id": "K002", "name": "永盛五金店(空港)"}
    assert store.customer("K009") is None


def test_an_order_is_stored_once_by_its_number(store: HqStore) -> None:
    first, created = store.order_add(order("XS-1"))
    assert created and first == order("XS-1")
    again, created = store.order_add(order("XS-1", qty=41))
    assert not created and again == order("XS-1")
    store.order_add(order("XS-2", salesperson="S102", store_id=None))
    store.order_add(order("XS-3"))
    assert [o.order_no for o in store.orders_of("S101", 10)] == ["XS-3", "XS-1"]
    assert [o.order_no for o in store.orders_of(None, 2)] == ["XS-3", "XS-2"]
    assert store.order("XS-2") == order("XS-2", salesperson="S102", store_id=None)
    assert store.order("XS-9") is None


def test_users_map_to_salesperson_ids_and_reprints_are_kept(store: HqStore) -> None:
    assert store.salesperson_of("zhang") is None
    store.salesperson_set("zhang", "S101")
    store.salesperson_set("zhang", "S102")
    assert store.salesperson_of("zhang") == "S102"
    r = Reprint("r-2", "m-1", "客户丢失，补打一张", "zhang", 5)
    store.reprint_add(r)
    assert store.reprints(["r-2", "m-1"]) == {"r-2": r}
