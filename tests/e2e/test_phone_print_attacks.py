"""Customer orders and cloud print from a phone against the real `storelink hq run` (issue 15):
the ERP pushes orders with an `orders` token; a salesperson sees and prints only their own
orders, only to printers of their stores' boxes, never without CSRF, and reprints only with a
reason (a new job id; the reason and the original in HQ's audit log)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.broker import env_with_root
from tests.e2e.edge_proc import Answer, raw_http
from tests.e2e.hq_people import (
    BOX_A,
    BOX_B,
    STORE_A,
    STORE_B,
    Browser,
    World,
    add_user,
    admin,
    start_world,
)

pytestmark = pytest.mark.timeout(300)
DATA = Path(__file__).resolve().parents[2] / "examples" / "data"
MINE = ("XS-20261129-0041", "XS-20261129-0042", "XS-20261129-0043")
THEIRS = "XS-20261130-0051"
OTHER_STORE = "XS-20261130-0052"


def hq_cli(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    """`storelink hq ARGS --config …` as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "hq.cli", *args, "--config", str(world.config)],
                          capture_output=True, text=True, env=env_with_root(), timeout=120,
                          check=False)


def order(no: str, salesperson: str, store: str, qty: int = 5) -> dict[str, Any]:
    return {"order_no": no, "customer": "K003", "salesperson": salesperson, "store": store,
            "route": "成都-双流线", "lines": [
                {"sku": "DP-1001", "name": "速冻水饺 猪肉白菜", "qty": qty, "unit": "袋",
                 "unit_price": 1590, "amount": 1590 * qty, "location": "F-01-02"}]}


class Erp:
    """The ERP's integration: a bearer token with the `orders` scope."""

    def __init__(self, port: int, token: str) -> None:
        self.port, self.token = port, token

    def call(self, method: str, path: str, body: object) -> Answer:
        return raw_http(self.port, method, path, body=json.dumps(body, ensure_ascii=False)
                        .encode(), headers={"Authorization": f"Bearer {self.token}",
                                            "Content-Type": "application/json"})


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = start_world(tmp_path_factory.mktemp("hq-phone"))
    try:
        add_user(w.config, "chen", "salesperson", [STORE_B])
        for user, sp in (("xiao", "S101"), ("chen", "S102")):
            done = hq_cli(w, "orders", "salesperson", user, sp)
            assert done.returncode == 0, done.stderr
        done = hq_cli(w, "orders", "import", str(DATA / "orders.json"), "--customers",
                      str(DATA / "customers.json"), "--catalog", str(DATA / "catalog.json"),
                      "--store", STORE_B)
        assert done.returncode == 0, done.stderr
        assert "new orders 3" in done.stdout
        yield w
    finally:
        w.stop()


@pytest.fixture(scope="module")
def erp(world: World) -> Erp:
    a = admin(world.hq.port, "POST", "/v1/tokens", {"name": "ERP 管家婆", "scopes": ["orders"]})
    assert a.status == 201, a
    return Erp(world.hq.port, a.json()["token"])


def test_the_erp_pushes_customers_and_orders_idempotently(world: World, erp: Erp) -> None:
    a = erp.call("PUT", "/v1/customers", {"customers": [
        {"id": "K003", "name": "永盛家装", "address": "重庆市江北区建新北路16号"},
        {"id": "K005", "name": "永盛家装", "address": "成都市双流区"}]})
    assert a.status == 200 and a.json() == {"customers": 2}, a
    assert erp.call("POST", "/v1/orders", order(THEIRS, "S102", STORE_B)).status == 201
    again = erp.call("POST", "/v1/orders", order(THEIRS, "S102", STORE_B))
    assert again.status == 200 and again.json()["customer_name"] == "永盛家装"
    changed = erp.call("POST", "/v1/orders", order(THEIRS, "S102", STORE_B, qty=6))
    assert changed.status == 409 and changed.field() == "order_no"
    assert erp.call("POST", "/v1/orders", order(OTHER_STORE, "S101", STORE_A)).status == 201
    bad = order("XS-BAD-1", "S101", STORE_B)
    bad["lines"] = bad["lines"] * 2 + [{**bad["lines"][0], "qty": "五"}]
    a = erp.call("POST", "/v1/orders", bad)
    assert a.status == 400 and a.field() == "lines[2].qty", a
    a = erp.call("POST", "/v1/orders", {**order("XS-BAD-2", "S101", STORE_B), "customer": "K404"})
    assert a.status == 400 and a.field() == "customer"
    assert erp.call("GET", "/v1/orders/XS-BAD-1", None).status == 404
    # The ERP's token prints nothing; a printing token pushes no orders.
    assert erp.call("GET", "/v1/m/printers", None).status == 403
    tok = admin(world.hq.port, "POST", "/v1/tokens", {"name": "收银", "scopes": ["print"]})
    other = Erp(world.hq.port, tok.json()["token"])
    assert other.call("POST", "/v1/orders", order("XS-X", "S101", STORE_B)).status == 403


def test_a_salesperson_sees_only_their_own_orders_of_their_stores(world: World,
                                                                 erp: Erp) -> None:
    xiao = Browser.sign_in(world.hq.port, "xiao")
    got = xiao.get("/v1/orders").json()["orders"]
    assert sorted(o["order_no"] for o in got) == sorted(MINE)
    assert {o["customer"]: o["customer_name"] for o in got} == {
        "K001": "永盛装饰工程有限公司", "K002": "永盛五金店", "K003": "永盛家装"}
    assert xiao.get(f"/v1/orders/{MINE[0]}").status == 200
    for no in (THEIRS, OTHER_STORE):
        a = xiao.get(f"/v1/orders/{no}")
        assert a.status == 404 and a.field() == "order_no", a
    chen = Browser.sign_in(world.hq.port, "chen")
    assert [o["order_no"] for o in chen.get("/v1/orders").json()["orders"]] == [THEIRS]
    assert xiao.post("/v1/orders", order("XS-X", "S101", STORE_B)).status == 403


def send(b: Browser, **over: Any) -> Answer:
    return b.post("/v1/m/print-jobs", {"box": BOX_B, "printer": "front",
                                       "document": "picking_list", "order_no": MINE[1], **over})


def test_attacks_on_the_phone_print_are_refused_and_change_nothing(world: World,
                                                                   erp: Erp) -> None:
    xiao = Browser.sign_in(world.hq.port, "xiao")
    printers = xiao.get("/v1/m/printers").json()["printers"]
    assert [(p["box"], p["printer"]) for p in printers] == [(BOX_B, "front")]
    assert printers[0]["store_name"] == "成都三号仓"
    attacks = [
        (send(xiao, order_no=THEIRS), 404, "order_no"),
        (send(xiao, order_no=OTHER_STORE), 404, "order_no"),
        (send(xiao, box=BOX_A), 403, "box"),
        (send(xiao, printer="labels"), 403, "printer"),
        (xiao.post("/v1/m/print-jobs", {"box": BOX_B, "printer": "front",
                                        "document": "picking_list", "order_no": MINE[1]},
                   csrf=None), 403, "X-CSRF-Token"),
        (send(xiao, document="价签"), 400, "document"),
    ]
    for a, status, field in attacks:
        assert (a.status, a.field()) == (status, field), a
    assert xiao.get("/v1/m/jobs").json()["jobs"] == []


def test_a_reprint_needs_a_reason_and_is_recorded_under_a_new_id(world: World,
                                                                 erp: Erp) -> None:
    xiao = Browser.sign_in(world.hq.port, "xiao")
    sent = send(xiao)
    assert sent.status == 201, sent
    job = sent.json()
    assert job["id"].startswith("m-") and job["box"] == BOX_B
    chen = Browser.sign_in(world.hq.port, "chen")
    assert chen.get(f"/v1/print-jobs/{job['id']}").status == 404
    path = f"/v1/print-jobs/{job['id']}/reprint"
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        a = xiao.post(path, body)
        assert a.status == 400 and a.field() == "reason", a
    assert xiao.post(path, {"reason": "客户丢失"}, csrf=None).status == 403
    a = chen.post(path, {"reason": "冒名补打"})
    assert a.status == 404 and a.field() == "id", a
    assert len(xiao.get("/v1/m/jobs").json()["jobs"]) == 1
    a = xiao.post(path, {"reason": "客户丢失，补打一张"})
    assert a.status == 201, a
    again = a.json()
    assert again["id"] != job["id"] and again["id"].startswith("r-")
    assert again["reprint"]["original"] == job["id"]
    mine = xiao.get("/v1/m/jobs").json()["jobs"]
    assert [j["id"] for j in mine] == [again["id"], job["id"]]
    assert mine[0]["reprint"]["reason"] == "客户丢失，补打一张"
    assert mine[1]["document_name"] == "拣货单" and mine[1]["customer"]["id"] == "K003"
    audit = admin(world.hq.port, "GET", "/v1/audit?limit=200").json()["audit"]
    entry = next(e for e in audit if e["action"] == "reprint")
    assert (entry["actor"], entry["target"]) == ("xiao", again["id"])
    assert entry["detail"] == {"original": job["id"], "reason": "客户丢失，补打一张"}
    refused = [e for e in audit if e["actor"] == "xiao" and e["action"] == "csrf_refused"]
    assert refused


def test_typed_lines_print_a_sales_slip_of_a_customer_by_id(world: World, erp: Erp) -> None:
    chen = Browser.sign_in(world.hq.port, "chen")
    lines = [{"sku": "JC-1003", "name": "十字沉头自攻螺丝", "qty": 2, "unit_price": 1800}]
    a = send(chen, order_no=None, document="sales_slip", lines=lines, customer="K404")
    assert a.status == 400 and a.field() == "order_no", a  # order_no: null is not "absent"
    body = {"box": BOX_B, "printer": "front", "document": "sales_slip", "lines": lines}
    a = chen.post("/v1/m/print-jobs", {**body, "customer": "K404"})
    assert a.status == 404 and a.field() == "customer", a
    a = chen.post("/v1/m/print-jobs", {**body, "customer": "K002"})
    assert a.status == 201, a
    mine = chen.get("/v1/m/jobs").json()["jobs"]
    assert [(j["document_name"], j["customer"]["name"]) for j in mine] == [("销售单", "永盛五金店")]


def test_the_import_names_the_bad_line_and_stores_nothing(world: World, tmp_path: Path) -> None:
    orders = json.loads((DATA / "orders.json").read_text(encoding="utf-8"))
    orders[2] = {**orders[2], "order_no": "XS-NEW-9"}
    orders[1]["lines"][1]["qty"] = "四"
    bad = tmp_path / "orders.json"
    bad.write_text(json.dumps(orders, ensure_ascii=False), encoding="utf-8")
    done = hq_cli(world, "orders", "import", str(bad), "--catalog", str(DATA / "catalog.json"))
    assert done.returncode == 2 and "orders[1].lines[1].qty" in done.stderr, done
    a = admin(world.hq.port, "GET", "/v1/orders/XS-NEW-9")
    assert a.status == 404
