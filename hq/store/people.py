"""HQ's people in the store: users, browser sessions, API tokens, the audit log, job owners.

The SQL is the same on SQLite and PostgreSQL, written once (`?` placeholders); each backend
supplies `_read` and `_changes` (several statements in one transaction, their row counts).
"""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class User:
    """A person who signs in to HQ; `password` is the encoded scrypt hash (hq.people.passwords)."""

    name: str
    display: str
    role: str
    stores: tuple[str, ...]
    password: str
    disabled: bool
    created_ms: int
    changed_ms: int

    def to_json(self) -> dict[str, Any]:
        """The user as the admin API shows it (never the hash)."""
        return {"name": self.name, "display": self.display, "role": self.role,
                "stores": list(self.stores), "disabled": self.disabled,
                "created_ms": self.created_ms, "changed_ms": self.changed_ms}


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the SHA-256 of its cookie value, its CSRF token, its expiry."""

    key: str
    user: str
    csrf: str
    created_ms: int
    expires_ms: int


@dataclass(frozen=True)
class ApiToken:
    """An integration's bearer token: only its SHA-256 is kept."""

    id: str
    name: str
    scopes: tuple[str, ...]
    hash: str
    created_ms: int
    created_by: str
    revoked_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The token as the admin API lists it (never the hash)."""
        return {"id": self.id, "name": self.name, "scopes": list(self.scopes),
                "created_ms": self.created_ms, "created_by": self.created_by,
                "revoked_ms": self.revoked_ms}


@dataclass(frozen=True)
class AuditEntry:
    """One line of HQ's audit log: who did what to what, from where, and whether it worked."""

    at_ms: int
    actor: str
    action: str
    target: str
    address: str
    ok: bool
    detail: dict[str, Any]


class PeopleStore(Protocol):
    """The people part of `hq.store.HqStore`."""

    def user_add(self, user: User) -> bool:
        """Store a new user; False if the name is taken."""
        ...

    def user(self, name: str) -> User | None:
        """The user with this name, or None."""
        ...

    def users(self) -> list[User]:
        """Every user by name."""
        ...

    def user_change(self, name: str, now_ms: int, password: str | None = None,
                    disabled: bool | None = None) -> bool:
        """Set a new password hash and/or the disabled flag and end the user's sessions, in one
        transaction; False if there is no such user."""
        ...

    def session_add(self, session: Session, now_ms: int) -> None:
        """Store a new session (and forget expired ones)."""
        ...

    def session(self, key: str, now_ms: int) -> Session | None:
        """The unexpired session with this key, or None."""
        ...

    def session_end(self, key: str) -> None:
        """Forget a session (logout)."""
        ...

    def token_add(self, token: ApiToken) -> None:
        """Store a new API token."""
        ...

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        """The unrevoked token with this hash, or None."""
        ...

    def tokens(self) -> list[ApiToken]:
        """Every token, revoked ones too, oldest first."""
        ...

    def token_revoke(self, token_id: str, now_ms: int) -> bool:
        """Revoke a token; False if there is no such unrevoked token."""
        ...

    def audit_add(self, entry: AuditEntry) -> None:
        """Append to the audit log."""
        ...

    def audit(self, limit: int, before_id: int | None = None) -> list[dict[str, Any]]:
        """Audit entries newest first (ids below `before_id`, if given)."""
        ...

    def failed_logins(self, user: str, address: str, since_ms: int) -> tuple[int, int]:
        """Failed logins since `since_ms` naming `user`, and coming from `address`."""
        ...

    def job_owner_set(self, job_id: str, user: str) -> None:
        """Remember who sent a cloud print job (first writer wins)."""
        ...

    def jobs_of(self, user: str, limit: int) -> list[str]:
        """The ids of the newest jobs `user` sent, newest first."""
        ...

    def job_owner(self, job_id: str) -> str | None:
        """Who sent the job, if a signed-in user did."""
        ...


class PeopleSql(PeopleStore):
    """`PeopleStore` in SQL both backends run."""

    @abstractmethod
    def _param(self, sql: str) -> str:
        """`sql` with its `?` placeholders in the backend's style."""

    @abstractmethod
    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[Any]:
        """The rows of one query (in the backend's placeholder style)."""

    @abstractmethod
    def _changes(self, statements: list[tuple[str, tuple[object, ...]]]) -> list[int]:
        """Run statements (in the backend's placeholder style) in one transaction; their row
        counts."""

    def _q(self, sql: str, *args: object) -> list[Any]:
        return self._read(self._param(sql), args)

    def _do(self, *statements: tuple[str, tuple[object, ...]]) -> list[int]:
        return self._changes([(self._param(s), a) for s, a in statements])

    _USER = "SELECT name, display, role, stores, password, disabled, created_ms, changed_ms " \
            "FROM users"

    @staticmethod
    def _user(r: Any) -> User:
        return User(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], bool(r[5]), int(r[6]),
                    int(r[7]))

    def user_add(self, user: User) -> bool:
        """Store a new user; False if the name is taken."""
        return self._do(("INSERT INTO users (name, display, role, stores, password, disabled, "
                         "created_ms, changed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (name) DO NOTHING",
                         (user.name, user.display, user.role,
                          json.dumps(list(user.stores), ensure_ascii=False), user.password,
                          int(user.disabled), user.created_ms, user.changed_ms)))[0] == 1

    def user(self, name: str) -> User | None:
        """The user with this name, or None."""
        rows = self._q(self._USER + " WHERE name = ?", name)
        return self._user(rows[0]) if rows else None

    def users(self) -> list[User]:
        """Every user by name."""
        return [self._user(r) for r in self._q(self._USER + " ORDER BY name")]

    def user_change(self, name: str, now_ms: int, password: str | None = None,
                    disabled: bool | None = None) -> bool:
        """Set a new password hash and/or the disabled flag and end the user's sessions, in one
        transaction; False if there is no such user."""
        counts = self._do(
            ("UPDATE users SET password = COALESCE(?, password), "
             "disabled = COALESCE(?, disabled), changed_ms = ? WHERE name = ?",
             (password, None if disabled is None else int(disabled), now_ms, name)),
            ("DELETE FROM sessions WHERE username = ?", (name,)))
        return counts[0] == 1

    def session_add(self, session: Session, now_ms: int) -> None:
        """Store a new session (and forget expired ones)."""
        self._do(("DELETE FROM sessions WHERE expires_ms <= ?", (now_ms,)),
                 ("INSERT INTO sessions (key, username, csrf, created_ms, expires_ms) "
                  "VALUES (?, ?, ?, ?, ?)", (session.key, session.user, session.csrf,
                                             session.created_ms, session.expires_ms)))

    def session(self, key: str, now_ms: int) -> Session | None:
        """The unexpired session with this key, or None."""
        rows = self._q("SELECT key, username, csrf, created_ms, expires_ms FROM sessions "
                       "WHERE key = ? AND expires_ms > ?", key, now_ms)
        return Session(*rows[0]) if rows else None

    def session_end(self, key: str) -> None:
        """Forget a session (logout)."""
        self._do(("DELETE FROM sessions WHERE key = ?", (key,)))

    _TOKEN = "SELECT id, name, scopes, hash, created_ms, created_by, revoked_ms FROM api_tokens"

    @staticmethod
    def _token(r: Any) -> ApiToken:
        return ApiToken(r[0], r[1], tuple(json.loads(r[2])), r[3], int(r[4]), r[5],
                        None if r[6] is None else int(r[6]))

    def token_add(self, token: ApiToken) -> None:
        """Store a new API token."""
        self._do(("INSERT INTO api_tokens (id, name, scopes, hash, created_ms, created_by) "
                  "VALUES (?, ?, ?, ?, ?, ?)",
                  (token.id, token.name, json.dumps(list(token.scopes)), token.hash,
                   token.created_ms, token.created_by)))

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        """The unrevoked token with this hash, or None."""
        rows = self._q(self._TOKEN + " WHERE hash = ? AND revoked_ms IS NULL", token_hash)
        return self._token(rows[0]) if rows else None

    def tokens(self) -> list[ApiToken]:
        """Every token, revoked ones too, oldest first."""
        return [self._token(r) for r in self._q(self._TOKEN + " ORDER BY created_ms, id")]

    def token_revoke(self, token_id: str, now_ms: int) -> bool:
        """Revoke a token; False if there is no such unrevoked token."""
        return self._do(("UPDATE api_tokens SET revoked_ms = ? WHERE id = ? "
                         "AND revoked_ms IS NULL", (now_ms, token_id)))[0] == 1

    def audit_add(self, entry: AuditEntry) -> None:
        """Append to the audit log."""
        self._do(("INSERT INTO audit (at_ms, actor, action, target, address, ok, detail) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (entry.at_ms, entry.actor, entry.action, entry.target, entry.address,
                   int(entry.ok), json.dumps(entry.detail, ensure_ascii=False))))

    def audit(self, limit: int, before_id: int | None = None) -> list[dict[str, Any]]:
        """Audit entries newest first (ids below `before_id`, if given)."""
        sql = "SELECT id, at_ms, actor, action, target, address, ok, detail FROM audit"
        args: tuple[object, ...] = ()
        if before_id is not None:
            sql += " WHERE id < ?"
            args = (before_id,)
        rows = self._q(sql + " ORDER BY id DESC LIMIT ?", *args, limit)
        return [{"id": int(r[0]), "at_ms": int(r[1]), "actor": r[2], "action": r[3],
                 "target": r[4], "address": r[5], "ok": bool(r[6]), "detail": json.loads(r[7])}
                for r in rows]

    def failed_logins(self, user: str, address: str, since_ms: int) -> tuple[int, int]:
        """Failed logins since `since_ms` naming `user`, and coming from `address`."""
        by_user = self._q("SELECT COUNT(*) FROM audit WHERE actor = ? AND action = "
                          "'login_failed' AND at_ms >= ?", user, since_ms)
        by_address = self._q("SELECT COUNT(*) FROM audit WHERE address = ? AND action = "
                             "'login_failed' AND at_ms >= ?", address, since_ms)
        return int(by_user[0][0]), int(by_address[0][0])

    def job_owner_set(self, job_id: str, user: str) -> None:
        """Remember who sent a cloud print job (first writer wins)."""
        self._do(("INSERT INTO job_owners (job_id, username, seq) VALUES (?, ?, "
                  "(SELECT COALESCE(MAX(seq), 0) + 1 FROM job_owners)) "
                  "ON CONFLICT (job_id) DO NOTHING", (job_id, user)))

    def jobs_of(self, user: str, limit: int) -> list[str]:
        """The ids of the newest jobs `user` sent, newest first."""
        return [r[0] for r in self._q("SELECT job_id FROM job_owners WHERE username = ? "
                                      "ORDER BY seq DESC LIMIT ?", user, limit)]

    def job_owner(self, job_id: str) -> str | None:
        """Who sent the job, if a signed-in user did."""
        rows = self._q("SELECT username FROM job_owners WHERE job_id = ?", job_id)
        return str(rows[0][0]) if rows else None
