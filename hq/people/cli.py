"""`storelink hq user add|list|disable|enable|passwd --config FILE …`: HQ's users from the shell
(the first admin is made here)."""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from hq import HqError
from hq.config import HqConfigError, StoreEntry, load_hq_config
from hq.people.accounts import PeopleError, check_name, check_password, new_user
from hq.people.passwords import hash_password
from hq.people.policy import ROLE_NAMES, ROLES
from hq.store import HqStore
from hq.store.backends import open_store
from hq.store.people import AuditEntry

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `user` with its actions."""
    user = sub.add_parser("user", help="HQ's users: add, list, disable, enable, passwd")
    actions = user.add_subparsers(dest="user_action", required=True)
    for name, text in (("add", "add a user (asks for the password)"),
                       ("list", "list users"),
                       ("disable", "stop a user from signing in (ends their sessions)"),
                       ("enable", "let a disabled user sign in again"),
                       ("passwd", "set a user's password (ends their sessions)")):
        p = actions.add_parser(name, help=text)
        p.add_argument("--config", required=True, help="HQ configuration (TOML)")
        if name != "list":
            p.add_argument("name", help="user name (a-z 0-9 . _ -)")
        if name in ("add", "passwd"):
            p.add_argument("--password-stdin", action="store_true",
                           help="read the password from the first line of standard input")
        if name == "add":
            p.add_argument("--role", required=True, choices=ROLES)
            p.add_argument("--display", help="the person's name as shown (e.g. 王小明)")
            p.add_argument("--store", action="append", default=[],
                           help="a store id of [[stores]] (store_manager, salesperson); repeat")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("新密码 / new password: ")
    if getpass.getpass("再输一次 / again: ") != first:
        raise PeopleError("password", "the two entries differ")
    return first


def _audit(store: HqStore, action: str, target: str, **detail: object) -> None:
    store.audit_add(AuditEntry(time.time_ns() // 1_000_000, "cli", action, target, "local",
                               True, dict(detail)))


def main(args: argparse.Namespace) -> int:
    """Carry out one `user` action; 0 done, 1 failed (e.g. no such user), 2 bad input."""
    try:
        cfg = load_hq_config(Path(args.config))
        store = open_store(cfg.db)
    except HqConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    except HqError as e:
        print(f"cannot open HQ's database: {e}", file=sys.stderr)
        return EXIT_FAIL
    try:
        return _act(args, store, cfg.stores)
    except PeopleError as e:
        print(f"{e.field}: {e.reason}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()


def _act(args: argparse.Namespace, store: HqStore, stores: Mapping[str, StoreEntry]) -> int:
    now = time.time_ns() // 1_000_000
    action = args.user_action
    if action == "list":
        for u in store.users():
            state = "disabled" if u.disabled else "active"
            print(f"{u.name}\t{u.display}\t{u.role} ({ROLE_NAMES[u.role]})\t"
                  f"{','.join(u.stores) or '-'}\t{state}")
        return EXIT_OK
    name = check_name(args.name)
    if action == "add":
        body = {"name": name, "display": args.display or name, "role": args.role,
                "stores": args.store, "password": _password(args)}
        user = new_user(body, stores, now)
        if not store.user_add(user):
            print(f"user {name!r} exists", file=sys.stderr)
            return EXIT_FAIL
        _audit(store, "POST /v1/users", name, role=user.role, stores=list(user.stores))
        print(f"added {name} ({user.role})")
        return EXIT_OK
    if action == "passwd":
        hashed = hash_password(check_password(_password(args)))
        changed = store.user_change(name, now, password=hashed)
    else:
        changed = store.user_change(name, now, disabled=action == "disable")
    if not changed:
        print(f"no user {name!r}", file=sys.stderr)
        return EXIT_FAIL
    _audit(store, f"POST /v1/users/{{name}}/{'password' if action == 'passwd' else action}",
           name)
    print(f"{action}: {name}")
    return EXIT_OK
