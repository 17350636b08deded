"""`storelink sim fleet`: N simulated boxes against a real broker and HQ, counts at the end."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from agent import EXIT_FAIL, EXIT_OK, EXIT_USAGE


def _broker(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError("must be HOST:PORT")
    return host, int(port)


def _fleet(args: argparse.Namespace) -> int:
    from agent.fleet_sim.fleet import FleetPlan, open_boxes, run_fleet
    from agent.fleet_sim.rhythm import Rhythm
    from agent.fleet_sim.sim_box import Wiring
    from sync.journal.checkpoint import ALG_COSIGNATURE_V1, note_key_hash
    from sync.protocol import ProtocolError
    from sync.protocol.commands import public_key_from_b64
    from sync.protocol.topics import check_box_id

    try:
        pub = public_key_from_b64(args.hq_pubkey, "--hq-pubkey")
        check_box_id(f"{args.prefix}-{max(args.boxes, 1):04d}", "--prefix")
        rhythm = Rhythm(args.sales_per_hour, args.handovers_per_hour, args.print_jobs_per_hour,
                        args.day_close_every_h, args.offline_per_hour, args.offline_s,
                        args.speed)
    except (ProtocolError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.boxes < 1:
        print("error: --boxes must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    kh = note_key_hash(args.cosigner, ALG_COSIGNATURE_V1, pub.public_bytes_raw())
    host, port = args.broker
    wiring = Wiring(host, port, {(args.cosigner, kh.hex()): pub}, args.keepalive_s)
    plan = FleetPlan(args.boxes, Path(args.dir), args.prefix, args.seed, args.duration_s,
                     rhythm, tuple(u.rstrip("/") for u in args.hq), args.hq_token,
                     args.drain_s)
    if args.prepare:
        boxes = open_boxes(plan, wiring)
        for b in boxes:
            b.close()
        print(plan.workdir / "hq-boxes.toml")
        return EXIT_OK
    report = asyncio.run(run_fleet(plan, wiring))
    for line in report.lines():
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(vars(report), ensure_ascii=False, indent=1),
                                   encoding="utf-8")
    return EXIT_OK if report.drained else EXIT_FAIL


def add_commands(sim: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `storelink sim fleet` among the `sim` subcommands."""
    f = sim.add_parser("fleet", help="N simulated boxes (real MQTT sessions, real signed "
                           "journals, simulated printers) trading at a seeded rhythm")
    f.add_argument("--boxes", type=int, required=True)
    f.add_argument("--dir", required=True, help="where each box keeps its journal and outbox")
    f.add_argument("--broker", type=_broker, default=("127.0.0.1", 1883), help="HOST:PORT")
    f.add_argument("--hq-pubkey", required=True,
                   help="HQ's cosigning public key (base64 of 32 bytes)")
    f.add_argument("--cosigner", default="storelink-hq")
    f.add_argument("--hq", action="append", default=[],
                   help="an HQ worker's API URL for cloud print jobs (repeat for several)")
    f.add_argument("--hq-token", default="")
    f.add_argument("--prefix", default="SIM")
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--duration-s", type=float, default=30.0)
    f.add_argument("--drain-s", type=float, default=120.0)
    f.add_argument("--keepalive-s", type=int, default=10)
    f.add_argument("--sales-per-hour", type=float, default=30.0)
    f.add_argument("--handovers-per-hour", type=float, default=10.0)
    f.add_argument("--print-jobs-per-hour", type=float, default=6.0)
    f.add_argument("--day-close-every-h", type=float, default=8.0)
    f.add_argument("--offline-per-hour", type=float, default=0.5)
    f.add_argument("--offline-s", type=float, default=120.0)
    f.add_argument("--speed", type=float, default=60.0,
                   help="simulated seconds per real second")
    f.add_argument("--prepare", action="store_true",
                   help="only create the boxes' journals and write DIR/hq-boxes.toml")
    f.add_argument("--json", help="also write the counts to this file")
    f.set_defaults(func=_fleet)
