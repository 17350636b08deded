"""The pure parts of the HTTP edge: Host/Origin policy, token strength, accept-error logging."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.api_access import allowed_names, token_weakness
from sync.web.connections import AcceptErrorLog
from sync.web.edge import EdgePolicy, host_allowed, origin_allowed, split_host

POLICY = EdgePolicy.of(["box-1.shop.example.cn", "收银台.local"], ["http://pos.example.cn:8080"])


@pytest.mark.parametrize(("host", "name"), [
    ("127.0.0.1:8470", "127.0.0.1"), ("[::1]:8470", "::1"), ("LocalHost", "localhost"),
    ("box.example.", "box.example"), ("[::1", None), ("a:b", None), ("", None),
    ("[::1]x", None),
])
def test_split_host(host: str, name: str | None) -> None:
    assert split_host(host) == name


@pytest.mark.parametrize(("host", "ok"), [
    ("127.0.0.1:8470", True), ("192.168.1.20", True), ("[fe80::1]:8470", True),
    ("localhost:8470", True), ("app.localhost", True), ("box-1.shop.example.cn:8470", True),
    ("evil.example", False), ("127.0.0.1.evil.example", False), ("box-1.shop.example.cn.evil",
                                                                   False),
    (None, False), ("", False),
])
def test_host_allowed(host: str | None, ok: bool) -> None:
    assert host_allowed(host, POLICY) is ok


@pytest.mark.parametrize(("origin", "host", "ok"), [
    (None, "evil.example", True),  # not a browser; the Host check decides
    ("http://127.0.0.1:8470", "127.0.0.1:8470", True),
    ("http://127.0.0.1:8471", "127.0.0.1:8470", False),
    ("http://pos.example.cn:8080", "127.0.0.1:8470", True),
    ("http://evil.example:8470", "evil.example:8470", False),  # rebinding, same-origin
    ("null", "127.0.0.1:8470", False),
    ("file://", "127.0.0.1:8470", False),
])
def test_origin_allowed(origin: str | None, host: str, ok: bool) -> None:
    assert origin_allowed(origin, host, POLICY) is ok


@given(st.text(max_size=40))
def test_any_host_header_is_judged_without_error(host: str) -> None:
    host_allowed(host, POLICY)
    origin_allowed(host, host, POLICY)


@pytest.mark.parametrize("token", [" " * 16, "a" * 16, "abcdefghijklmnop", "短", "ab" * 10,
                                   "0123456789abcdef", "s3cret token with spaces"])
def test_guessable_tokens_are_refused_with_how_to_make_one(token: str) -> None:
    reason = token_weakness(token)
    assert reason is not None and "secrets.token_urlsafe(32)" in reason


def test_made_tokens_pass() -> None:
    for _ in range(50):
        assert token_weakness(secrets.token_urlsafe(32)) is None
    assert token_weakness("s3cret-token-CQ-JB-001") is None
    assert token_weakness("收银台令牌-Xq3vT9pLw2Zk7rMb") is None


def test_allowed_names_name_each_bad_entry() -> None:
    errors: list[str] = []
    raw = {"h": ["box.lan", "bad name", 3], "o": ["http://pos.lan:8080/", "javascript:x"]}
    assert allowed_names(raw, "h", "api", errors, origins=False) == ("box.lan",)
    assert allowed_names(raw, "o", "api", errors, origins=True) == ("http://pos.lan:8080",)
    assert [e.split(":")[0] for e in errors] == ["api.h[1]", "api.h[2]", "api.o[1]"]


def test_accept_errors_are_logged_once_per_interval_with_a_count() -> None:
    now = [0.0]
    log = AcceptErrorLog(60.0, clock=lambda: now[0])
    decisions = []
    for t in (0.0, 1.0, 2.0, 59.0, 60.0, 61.0, 130.0):
        now[0] = t
        decisions.append(log.should_log())
    assert decisions == [True, False, False, False, True, False, True]
