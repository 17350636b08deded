"""A box process for end-to-end tests: the daemon's services, the journal, the uplink, and a
till that keeps selling. It composes exactly what agent/daemon.py is to compose.

`python -m tests.e2e.box_proc --config box.toml [--sales N] [--sell-every-ms MS]`
prints `box ready on http://127.0.0.1:0` once the uplink is running.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import tomllib
from pathlib import Path

from agent.config import parse_config
from agent.daemon import running
from agent.journal.store import JournalStore
from agent.uplink.config import parse_sync_table
from agent.uplink.link import Uplink


def sale_body(n: int) -> dict[str, object]:
    """A valid sale: n pieces of 不锈钢合页 paid by WeChat."""
    qty = n % 7 + 1
    return {"order": f"XS-E2E-{n:06d}", "till": "T1", "cashier": "C001",
            "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": qty, "unit_price": 850,
                       "amount": 850 * qty}],
            "total": 850 * qty, "payments": [{"method": "wechat", "amount": 850 * qty}]}


async def sell(journal: JournalStore, count: int, every_ms: int, start: int) -> None:
    """Append `count` sales, one every `every_ms` milliseconds (0: as fast as possible)."""
    for i in range(start, start + count):
        await journal.append("sale", sale_body(i))
        if every_ms:
            await asyncio.sleep(every_ms / 1000)


async def amain(args: argparse.Namespace, text: str) -> None:
    raw = tomllib.loads(text)
    errors: list[str] = []
    sync_cfg = parse_sync_table(raw.pop("sync", {}), errors)
    if errors or sync_cfg is None:
        raise SystemExit("\n".join(errors) or "no [sync] table")
    config = parse_config(raw)
    state = config.box.state_dir
    state.mkdir(parents=True, exist_ok=True)
    journal = await asyncio.to_thread(
        JournalStore.open, state / "journal.db", state / "journal.key",
        genesis={"store": config.box.store, "device": "box-e2e"},
        cosigners=sync_cfg.cosigners())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running(config) as ctx:
            uplink = Uplink(ctx, sync_cfg, journal)
            task = asyncio.create_task(uplink.run(), name="uplink")
            seller = asyncio.create_task(sell(journal, args.sales, args.sell_every_ms,
                                              journal.head.size))
            print("box ready on http://127.0.0.1:0", flush=True)
            await stop.wait()
            seller.cancel()
            await uplink.stop()
            await task
    finally:
        await asyncio.to_thread(journal.close)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--sales", type=int, default=0)
    ap.add_argument("--sell-every-ms", type=int, default=0)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = ap.parse_args()
    asyncio.run(amain(args, Path(args.config).read_text(encoding="utf-8")))


if __name__ == "__main__":
    main()
