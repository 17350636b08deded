"""Password hashes: scrypt with per-user salt and stored parameters."""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from hq.people.passwords import N, P, R, hash_password, password_problem, verify_password


def test_a_chinese_password_verifies_and_a_wrong_one_does_not() -> None:
    h = hash_password("门店密码-2026-春")
    assert verify_password("门店密码-2026-春", h)
    assert not verify_password("门店密码-2026-夏", h)
    scheme, n, r, p, salt, digest = h.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", N, R, P)
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(digest)) == 32


def test_each_hash_has_its_own_salt() -> None:
    assert hash_password("same password") != hash_password("same password")


def test_the_vector_is_stable() -> None:
    # The first 32 bytes of RFC 7914 §12: scrypt(N=1024, r=8, p=16) of "password", "NaCl".
    h = hash_password("password", salt=b"NaCl", n=1024, r=8, p=16)
    assert h.split("$")[5] == base64.b64encode(bytes.fromhex(
        "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162")).decode()


def test_malformed_or_hostile_hashes_never_verify() -> None:
    good = hash_password("secret-password", n=16)
    for bad in ("", "scrypt", "bcrypt$16$8$1$AAAA$AAAA", good.replace("$16$", "$15$"),
                good.replace("$16$", f"${2**30}$"), good.replace("$8$", "$0$"),
                good[:-4] + "!!!!", "scrypt$16$8$1$not base64$AAAA"):
        assert not verify_password("secret-password", bad), bad


def test_stored_parameters_are_used_so_old_hashes_keep_working() -> None:
    old = hash_password("old-password", n=1024, r=4, p=1)
    assert verify_password("old-password", old)


def test_new_passwords_need_eight_characters() -> None:
    assert password_problem("七个字的密码啊") is not None
    assert password_problem("八个字的密码好啊") is None
    assert password_problem("x" * 1025) is not None


@settings(max_examples=25, deadline=None)
@given(st.text(max_size=40))
def test_any_text_round_trips(password: str) -> None:
    h = hash_password(password, n=16)
    assert verify_password(password, h)
    assert not verify_password(password + "x", h)
