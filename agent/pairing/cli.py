"""`storelink pairing csr --config FILE`: the box's MQTT key (made once) and its CSR on stdout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agent.config import ConfigError, load_config
from agent.pairing.identity import MQTT_KEY, csr_pem, load_or_make_mqtt_key

EXIT_OK, EXIT_USAGE = 0, 2


def _csr(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(Path(args.config))
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    key_file = cfg.box.state_dir / MQTT_KEY
    key = load_or_make_mqtt_key(key_file)
    sys.stdout.write(csr_pem(key, cfg.box.id).decode())
    print(f"key: {key_file} (stays on this box; set sync.tls_key to it)", file=sys.stderr)
    return EXIT_OK


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `storelink pairing csr`."""
    p = sub.add_parser("pairing", help="the box's identity towards HQ's broker")
    acts = p.add_subparsers(dest="action", required=True)
    c = acts.add_parser("csr", help="make the box's MQTT key once (keys/mqtt.key, 0600) and "
                                    "print its certificate signing request for "
                                    "`storelink hq pki sign`")
    c.add_argument("--config", required=True)
    c.set_defaults(func=_csr)
