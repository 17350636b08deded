"""The one policy table: every route of HQ's app has a rule, unlisted routes are admin-only."""

from __future__ import annotations

import datetime
from pathlib import Path

from hq.config import PairingConfig
from hq.dispatch.cloud_print import Dispatcher
from hq.fleet.registry import Registry
from hq.pairing.book import HqIdentity, PairingBook
from hq.pairing.web import install as install_pairing
from hq.people.policy import POLICY, ROLES, SCOPES, Principal, allows, rule_for, store_boxes
from hq.pki.ca_dir import CaDir
from hq.store.sqlite import SqliteStore
from hq.web.api import ApiContext, make_app
from sync.journal.record import public_bytes
from tests.hq.journals import HQ_KEY


def routes(tmp: Path) -> set[tuple[str, str]]:
    """Every route of HQ's app with all its optional rooms installed (pairing)."""
    store = SqliteStore(tmp / "hq.db")
    ca = CaDir(tmp / "pki")
    ca.init("Storelink HQ CA", datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC), 30)
    book = PairingBook(PairingConfig(ca.root, tmp / "pairing.db", "mqtt.example.cn", 8883),
                       HqIdentity(public_bytes(HQ_KEY), "storelink-hq"))
    try:
        disp = Dispatcher(store, _never, lambda: 0, HQ_KEY, 60, 60)
        app = make_app(ApiContext(store, Registry(store, lambda: 0), disp))
        install_pairing(app, book, lambda: 0, store)
        return {(r.method, r.resource.canonical) for r in app.router.routes()
                if r.method != "HEAD" and r.resource is not None}
    finally:
        book.close()
        store.close()


async def _never(topic: str, payload: bytes, expiry_s: int) -> bool:
    return False


def user(role: str) -> Principal:
    return Principal("user", "u", role)


def test_every_rule_names_a_real_route_and_real_roles_and_scopes(tmp_path: Path) -> None:
    served = routes(tmp_path)
    assert set(POLICY) <= served, set(POLICY) - served
    for rule in POLICY.values():
        assert rule.roles <= set(ROLES) and rule.scopes <= set(SCOPES)


def test_a_route_not_in_the_table_is_for_admins_only(tmp_path: Path) -> None:
    for method, route in routes(tmp_path) - set(POLICY):
        rule = rule_for(method, route)
        assert allows(rule, user("admin"))
        assert allows(rule, Principal("token", "api.token", scopes=frozenset({"admin"})))
        for role in ROLES[1:]:
            assert not allows(rule, user(role)), (method, route, role)
        assert not allows(rule, Principal("token", "t", scopes=frozenset(SCOPES[1:])))
    rule = rule_for("POST", "/v1/some-endpoint-added-later")
    assert not allows(rule, user("operations")) and allows(rule, user("admin"))


def test_head_is_checked_as_get_and_tokens_by_scope() -> None:
    assert rule_for("HEAD", "/v1/alarms") == rule_for("GET", "/v1/alarms")
    reader = Principal("token", "erp", scopes=frozenset({"settlements:read"}))
    assert allows(rule_for("GET", "/v1/settlements"), reader)
    assert not allows(rule_for("POST", "/v1/print-jobs"), reader)


def test_store_scope_is_the_union_of_the_stores_boxes() -> None:
    boxes_of = {"CQ-JB-001": ("B1", "B2"), "CD-WH-003": ("B3",)}
    assert store_boxes(["CQ-JB-001", "CD-WH-003"], boxes_of) == {"B1", "B2", "B3"}
    assert store_boxes(["gone"], boxes_of) == frozenset()
    p = Principal("user", "zhang", "store_manager", boxes=frozenset({"B1"}))
    assert p.sees("B1") and not p.sees("B3")
    assert Principal("user", "an", "admin").sees("B3")
