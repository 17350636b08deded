"""`storelink journal rotate-key`: ask the running box to replace its journal key (an approval
is required; the box journals it and HQ learns the new key from the upload)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from agent.config import ConfigError, load_config

VALID, REFUSED, UNUSABLE = 0, 1, 2
_WILDCARD = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def _base(args: argparse.Namespace) -> tuple[str, str]:
    """The API's base URL and bearer token, from --url/--token or the box's configuration."""
    if args.url:
        return args.url.rstrip("/"), args.token or ""
    cfg = load_config(Path(args.config))
    host = _WILDCARD.get(cfg.api.listen, cfg.api.listen)
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{cfg.api.port}", args.token or cfg.api.token


def _post(url: str, token: str, body: dict[str, Any]) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = Request(url, data=json.dumps(body, ensure_ascii=False).encode(), method="POST",
                  headers=headers)
    try:
        with urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except HTTPError as e:
        try:
            return e.code, json.loads(e.read())
        except ValueError:
            return e.code, {}


def cmd_rotate_key(args: argparse.Namespace, out: TextIO | None = None,
                   stdin: TextIO | None = None) -> int:
    """Rotate the journal key of the running box; the approval's PIN (with --supervisor) or
    badge code is read from standard input, never from the command line."""
    out = out or sys.stdout
    secret = (stdin or sys.stdin).readline().strip()
    if not secret:
        print("error: give the supervisor's PIN (with --supervisor) or badge code on standard "
              "input", file=sys.stderr)
        return UNUSABLE
    approval = ({"supervisor": args.supervisor, "pin": secret} if args.supervisor
                else {"badge": secret})
    body: dict[str, Any] = {"reason": args.reason, "approval": approval}
    if args.clerk:
        body["clerk"] = args.clerk
    try:
        base, token = _base(args)
        status, answer = _post(base + "/v1/journal/rotate-key", token, body)
    except ConfigError as e:
        print("\n".join(f"error: {line}" for line in e.errors), file=sys.stderr)
        return UNUSABLE
    except (URLError, OSError, ValueError) as e:
        print(f"error: cannot reach the box's API: {e}", file=sys.stderr)
        return UNUSABLE
    if status == 201:
        print(f"rotated: key {answer['old_key']} → {answer['new_key']} at seq {answer['seq']} "
              f"(approval {answer['approval_seq']} by {answer['approver']})", file=out)
        return VALID
    err = answer.get("error", {}) if isinstance(answer, dict) else {}
    print(f"refused: {status} {err.get('field')}: {err.get('reason')}", file=sys.stderr)
    return REFUSED


def add_rotate_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `journal rotate-key` to the journal subcommands."""
    p = sub.add_parser("rotate-key", help="replace the running box's journal key (approval "
                       "read from stdin)")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", help="the box's configuration (finds its API and token)")
    where.add_argument("--url", help="the box's API, e.g. http://127.0.0.1:8470")
    p.add_argument("--token", help="the API's bearer token (default: from --config)")
    p.add_argument("--reason", required=True, help="why, in words (journaled)")
    p.add_argument("--supervisor", help="the approving supervisor's id: stdin holds the PIN "
                   "(without it, stdin holds a badge code)")
    p.add_argument("--clerk", help="who asks (recorded in the audit)")
    p.set_defaults(func=cmd_rotate_key)
