"""Making and checking users and API tokens (pure: values in, values out; `now_ms` passed in)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping

from hq import HqError
from hq.config import StoreEntry
from hq.people.passwords import hash_password, password_problem
from hq.people.policy import ROLES, STORE_ROLES, scope_problem
from hq.store.people import ApiToken, User

USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
TOKEN_PREFIX = "slk_"


class PeopleError(HqError):
    """A user or token request is invalid; `field` names what (a dotted path)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def check_name(name: object, field: str = "name") -> str:
    """A user name: 1-64 of a-z 0-9 . _ - starting with a letter or digit."""
    if not isinstance(name, str) or not USER_NAME.fullmatch(name):
        raise PeopleError(field, "must be 1-64 characters of a-z 0-9 . _ - (starting with a "
                                 "letter or digit)")
    return name


def check_password(password: object, field: str = "password") -> str:
    """A new password (length only: a passphrase of Chinese words is welcome)."""
    if not isinstance(password, str):
        raise PeopleError(field, "must be a string")
    problem = password_problem(password)
    if problem is not None:
        raise PeopleError(field, problem)
    return password


def check_role_stores(role: object, stores: object, known: Mapping[str, StoreEntry]
                      ) -> tuple[str, tuple[str, ...]]:
    """A role and its stores: store managers and salespeople need configured stores (a
    salesperson's are warehouses), other roles none."""
    if not isinstance(role, str) or role not in ROLES:
        raise PeopleError("role", "must be one of " + ", ".join(ROLES))
    if not isinstance(stores, list) or not all(isinstance(s, str) for s in stores):
        raise PeopleError("stores", "must be an array of store ids")
    if role not in STORE_ROLES:
        if stores:
            raise PeopleError("stores", f"a {role} sees every store; give no stores")
        return role, ()
    if not stores:
        raise PeopleError("stores", f"a {role} needs at least one store")
    for i, s in enumerate(stores):
        entry = known.get(s)
        if entry is None:
            raise PeopleError(f"stores[{i}]", f"no store {s!r} in HQ's [[stores]]")
        if role == "salesperson" and entry.kind != "warehouse":
            raise PeopleError(f"stores[{i}]", f"{s!r} is a {entry.kind}; a salesperson sends "
                                              "to warehouses")
    return role, tuple(dict.fromkeys(stores))


def new_user(body: object, known: Mapping[str, StoreEntry], now_ms: int) -> User:
    """A user from `{"name", "display", "role", "stores", "password"}` (hashing is slow: call
    from a worker thread)."""
    if not isinstance(body, dict):
        raise PeopleError("body", "must be a JSON object")
    extra = set(body) - {"name", "display", "role", "stores", "password"}
    if extra:
        raise PeopleError(str(min(extra)), "unknown field")
    name = check_name(body.get("name"))
    display = body.get("display", name)
    if not isinstance(display, str) or not 1 <= len(display) <= 100:
        raise PeopleError("display", "must be 1-100 characters")
    role, stores = check_role_stores(body.get("role"), body.get("stores", []), known)
    password = check_password(body.get("password"))
    return User(name, display, role, stores, hash_password(password), False, now_ms, now_ms)


def token_hash(secret: str) -> str:
    """What is kept of a token: the hex SHA-256 of its text (tokens are random, so no salt)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token(body: object, created_by: str, now_ms: int) -> tuple[ApiToken, str]:
    """A token from `{"name", "scopes"}` and its secret text (shown once, never stored)."""
    if not isinstance(body, dict):
        raise PeopleError("body", "must be a JSON object")
    extra = set(body) - {"name", "scopes"}
    if extra:
        raise PeopleError(str(min(extra)), "unknown field")
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 100:
        raise PeopleError("name", "must be 1-100 characters (what the integration is)")
    scopes = body.get("scopes")
    problem = scope_problem(scopes)
    if problem is not None:
        raise PeopleError("scopes", problem)
    assert isinstance(scopes, list)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(secrets.token_hex(8), name, tuple(dict.fromkeys(scopes)),
                     token_hash(secret), now_ms, created_by)
    return token, secret
