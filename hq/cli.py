"""`storelink hq run|pubkey|doctor --config FILE` and `storelink hq user …` (hq.people.cli)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hq import HqError
from hq.config import HqConfigError, load_hq_config, load_or_create_key
from sync.service import run_until_signalled
from sync.web.connections import install_accept_log

log = logging.getLogger(__name__)
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def run(config_path: str | Path) -> int:
    """Run one HQ worker in the foreground until SIGTERM or SIGINT; 0 on a clean stop,
    2 for a bad configuration, 1 when it cannot run."""
    try:
        cfg = load_hq_config(Path(config_path))
    except HqConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE

    async def serve(stop: asyncio.Event) -> None:
        from hq.service import HqService

        install_accept_log(asyncio.get_running_loop())
        await HqService(cfg).run(stop)

    try:
        run_until_signalled(serve)
    except HqConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    except (HqError, OSError) as e:
        log.error("hq cannot run: %s", e)
        return EXIT_FAIL
    return EXIT_OK


def pubkey(config_path: str | Path, verifier: bool = False) -> int:
    """Print HQ's public key (base64 of 32 bytes) for the boxes' `sync.hq_pubkey`, or with
    `verifier` its C2SP verifier key `name+hash+base64(0x04 ‖ key)` for `journal verify
    --hq-pubkey` (docs/journal.md §10); the key is created on first use."""
    try:
        cfg = load_hq_config(Path(config_path))
        key = load_or_create_key(cfg.key_file)
    except HqConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    from sync.journal.checkpoint import ALG_COSIGNATURE_V1, vkey
    from sync.journal.record import public_bytes

    if verifier:
        print(vkey(cfg.cosigner, public_bytes(key), ALG_COSIGNATURE_V1))
    else:
        print(base64.b64encode(public_bytes(key)).decode())
    return EXIT_OK


def doctor(config_path: str | Path) -> int:
    """Print HQ's checklist; 0 when every check passed, 1 otherwise."""
    from hq.doctor import run_checks
    from sync.checklist import render

    checks = run_checks(Path(config_path))
    print(render(checks), flush=True)
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAIL


def _add_actions(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, text in (("run", "run one HQ worker until SIGTERM"),
                       ("pubkey", "print HQ's public key for the boxes' sync.hq_pubkey"),
                       ("doctor", "check config, key, database directory, disk and the broker; "
                        "print the fix for each failure (Chinese)")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--config", required=True, help="HQ configuration (TOML)")
        if name == "pubkey":
            p.add_argument("--verifier", action="store_true",
                           help="print the cosigner's verifier key (name+hash+base64) for "
                                "`storelink journal verify --hq-pubkey`")
    from hq.catalog.cli import add_commands as add_catalog
    from hq.orders.cli import add_parser as add_orders
    from hq.pairing.cli import add_commands as add_adopt
    from hq.people.cli import add_parser
    from hq.pki.cli import add_commands as add_pki

    add_parser(sub)
    add_orders(sub)
    add_pki(sub)
    add_adopt(sub)
    add_catalog(sub)
    rel = sub.add_parser("release", help="the signed `upgrade` command body for a release "
                         "bundle HQ serves (docs/deploy.md, Upgrades)")
    rel.add_argument("--config", required=True, help="HQ configuration (TOML)")
    rel.add_argument("--bundle", required=True, help="the release bundle (.tar.gz)")
    rel.add_argument("--url", required=True, help="where the boxes download it")


def _dispatch(args: argparse.Namespace) -> int:
    if args.action == "user":
        from hq.people import cli as people_cli

        return people_cli.main(args)
    if args.action == "orders":
        from hq.orders import cli as orders_cli

        return orders_cli.main(args)
    if args.action == "adopt":
        from hq.pairing.cli import adopt

        return adopt(args)
    if args.action == "catalog":
        from hq.catalog.cli import import_file

        return import_file(args)
    if args.action == "pki":
        from hq.pki.cli import dispatch

        return dispatch(args)
    if args.action == "doctor":
        return doctor(args.config)
    if args.action == "release":
        from hq.releases import release_command

        return release_command(args.config, args.bundle, args.url)
    return run(args.config) if args.action == "run" else pubkey(args.config, args.verifier)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m hq.cli run|pubkey --config FILE` (the same as `storelink hq …`)."""
    ap = argparse.ArgumentParser(prog="storelink hq", description="The Storelink HQ service.")
    _add_actions(ap.add_subparsers(dest="action", required=True))
    return _dispatch(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `storelink hq run|pubkey|doctor` (the `storelink` CLI finds it as an entry
    point)."""
    hq = subparsers.add_parser("hq", help="the HQ service (journal witness, cloud print, "
                               "device registry)")
    _add_actions(hq.add_subparsers(dest="action", required=True))
    hq.set_defaults(func=_dispatch)
