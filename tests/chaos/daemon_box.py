"""The chaos suite's one real box: `storelink agent run` with its signed journal, its uplink
through the boxes' cut-proxy, and a receipt printer process whose paper runs out and comes back.
A load thread rings up sales on its API and sends it cloud print jobs through HQ."""

from __future__ import annotations

import base64
import itertools
import os
import signal
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.journal.keys import load_key, write_key
from sync.journal.record import public_bytes
from tests.e2e.daemon_world import http, sale_request
from tests.e2e.printer_proc import printed_ids
from tests.e2e.procs import Proc
from tests.e2e.world import NO_DISCOVERY, box_toml, job
from tests.hq.journals import BOX, HQ_KEY

SALE_EVERY_S = 0.4
JOB_EVERY = 5
"""One cloud print job every this many sales."""


class DaemonBox:
    """The box, its printer, and its load; `state` holds journal.db, uplink.db, keys/."""

    def __init__(self, root: Path, link_port: int) -> None:
        self.root = root
        self.state = root / "box"
        self.key = self.state / "keys" / "box.key"
        write_key(self.key, Ed25519PrivateKey.generate())
        self.printer_log = root / "printer.jsonl"
        self.printer = Proc(["-m", "tests.chaos.paper_printer", "--log", str(self.printer_log)],
                            root / "printer.err").start()
        self.config = root / "box.toml"
        hq_pub = base64.b64encode(public_bytes(HQ_KEY)).decode()
        self.config.write_text(box_toml(self.state, self.printer.port) + NO_DISCOVERY + f"""
[journal]
enabled = true

[sync]
host = "127.0.0.1"
port = {link_port}
keepalive_s = 5
telemetry_interval_s = 2
hq_pubkey = "{hq_pub}"
""", encoding="utf-8")
        self.box = Proc(["-m", "agent", "agent", "run", "--config", str(self.config)],
                        root / "box.log")
        self.jobs: list[str] = []
        self.sales = 0
        self._stop = threading.Event()
        self._load: threading.Thread | None = None

    @property
    def pubkey(self) -> bytes:
        """The box's journal key."""
        return public_bytes(load_key(self.key))

    def hq_table(self) -> str:
        """Its `[[boxes]]` table for HQ."""
        return f'\n[[boxes]]\nid = "{BOX}"\npubkeys = ["{self.pubkey.hex()}"]\n'

    def start(self, hq_urls: list[str]) -> None:
        """Start the daemon and the load."""
        self.box.start()
        self._load = threading.Thread(target=self._trade, args=(hq_urls,), name="daemon-load",
                                      daemon=True)
        self._load.start()

    def _trade(self, hq_urls: list[str]) -> None:
        for n in itertools.count(1):
            if self._stop.wait(SALE_EVERY_S):
                return
            try:
                status, _ = http(self.box.url, "POST", "/v1/sales", sale_request(n))
                self.sales += status in (200, 201)
            except OSError:
                pass  # the box is down (killed by the chaos): the till tries the next sale
            if n % JOB_EVERY == 0:
                self._send_job(hq_urls, f"CHAOS-{n:05d}")

    def _send_job(self, hq_urls: list[str], job_id: str) -> None:
        body = {"box": BOX, "printer": "front", "job": job(job_id)}
        for attempt in range(40):
            try:
                status, _ = http(hq_urls[attempt % len(hq_urls)], "POST", "/v1/print-jobs", body)
                if status in (200, 201):
                    self.jobs.append(job_id)
                    return
            except OSError:
                pass
            time.sleep(0.25)

    def stop_load(self) -> None:
        """Stop ringing up sales and sending jobs."""
        self._stop.set()
        if self._load is not None:
            self._load.join(60)

    def paper(self, out: bool) -> None:
        """Take the paper out of the printer, or put it back."""
        assert self.printer.proc is not None
        os.kill(self.printer.proc.pid, signal.SIGUSR1 if out else signal.SIGUSR2)

    def printed(self) -> list[str]:
        """Job ids the printer printed, once per printing."""
        return printed_ids(self.printer_log)

    def close(self) -> None:
        """Stop the load, the box and the printer."""
        self.stop_load()
        self.box.stop()
        self.printer.stop()
