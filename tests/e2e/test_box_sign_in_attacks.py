"""Attacks on the box's browser sign-in against the real daemon with a token configured: a
token in the URL, a hostile page signing the shop's browser in or writing with its cookie, a
stolen cookie without its CSRF token, token guessing (docs/security.md §16)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.edge_proc import journal_records, post_json, raw_http, sale, start_box
from tests.e2e.procs import Proc

TOKEN = "Box-Token-CQ-JB-001-0123456789"


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Proc]:
    proc = start_box(tmp_path, api=f'token = "{TOKEN}"')
    try:
        yield proc
    finally:
        proc.stop()


def sales(tmp_path: Path) -> int:
    return len(journal_records(tmp_path / "state" / "journal.db", "sale"))


def sign_in(port: int) -> tuple[str, str]:
    a = post_json(port, "/v1/session", {"token": TOKEN})
    assert a.status == 200, a
    cookie = a.headers["set-cookie"].split(";")[0]
    assert "HttpOnly" in a.headers["set-cookie"] and "SameSite=Strict" in a.headers["set-cookie"]
    return cookie, a.json()["csrf"]


def test_a_token_in_the_url_is_refused_and_not_echoed(box: Proc) -> None:
    for path in ("/", "/v1/health", "/v1/events", "/metrics"):
        a = raw_http(box.port, "GET", f"{path}?token={TOKEN}")
        assert (a.status, a.field()) == (400, "token"), path
        assert TOKEN.encode() not in a.body


def test_a_hostile_page_can_neither_sign_in_nor_write_with_the_cookie(box: Proc,
                                                                     tmp_path: Path) -> None:
    evil = {"Origin": "http://evil.example"}
    a = post_json(box.port, "/v1/session", {"token": TOKEN}, **evil)
    assert (a.status, a.field()) == (403, "Origin") and "set-cookie" not in a.headers
    cookie, csrf = sign_in(box.port)
    before = sales(tmp_path)
    a = post_json(box.port, "/v1/sales", sale("XS-COOKIE-1"), Cookie=cookie,
                  **{"X-CSRF-Token": csrf}, **evil)
    assert (a.status, a.field()) == (403, "Origin")
    # Same origin, the cookie but no CSRF token (a stolen or replayed cookie): refused too.
    a = post_json(box.port, "/v1/sales", sale("XS-COOKIE-2"), Cookie=cookie)
    assert (a.status, a.field()) == (403, "X-CSRF-Token")
    assert sales(tmp_path) == before
    a = post_json(box.port, "/v1/sales", sale("XS-COOKIE-3"), Cookie=cookie,
                  **{"X-CSRF-Token": csrf})
    assert a.status == 201, a
    assert sales(tmp_path) == before + 1


def test_guessing_the_token_is_cut_off_after_ten_tries(box: Proc) -> None:
    for i in range(10):
        assert post_json(box.port, "/v1/session", {"token": f"guess-{i}"}).status == 401
    a = post_json(box.port, "/v1/session", {"token": TOKEN})
    assert (a.status, a.field()) == (429, "token")


def test_a_page_load_without_a_session_goes_to_the_sign_in_page(box: Proc) -> None:
    a = raw_http(box.port, "GET", "/", headers={"Accept": "text/html"})
    assert a.status == 303 and a.headers["location"].startswith("/login?next=")
    a = raw_http(box.port, "GET", "/login", headers={"Accept": "text/html"})
    assert a.status == 200 and "盒子访问令牌".encode() in a.body
    a = raw_http(box.port, "GET", "/v1/health", headers={"Accept": "text/html"})
    assert (a.status, a.field()) == (401, "Authorization")
