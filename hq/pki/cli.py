"""`storelink hq pki init|server|client|sign|revoke|crl|list --dir DIR`: HQ's CA by hand."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from dataclasses import asdict
from pathlib import Path

from hq.pki import PkiError
from hq.pki.ca_dir import CRL_DAYS, CaDir

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
LEAF_DAYS = 825


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `pki` and its actions under `storelink hq`."""
    pki = sub.add_parser("pki", help="HQ's certificate authority for the broker (TLS)")
    acts = pki.add_subparsers(dest="pki_action", required=True)
    helps = {"init": "make the CA (ca.key 0600, ca.crt) and an empty CRL",
             "server": "make the broker's key and certificate for its names/addresses",
             "client": "make a key and client certificate for an HQ worker (hq-1, hq-2 …)",
             "sign": "sign a box's CSR: a client certificate with CN = box id (PEM on stdout)",
             "revoke": "revoke a box's certificates (or one serial) and rewrite crl.pem",
             "crl": "rewrite crl.pem with a fresh validity (before its nextUpdate passes)",
             "list": "list issued certificates as JSON lines"}
    for name, text in helps.items():
        p = acts.add_parser(name, help=text)
        p.add_argument("--dir", required=True, type=Path, help="the CA's directory")
        if name == "init":
            p.add_argument("--name", default="Storelink HQ CA")
            p.add_argument("--days", type=int, default=3650)
        elif name == "server":
            p.add_argument("--host", action="append", required=True,
                           help="a DNS name or IP address the boxes dial (repeatable)")
        elif name == "client":
            p.add_argument("--id", required=True, help="the HQ worker's MQTT identity")
        elif name == "sign":
            p.add_argument("--box", required=True, help="the box id (certificate CN)")
            p.add_argument("csr", type=Path, help="the box's CSR (PEM)")
        elif name == "revoke":
            who = p.add_mutually_exclusive_group(required=True)
            who.add_argument("--box", help="revoke every live certificate of this identity")
            who.add_argument("--serial", help="revoke one certificate (hex serial)")
        elif name == "crl":
            p.add_argument("--days", type=int, default=CRL_DAYS)
        if name in ("server", "client", "sign"):
            p.add_argument("--days", type=int, default=LEAF_DAYS)


def dispatch(args: argparse.Namespace) -> int:
    """Run one `storelink hq pki` action; 2 with `error: field: reason` for a refused request."""
    ca = CaDir(args.dir)
    now = datetime.datetime.now(datetime.UTC)
    act: str = args.pki_action
    try:
        if act == "init":
            ca.init(args.name, now, args.days)
            print(f"CA: {ca.cert_file}\nCRL: {ca.crl_file}")
        elif act == "server":
            cert, key = ca.issue_server(args.host, now, args.days)
            print(f"certfile {cert}\nkeyfile {key}")
        elif act == "client":
            cert, key = ca.issue_client(args.id, now, args.days)
            print(f"tls_cert = \"{cert}\"\ntls_key = \"{key}\"")
        elif act == "sign":
            try:
                pem = args.csr.read_bytes()
            except OSError as e:
                raise PkiError("csr", f"cannot read {args.csr}: {e.strerror}") from None
            sys.stdout.write(ca.sign(pem, args.box, now, args.days).decode())
        elif act == "revoke":
            for r in ca.revoke(now, identity=args.box, serial=args.serial):
                print(json.dumps(asdict(r), ensure_ascii=False))
            print(f"CRL: {ca.crl_file} (reload the broker: systemctl reload mosquitto)")
        elif act == "crl":
            print(f"CRL: {ca.publish_crl(now, args.days)}")
        else:
            for i in ca.issued():
                print(json.dumps(asdict(i), ensure_ascii=False))
    except PkiError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK
