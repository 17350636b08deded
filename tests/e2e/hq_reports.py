"""A running HQ (`storelink hq run`) whose store holds two stores' signed journals of sales,
refunds and voids, the catalog imported by `storelink hq catalog import`, and users of each
role that reads reports (issue 15, reports)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hq.store.sqlite import SqliteStore
from sync.journal.record import public_bytes
from tests.e2e.broker import Broker, env_with_root
from tests.e2e.hq_people import add_user
from tests.e2e.procs import Proc, hq_process
from tests.hq.journals import hq_toml
from tests.hq.reports.shop import CATALOG_FILE, Box, box_key

TOKEN = "Hq-Admin-Token-0123456789abcdef"
STORE_A, STORE_B = "CQ-JB-001", "CD-WH-003"
BOX_A, BOX_B = "CQ-JB-001-B7", "CD-WH-003-B7"
USERS = {"cai": ("finance", []), "zhang": ("store_manager", [STORE_A]),
         "wang": ("store_manager", [STORE_B]), "xiao": ("salesperson", [STORE_B])}
FROM, TO = "2026-11-29", "2026-11-30"


def shops() -> tuple[Box, Box]:
    """Store A (重庆, 王芳 first serves member M-8801) and store B (成都, where the member
    buys again from 李强, and a sale is refunded and one voided)."""
    a, b = Box(BOX_A, STORE_A), Box(BOX_B, STORE_B)
    a.sale([("JC-1002", 1)], salesperson="王芳", customer="M-8801")
    a.sale([("JC-1001", 10), ("JC-1003", 2)], cashier="C001", method="cash")
    later = b.sale([("JC-2001", 2)], salesperson="李强", customer="M-8801", hours=3)
    b.refund(later, 0, 1)
    gone = b.sale([("JC-1001", 3)], cashier="C002", method="alipay")
    b.void(gone)
    b.sale([("JC-1003", 1)], cashier="C002", method="card", hours=17)
    return a, b


@dataclass
class World:
    """The running HQ, its broker, config and the boxes whose journals it holds."""

    hq: Proc
    broker: Broker
    config: Path
    boxes: tuple[Box, Box]

    def stop(self) -> None:
        """Stop HQ and its broker."""
        self.hq.stop()
        self.broker.stop()


def start_world(tmp: Path) -> World:
    """Store the journals, import the catalog by CLI, add users, start `storelink hq run`."""
    broker = Broker(tmp / "broker")
    broker.start()
    boxes = shops()
    extra = "".join(f'[[boxes]]\nid = "{b.id}"\npubkeys = ["{public_bytes(box_key(b.id)).hex()}"]'
                    "\n" for b in boxes)
    extra += (f'[[stores]]\nid = "{STORE_A}"\nname = "重庆江北建材旗舰店"\nregion = "西南"\n'
              f'boxes = ["{BOX_A}"]\n[[stores]]\nid = "{STORE_B}"\nname = "成都三号仓"\n'
              f'kind = "warehouse"\nregion = "川西"\nboxes = ["{BOX_B}"]\n'
              "[reports]\nfirst_contact_share = 0.30\n")
    config = hq_toml(tmp, broker.port, extra_boxes=extra)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("port = 0\n", f'port = 0\ntoken = "{TOKEN}"\n', 1),
                      encoding="utf-8")
    store = SqliteStore(tmp / "hq.db")
    try:
        for b in boxes:
            b.store_into(store)
    finally:
        store.close()
    done = subprocess.run([sys.executable, "-m", "hq.cli", "catalog", "import",
                           str(CATALOG_FILE), "--config", str(config)], capture_output=True,
                          text=True, env=env_with_root(), timeout=120, check=False)
    assert done.returncode == 0 and "已导入 20 个商品" in done.stdout, done
    for name, (role, stores) in USERS.items():
        add_user(config, name, role, stores)
    try:
        hq = hq_process(config, tmp / "hq.log").start()
    except Exception:
        broker.stop()
        raise
    return World(hq, broker, config, boxes)
