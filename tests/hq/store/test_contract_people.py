"""The people part of the store contract (users, sessions, tokens, audit, job owners), run
against every backend."""

from __future__ import annotations

from hq.store import HqStore
from hq.store.people import ApiToken, AuditEntry, Session, User
from tests.hq.store.test_contract import store

__all__ = ["store"]


def user(name: str, role: str = "store_manager", stores: tuple[str, ...] = ("上海一店",)) -> User:
    return User(name, "王小明", role, stores, "scrypt$h", False, 1, 1)


def test_users_are_added_once_and_read_back_in_chinese(store: HqStore) -> None:
    assert store.user_add(user("wang"))
    assert not store.user_add(user("wang", role="admin"))
    got = store.user("wang")
    assert got == user("wang")
    assert store.user("li") is None
    assert store.user_add(user("an", "admin", ()))
    assert [u.name for u in store.users()] == ["an", "wang"]


def test_a_password_change_or_disable_ends_the_users_sessions(store: HqStore) -> None:
    store.user_add(user("wang"))
    store.user_add(user("li"))
    store.session_add(Session("k1", "wang", "c1", 1, 100), 1)
    store.session_add(Session("k2", "li", "c2", 1, 100), 1)
    assert store.user_change("wang", 5, password="scrypt$new")
    assert store.session("k1", 2) is None
    assert store.session("k2", 2) == Session("k2", "li", "c2", 1, 100)
    got = store.user("wang")
    assert got is not None and (got.password, got.disabled, got.changed_ms) == (
        "scrypt$new", False, 5)
    assert store.user_change("li", 6, disabled=True)
    got = store.user("li")
    assert got is not None and got.disabled and got.password == "scrypt$h"
    assert store.session("k2", 2) is None
    assert not store.user_change("nobody", 7, disabled=True)


def test_sessions_expire_and_end(store: HqStore) -> None:
    store.session_add(Session("k1", "wang", "c1", 1, 100), 1)
    assert store.session("k1", 99) is not None
    assert store.session("k1", 100) is None
    store.session_add(Session("k2", "wang", "c2", 200, 300), 200)
    store.session_end("k2")
    assert store.session("k2", 201) is None


def test_tokens_are_found_by_hash_until_revoked(store: HqStore) -> None:
    t = ApiToken("t1", "ERP 金蝶", ("print", "settlements:read"), "ab" * 32, 5, "an")
    store.token_add(t)
    assert store.token_by_hash("ab" * 32) == t
    assert store.token_by_hash("cd" * 32) is None
    assert store.token_revoke("t1", 9)
    assert not store.token_revoke("t1", 10)
    assert store.token_by_hash("ab" * 32) is None
    assert store.tokens() == [ApiToken("t1", "ERP 金蝶", ("print", "settlements:read"),
                                       "ab" * 32, 5, "an", 9)]


def test_the_audit_log_lists_newest_first_and_counts_failed_logins(store: HqStore) -> None:
    for i, (actor, action, address) in enumerate([("wang", "login_failed", "10.0.0.1"),
                                                  ("wang", "login_failed", "10.0.0.2"),
                                                  ("li", "login_failed", "10.0.0.1"),
                                                  ("wang", "login", "10.0.0.1")]):
        store.audit_add(AuditEntry(100 + i, actor, action, "门店", address, action == "login",
                                   {"note": "登录"}))
    log = store.audit(10)
    assert [e["at_ms"] for e in log] == [103, 102, 101, 100]
    assert log[0]["detail"] == {"note": "登录"} and log[0]["ok"] is True
    assert [e["at_ms"] for e in store.audit(10, before_id=log[1]["id"])] == [101, 100]
    assert store.failed_logins("wang", "10.0.0.1", 0) == (2, 2)
    assert store.failed_logins("wang", "10.0.0.1", 101) == (1, 1)


def test_job_owners_first_writer_wins_newest_first(store: HqStore) -> None:
    store.job_owner_set("j1", "xiao")
    store.job_owner_set("j2", "xiao")
    store.job_owner_set("j1", "other")
    store.job_owner_set("j3", "other")
    assert store.jobs_of("xiao", 10) == ["j2", "j1"]
    assert store.jobs_of("xiao", 1) == ["j2"]
    assert store.job_owner("j1") == "xiao"
    assert store.job_owner("j9") is None
