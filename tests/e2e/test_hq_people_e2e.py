"""Attacks on HQ's people and access against the real `storelink hq run` (issue 15): other
stores' data by id, missing CSRF, another user's cookie, tokens with the wrong scope or in the
URL, password guessing; and every endpoint answering each role with what it may see."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.e2e.edge_proc import raw_http
from tests.e2e.hq_people import (
    ADMIN_TOKEN,
    BOX_A,
    BOX_B,
    JOB_B,
    PASSWORD,
    STORE_A,
    STORE_B,
    Browser,
    World,
    admin,
    cloud_job,
    post,
    start_world,
)

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = start_world(tmp_path_factory.mktemp("hq-people"))
    try:
        yield w
    finally:
        w.stop()


def audit_actions(world: World) -> list[tuple[str, str, bool]]:
    a = admin(world.hq.port, "GET", "/v1/audit?limit=1000")
    assert a.status == 200, a
    return [(e["actor"], e["action"], e["ok"]) for e in a.json()["audit"]]


def test_login_sets_a_strict_httponly_session_cookie_and_is_audited(world: World) -> None:
    b = Browser.sign_in(world.hq.port, "zhang")
    flags = [f.strip().lower() for f in b.login.headers["set-cookie"].split(";")]
    assert "httponly" in flags and "samesite=strict" in flags and "path=/" in flags
    assert "secure" not in flags  # plain HTTP on loopback; TLS or api.secure_cookies add it
    assert b.login.json()["role"] == "store_manager"
    me = b.get("/v1/me").json()
    assert (me["name"], me["display"], me["boxes"], me["stores"]) == (
        "zhang", "测试zhang", [BOX_A], [STORE_A])
    wrong = post(world.hq.port, "/login", {"user": "zhang", "password": "不对的密码12345"})
    assert (wrong.status, wrong.field()) == (401, "password")
    nobody = post(world.hq.port, "/login", {"user": "nobody", "password": PASSWORD})
    assert (nobody.status, nobody.json()) == (wrong.status, wrong.json())
    log = audit_actions(world)
    assert ("zhang", "login", True) in log and ("zhang", "login_failed", False) in log
    assert ("nobody", "login_failed", False) in log
    assert ("cli", "POST /v1/users", True) in log  # the users added by `storelink hq user add`


def test_bad_login_bodies_are_400s_naming_the_field(world: World) -> None:
    for body, field in (({"user": "zhang"}, "password"), ({"user": "张 三", "password": "x"},
                                                          "user"),
                        ({"user": "zhang", "password": "x", "otp": 1}, "otp"), ([], "body")):
        a = post(world.hq.port, "/login", body)
        assert (a.status, a.field()) == (400, field), body


@pytest.mark.parametrize("path", [
    f"/v1/boxes/{BOX_B}", f"/v1/boxes/{BOX_B}/settlements", f"/v1/boxes/{BOX_B}/journal",
    f"/v1/print-jobs/{quote(JOB_B)}", f"/v1/alarms?box={BOX_B}", f"/v1/print-jobs?box={BOX_B}",
    f"/v1/settlements?box={BOX_B}", f"/v1/workshop/tasks?box={BOX_B}",
    f"/v1/workshop/pieces?box={BOX_B}", f"/v1/workshop/pieces.csv?box={BOX_B}",
])
def test_a_store_manager_gets_404_for_another_stores_data_by_id(world: World, path: str) -> None:
    b = Browser.sign_in(world.hq.port, "zhang")
    a = b.get(path)
    assert a.status == 404, (path, a)
    assert BOX_B.encode() not in a.body.replace(f"no box {BOX_B!r}".encode(), b"")


def test_every_list_shows_a_store_manager_only_their_stores(world: World) -> None:
    for user, mine, theirs in (("zhang", BOX_A, BOX_B), ("wang", BOX_B, BOX_A)):
        b = Browser.sign_in(world.hq.port, user)
        boxes = b.get("/v1/boxes").json()["boxes"]
        assert [x["id"] for x in boxes] == [mine], user
        assert {j["box"] for j in b.get("/v1/print-jobs").json()["jobs"]} == {mine}
        assert {x["box"] for x in b.get("/v1/alarms").json()["alarms"]} == {mine}
        settlements = b.get("/v1/settlements").json()["settlements"]
        assert all(s["box"] == mine for s in settlements)
        assert all(t.get("box", mine) == mine
                   for t in b.get("/v1/workshop/tasks").json()["tasks"])
        stores = b.get("/v1/stores").json()["stores"]
        assert [s["boxes"] for s in stores] == [[mine]]
        assert b.get(f"/v1/boxes/{mine}").status == 200
        assert theirs not in b.get("/v1/print-jobs").body.decode()
    zhang = Browser.sign_in(world.hq.port, "zhang")
    assert zhang.get("/v1/settlements").json()["settlements"], "store A has takings"


def test_other_stores_commands_are_not_found(world: World) -> None:
    ops = Browser.sign_in(world.hq.port, "yun")
    assert ops.get(f"/v1/commands/nonce-{BOX_B}").status == 200
    manager = Browser.sign_in(world.hq.port, "zhang")
    assert manager.get(f"/v1/commands/nonce-{BOX_A}").status == 403  # not their role at all


def test_a_write_without_the_csrf_token_is_refused_and_changes_nothing(world: World) -> None:
    b = Browser.sign_in(world.hq.port, "zhang")
    for csrf in (None, "forged-token"):
        a = b.post("/v1/print-jobs", cloud_job("csrf-1", BOX_A), csrf=csrf)
        assert (a.status, a.field()) == (403, "X-CSRF-Token"), csrf
    assert b.get("/v1/print-jobs/csrf-1").status == 404
    a = b.post("/logout", {}, csrf=None)
    assert (a.status, a.field()) == (403, "X-CSRF-Token")
    assert b.get("/v1/me").status == 200  # still signed in
    assert b.post("/v1/print-jobs", cloud_job("csrf-1", BOX_A)).status == 201
    assert ("zhang", "csrf_refused", False) in audit_actions(world)
    assert ("zhang", "POST /v1/print-jobs", True) in audit_actions(world)


def test_a_cookie_works_only_with_its_own_csrf_and_ends_with_logout(world: World) -> None:
    zhang = Browser.sign_in(world.hq.port, "zhang")
    wang = Browser.sign_in(world.hq.port, "wang")
    a = zhang.post("/v1/print-jobs", cloud_job("mix-1", BOX_A), csrf=wang.csrf)
    assert (a.status, a.field()) == (403, "X-CSRF-Token")
    a = wang.post("/v1/print-jobs", cloud_job("mix-2", BOX_A))
    assert (a.status, a.field()) == (403, "box")
    assert zhang.post("/logout", {}).status == 200
    assert zhang.get("/v1/me").status == 401
    assert zhang.get("/", Accept="text/html").status == 303
    assert wang.get("/v1/me").status == 200


def test_disabling_a_user_ends_their_sessions(world: World) -> None:
    b = Browser.sign_in(world.hq.port, "cai")
    assert b.get("/v1/settlements").status == 200
    boss = Browser.sign_in(world.hq.port, "an")
    assert boss.post("/v1/users/cai/disable", {}).status == 200
    try:
        assert b.get("/v1/settlements").status == 401
        a = post(world.hq.port, "/login", {"user": "cai", "password": PASSWORD})
        assert a.status == 401
    finally:
        assert boss.post("/v1/users/cai/enable", {}).status == 200
    assert Browser.sign_in(world.hq.port, "cai").get("/v1/settlements").status == 200


@pytest.mark.parametrize(("user", "method", "path", "status"), [
    ("cai", "GET", "/v1/settlements", 200),
    ("cai", "GET", "/v1/alarms", 403),
    ("cai", "POST", f"/v1/boxes/{BOX_A}/commands", 403),
    ("cai", "GET", "/v1/users", 403),
    ("yun", "GET", "/v1/settlements", 403),
    ("yun", "GET", "/v1/alarms", 200),
    ("yun", "GET", "/v1/audit", 403),
    ("zhang", "GET", "/v1/users", 403),
    ("zhang", "GET", "/v1/tokens", 403),
    ("zhang", "GET", "/admin", 403),
    ("zhang", "POST", "/v1/production-tasks", 403),
    ("xiao", "GET", "/v1/settlements", 403),
    ("xiao", "GET", "/v1/alarms", 403),
    ("xiao", "GET", "/workshop", 403),
    ("an", "GET", "/v1/audit", 200),
    ("an", "GET", "/admin", 200),
])
def test_each_role_may_do_only_what_the_policy_table_says(world: World, user: str,
                                                          method: str, path: str,
                                                          status: int) -> None:
    b = Browser.sign_in(world.hq.port, user)
    a = b.get(path) if method == "GET" else b.post(path, {"name": "open_drawer", "args": {}})
    assert a.status == status, (user, method, path, a)
    if status == 403:
        assert a.field() == "role"


def test_a_salesperson_prints_to_their_warehouse_and_sees_only_their_jobs(world: World) -> None:
    b = Browser.sign_in(world.hq.port, "xiao")
    a = b.post("/v1/print-jobs", cloud_job("xs-pick-1", BOX_B))
    assert a.status == 201, a
    a = b.post("/v1/print-jobs", cloud_job("xs-pick-2", BOX_A))
    assert (a.status, a.field()) == (403, "box")
    jobs = b.get("/v1/print-jobs").json()["jobs"]
    assert [j["id"] for j in jobs] == ["xs-pick-1"]  # not JOB_B, sent by someone else
    assert b.get(f"/v1/print-jobs/{quote(JOB_B)}").status == 404
    assert b.get("/v1/print-jobs/xs-pick-1").status == 200
    wang = Browser.sign_in(world.hq.port, "wang")
    assert {j["id"] for j in wang.get("/v1/print-jobs").json()["jobs"]} >= {JOB_B, "xs-pick-1"}


def test_tokens_are_scoped_shown_once_revocable_and_never_taken_from_urls(world: World) -> None:
    a = admin(world.hq.port, "POST", "/v1/tokens", {"name": "ERP 金蝶", "scopes":
                                                     ["settlements:read"]})
    assert a.status == 201, a
    made = a.json()
    secret, token_id = made["token"], made["id"]
    listed = admin(world.hq.port, "GET", "/v1/tokens")
    assert secret not in listed.body.decode() and token_id in listed.body.decode()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert raw_http(world.hq.port, "GET", "/v1/settlements", headers=bearer).status == 200
    for method, path in (("GET", "/v1/users"), ("GET", "/v1/alarms"),
                         ("POST", "/v1/print-jobs")):
        a = raw_http(world.hq.port, method, path, headers={**bearer,
                     "Content-Type": "application/json"}, body=b"{}" if method == "POST" else b"")
        assert (a.status, a.field()) == (403, "role"), path
    for t in (secret, ADMIN_TOKEN):
        a = raw_http(world.hq.port, "GET", f"/v1/settlements?token={t}")
        assert (a.status, a.field()) == (400, "token")
    assert admin(world.hq.port, "POST", f"/v1/tokens/{token_id}/revoke", {}).status == 200
    a = raw_http(world.hq.port, "GET", "/v1/settlements", headers=bearer)
    assert (a.status, a.field()) == (401, "Authorization")
    assert admin(world.hq.port, "GET", "/v1/users").status == 200  # the configured token


def test_stores_are_listed_with_health_and_shown_per_role(world: World) -> None:
    zhang = Browser.sign_in(world.hq.port, "zhang")
    [mine] = zhang.get("/v1/stores").json()["stores"]
    assert (mine["id"], mine["name"], mine["region"], mine["boxes_total"]) == (
        STORE_A, "重庆江北建材旗舰店", "西南", 1)
    assert mine["health"] in ("ok", "warn", "bad") and "告警 1 条" in mine["reasons"]
    a = zhang.get(f"/v1/stores/{STORE_B}")
    assert (a.status, a.field()) == (404, "id")
    page = zhang.get(f"/v1/stores/{STORE_A}").json()
    assert [b["id"] for b in page["boxes"]] == [BOX_A]
    assert {"jobs", "alarms", "today"} <= set(page)
    assert {j["box"] for j in page["jobs"]} == {BOX_A}
    finance = Browser.sign_in(world.hq.port, "cai").get(f"/v1/stores/{STORE_B}").json()
    assert "today" in finance and "jobs" not in finance and "alarms" not in finance
    ops = Browser.sign_in(world.hq.port, "yun").get(f"/v1/stores/{STORE_B}").json()
    assert "today" not in ops and {a["box"] for a in ops["alarms"]} == {BOX_B}
    every = admin(world.hq.port, "GET", "/v1/stores").json()["stores"]
    assert [s["id"] for s in every] == [STORE_A, STORE_B]


def test_password_guessing_is_limited_per_user(world: World) -> None:
    port = world.hq.port
    for i in range(5):
        a = post(port, "/login", {"user": "yun", "password": f"猜一猜密码-{i}"})
        assert a.status == 401
    a = post(port, "/login", {"user": "yun", "password": PASSWORD})
    assert (a.status, a.field()) == (429, "user")
    assert int(a.headers["retry-after"]) > 0
    assert ("yun", "login_limited", False) in audit_actions(world)
    assert Browser.sign_in(port, "zhang").get("/v1/me").status == 200  # others still may
