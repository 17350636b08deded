"""Alerts as each role sees them on the real `storelink hq run` (issue 15): finance sees and
acknowledges clearing kinds, operations the others, store managers see their stores' only and
acknowledge none; a write without the CSRF token changes nothing; tokens need `alerts:read`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from hq.alert_config import FINANCE_KINDS, AlertConfig
from hq.alerts.book import raise_alert
from hq.store.sqlite import SqliteStore
from tests.e2e.edge_proc import raw_http
from tests.e2e.hq_people import (
    BOX_A,
    BOX_B,
    NOW,
    STORE_A,
    STORE_B,
    Browser,
    World,
    admin,
    start_world,
)

pytestmark = pytest.mark.timeout(300)
Planted = dict[str, int]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, Planted]]:
    tmp = tmp_path_factory.mktemp("hq-alerts")
    w = start_world(tmp)
    try:
        # Latched kinds: HQ's own rounds neither clear them nor raise them again.
        s = SqliteStore(tmp / "hq.db")
        cfg = AlertConfig()
        planted: Planted = {}
        try:
            for name, kind, subject, box, store in (
                    ("diff_a", "clearing_difference", f"{BOX_A}#z1", BOX_A, STORE_A),
                    ("fork_b", "journal_fork", f"{BOX_B}#3", BOX_B, STORE_B),
                    ("fork_a", "journal_fork", f"{BOX_A}#5", BOX_A, STORE_A)):
                i = raise_alert(s, cfg, kind, subject, NOW, box=box, store_id=store,
                                detail={"note": "测试"})
                assert i is not None
                planted[name] = i
        finally:
            s.close()
        yield w, planted
    finally:
        w.stop()


def seen(b: Browser | None, port: int, token: str | None = None) -> list[dict[str, Any]]:
    if b is not None:
        a = b.get("/v1/alerts")
    else:
        a = raw_http(port, "GET", "/v1/alerts", headers={"Authorization": f"Bearer {token}"})
    assert a.status == 200, a
    return list(a.json()["alerts"])


def test_finance_sees_and_acknowledges_clearing_kinds_only(world: tuple[World, Planted]) -> None:
    w, p = world
    cai = Browser.sign_in(w.hq.port, "cai")
    got = seen(cai, w.hq.port)
    assert got and all(a["kind"] in FINANCE_KINDS for a in got)
    ids = {a["id"] for a in got}
    assert p["diff_a"] in ids and p["fork_b"] not in ids
    diff = next(a for a in got if a["id"] == p["diff_a"])
    assert (diff["name"], diff["store"], diff["can_ack"]) == ("清算差异", STORE_A, True)
    a = cai.post(f"/v1/alerts/{p['fork_b']}/ack", {})
    assert (a.status, a.field()) == (404, "id")
    a = cai.post(f"/v1/alerts/{p['diff_a']}/ack", {})
    assert a.status == 200, a
    assert (a.json()["alert"]["acked_by"], a.json()["alert"]["can_ack"]) == ("cai", False)
    log = admin(w.hq.port, "GET", "/v1/audit?limit=1000").json()["audit"]
    assert any((e["actor"], e["action"], e["target"]) == ("cai", "alert_ack",
                                                          f"alert:{p['diff_a']}") for e in log)


def test_operations_acknowledges_box_kinds_not_clearing(world: tuple[World, Planted]) -> None:
    w, p = world
    yun = Browser.sign_in(w.hq.port, "yun")
    ids = {a["id"] for a in seen(yun, w.hq.port)}
    assert {p["diff_a"], p["fork_b"], p["fork_a"]} <= ids
    a = yun.post(f"/v1/alerts/{p['fork_b']}/ack", {})
    assert a.status == 200 and a.json()["alert"]["acked_by"] == "yun"
    a = yun.post(f"/v1/alerts/{p['fork_b']}/ack", {})
    assert (a.status, a.field()) == (409, "id")
    a = yun.post(f"/v1/alerts/{p['diff_a']}/ack", {})
    assert (a.status, a.field()) in ((403, "role"), (409, "id"))


def test_store_managers_see_only_their_stores_and_acknowledge_nothing(
        world: tuple[World, Planted]) -> None:
    w, p = world
    for user, box, mine, other in (("zhang", BOX_A, "fork_a", "fork_b"),
                                   ("wang", BOX_B, "fork_b", "fork_a")):
        b = Browser.sign_in(w.hq.port, user)
        got = seen(b, w.hq.port)
        assert got and all(a["box"] == box for a in got), (user, got)
        ids = {a["id"] for a in got}
        assert p[mine] in ids and p[other] not in ids
        a = b.post(f"/v1/alerts/{p[mine]}/ack", {})
        assert (a.status, a.field()) == (403, "role")


def test_an_ack_without_the_csrf_token_is_refused_and_changes_nothing(
        world: tuple[World, Planted]) -> None:
    w, p = world
    yun = Browser.sign_in(w.hq.port, "yun")
    a = yun.post(f"/v1/alerts/{p['fork_a']}/ack", {}, csrf=None)
    assert (a.status, a.field()) == (403, "X-CSRF-Token")
    a = yun.post(f"/v1/alerts/{p['fork_a']}/ack", {}, csrf="wrong")
    assert a.status == 403
    shown = next(x for x in seen(yun, w.hq.port) if x["id"] == p["fork_a"])
    assert shown["acked_by"] is None and shown["can_ack"] is True


def test_tokens_need_alerts_read_and_cannot_acknowledge(world: tuple[World, Planted]) -> None:
    w, p = world
    made = {}
    for scope in ("alerts:read", "settlements:read"):
        a = admin(w.hq.port, "POST", "/v1/tokens", {"name": f"值班看板 {scope}",
                                                     "scopes": [scope]})
        assert a.status == 201, a
        made[scope] = a.json()["token"]
    ids = {a["id"] for a in seen(None, w.hq.port, made["alerts:read"])}
    assert set(p.values()) <= ids
    for scope, status in (("alerts:read", 403), ("settlements:read", 403)):
        a = raw_http(w.hq.port, "POST", f"/v1/alerts/{p['fork_a']}/ack", body=b"{}",
                     headers={"Authorization": f"Bearer {made[scope]}",
                              "Content-Type": "application/json"})
        assert (a.status, a.field()) == (status, "role")
    a = raw_http(w.hq.port, "GET", "/v1/alerts",
                 headers={"Authorization": f"Bearer {made['settlements:read']}"})
    assert (a.status, a.field()) == (403, "role")


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("GET", "/v1/alerts?state=closed", None, 400, "state"),
    ("GET", "/v1/alerts?days=0", None, 400, "days"),
    ("GET", "/v1/alerts?kind=" + quote("停电"), None, 400, "kind"),
    ("GET", "/v1/alerts?box=x", None, 400, "box"),
    ("POST", "/v1/alerts/abc/ack", {}, 400, "id"),
    ("POST", "/v1/alerts/99999999/ack", {}, 404, "id"),
    ("POST", "/v1/alerts/1/ack", {"备注": "x"}, 400, "备注"),
    ("POST", "/v1/alerts/1/ack", [1], 400, "body"),
])
def test_bad_requests_name_the_field(world: tuple[World, Planted], method: str, path: str,
                                     body: object, status: int, field: str) -> None:
    w, _ = world
    a = admin(w.hq.port, method, path, body)
    assert (a.status, a.field()) == (status, field), a
