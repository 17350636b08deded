"""The box's browser sessions, pure: a token traded for a cookie, expiry, eviction, wrong-token
limits (agent.api.page_sessions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agent.api.page_sessions import (
    FAIL_LIMIT,
    FAIL_WINDOW_MS,
    MAX_SESSIONS,
    TTL_MS,
    PageSessions,
)

TOKEN = "s3cret-token-CQ-JB-001"


def secret(n: int) -> bytes:
    return n.to_bytes(4, "big") * 12


def test_a_session_lives_for_its_ttl_and_ends_on_close() -> None:
    s = PageSessions(TOKEN)
    cookie, csrf, expires = s.open(1_000, secret(1))
    assert expires == 1_000 + TTL_MS and cookie != csrf
    assert s.check(cookie, 1_000 + TTL_MS - 1) == (csrf, expires)
    assert s.check(cookie, 1_000 + TTL_MS) is None
    assert s.check("not-a-cookie", 2_000) is None
    s.close(cookie)
    assert s.check(cookie, 2_000) is None


def test_only_hashes_of_cookies_are_kept() -> None:
    s = PageSessions(TOKEN)
    cookie, _, _ = s.open(0, secret(2))
    assert cookie not in s.sessions and len(next(iter(s.sessions))) == 64


def test_the_oldest_session_goes_when_the_table_is_full() -> None:
    s = PageSessions(TOKEN)
    cookies = [s.open(i, secret(i + 10))[0] for i in range(MAX_SESSIONS + 1)]
    assert len(s.sessions) == MAX_SESSIONS
    assert s.check(cookies[0], MAX_SESSIONS + 1) is None
    assert s.check(cookies[-1], MAX_SESSIONS + 1) is not None


def test_a_session_needs_enough_random_bytes() -> None:
    with pytest.raises(ValueError):
        PageSessions(TOKEN).open(0, b"\x00" * 47)


def test_ten_wrong_tokens_a_minute_block_an_address_for_the_rest_of_it() -> None:
    s = PageSessions(TOKEN)
    for i in range(FAIL_LIMIT):
        assert not s.blocked("192.168.1.50", i)
        s.failed("192.168.1.50", i)
    assert s.blocked("192.168.1.50", FAIL_LIMIT)
    assert not s.blocked("192.168.1.51", FAIL_LIMIT)
    assert not s.blocked("192.168.1.50", FAIL_LIMIT - 1 + FAIL_WINDOW_MS)


@given(st.text(max_size=80))
def test_only_the_token_itself_is_the_token(given_token: str) -> None:
    assert PageSessions(TOKEN).token_ok(given_token) == (given_token == TOKEN)
