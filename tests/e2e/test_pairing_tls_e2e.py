"""Issue 13 "Pair", end to end with real processes: mosquitto on the shipped TLS configuration,
`storelink hq run` with `[pairing]`, `storelink agent run` with only `[pairing]`, a simulated
receipt printer. The pairing code is read from the printer's bytes, adopted with
`storelink hq adopt`, and the box then syncs over TLS with its own certificate: a sale reaches
HQ and comes back countersigned. No key is copied by hand, and no secret shows in any log,
page or doctor output of the run."""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import subprocess
import sys
import threading
import tty
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from hq.pki.ca_dir import CaDir
from tests.e2e.broker import env_with_root
from tests.e2e.daemon_world import BOX, COSIGNER, fetch, http, sale_request
from tests.e2e.procs import Proc
from tests.e2e.tls_broker import TlsBroker
from tests.e2e.world import NO_DISCOVERY, box_toml, wait_for

pytestmark = pytest.mark.timeout(600)
STORE = "CQ-JB-001"
SYMBOL = rb"[2-9A-HJ-NP-Z]"
QR_CODE = re.compile(rb"STORELINK-PAIR:(" + SYMBOL + rb"{4}-" + SYMBOL + rb"{4})")
TEXT_CODE = re.compile(b" ".join([b"(" + SYMBOL + b")"] * 4 + [b"-"] + [b"(" + SYMBOL + b")"] * 4))


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in reversed(started):
        p.stop()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True,
                          env=env_with_root(), timeout=120, check=False)


class PtyReader:
    """A pty whose far end a process opens as a serial device; what it wrote, collected."""

    opened: ClassVar[list[PtyReader]] = []

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        self.path = os.ttyname(self.slave)
        tty.setraw(self.slave)
        self._buf = bytearray()
        self._stop = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        PtyReader.opened.append(self)

    def _read(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    self._buf += os.read(self.master, 4096)
                except OSError:
                    return

    def data(self) -> bytes:
        return bytes(self._buf)

    @classmethod
    def close_all(cls) -> None:
        for p in cls.opened:
            p._stop.set()
            os.close(p.slave)
            os.close(p.master)
        cls.opened.clear()


def slip_codes(raw: Path) -> list[str]:
    """The pairing code of each slip the printer received, in order (the code is printed as
    text and is the data of the QR code: both must agree)."""
    out: list[str] = []
    for f in sorted(raw.glob("job-*.bin")):
        data = f.read_bytes()
        qr = [m.decode() for m in QR_CODE.findall(data)]
        text = [b"".join(m).decode() for m in TEXT_CODE.findall(data)]
        if qr or text:
            assert len(qr) == len(text) == 1 and qr[0].replace("-", "") == text[0], (qr, text)
            out += qr
    return out


def test_a_box_is_paired_by_its_printed_code_and_syncs_over_tls(
        tmp_path: Path, procs: list[Proc]) -> None:
    pki = tmp_path / "hq" / "pki"
    assert run("hq", "pki", "init", "--dir", str(pki)).returncode == 0
    assert run("hq", "pki", "client", "--dir", str(pki), "--id", "hq-1").returncode == 0
    broker = TlsBroker(tmp_path / "broker", CaDir(pki)).start()
    try:
        _paired_run(tmp_path, pki, broker, procs)
    finally:
        PtyReader.close_all()
        for p in reversed(procs):
            p.stop()
        procs.clear()
        broker.stop()


def _paired_run(tmp_path: Path, pki: Path, broker: TlsBroker, procs: list[Proc]) -> None:
    token = secrets.token_urlsafe(32)
    auth = {"Authorization": f"Bearer {token}"}
    hq_config = tmp_path / "hq" / "hq.toml"
    hq_config.write_text(f"""
[hq]
id = "hq-1"
cosigner = "{COSIGNER}"
key_file = "hq.key"
db = "hq.db"

[mqtt]
host = "127.0.0.1"
port = {broker.port}
keepalive_s = 5
tls_ca = "pki/ca.crt"
tls_cert = "pki/clients/hq-1.crt"
tls_key = "pki/clients/hq-1.key"

[api]
listen = "127.0.0.1"
port = 0
token = "{token}"

[pairing]
ca_dir = "pki"
broker_host = "127.0.0.1"
broker_port = {broker.port}
""", encoding="utf-8")
    hq = Proc(["-m", "agent", "hq", "run", "--config", str(hq_config)],
              tmp_path / "hq" / "hq.log").start()
    procs.append(hq)
    raw = tmp_path / "printed"
    printer = Proc(["-m", "tests.e2e.printer_proc", "--log", str(tmp_path / "p.jsonl"),
                    "--raw", str(raw)], tmp_path / "printer.err").start()
    procs.append(printer)
    state = tmp_path / "box"
    config = tmp_path / "storelink.toml"
    pole = PtyReader()
    config.write_text(box_toml(state, printer.port) + NO_DISCOVERY + f"""
[[displays]]
id = "pole"
name = "收银台客显"
kind = "vfd"
device = "{pole.path}"

[journal]
enabled = true

[pairing]
hq_url = "{hq.url}"
poll_s = 0.5
""", encoding="utf-8")
    box = Proc(["-m", "agent", "agent", "run", "--config", str(config)],
               tmp_path / "box.log").start()
    procs.append(box)

    # 1. The slip: one code, printed once; the status page shows the same code.
    codes = wait_for(lambda: slip_codes(raw), 60, "pairing slip printed")
    code = codes[0]
    assert http(box.url, "GET", "/v1/pairing")[1]["code"] == code
    # … and so does the customer display (a VFD on a real pty).
    wait_for(lambda: code.encode() in pole.data(), 30, "the code on the customer display")
    assert wait_for(lambda: http(hq.url, "GET", "/v1/pairing", headers=auth)[1]["pending"] == 1,
                    60, "HQ holds the request")
    assert (state / "keys" / "mqtt.key").stat().st_mode & 0o077 == 0
    poll_secret = json.loads((state / "pairing" / "request.json").read_text())["request"]

    # 2. A wrong code is refused and counted; the right one adopts the box into the store.
    wrong = run("hq", "adopt", "2222-2222", "--store", STORE, "--config", str(hq_config))
    assert wrong.returncode == 2 and "error: code:" in wrong.stderr
    adopted = run("hq", "adopt", code.lower(), "--store", STORE, "--config", str(hq_config))
    assert adopted.returncode == 0, adopted.stderr
    assert json.loads(adopted.stdout)["box"] == BOX
    again = run("hq", "adopt", code, "--store", STORE, "--config", str(hq_config))
    assert again.returncode == 2 and "error: code:" in again.stderr  # single use

    # 3. The box restarts itself paired, connects with TLS and its journal is countersigned.
    def synced() -> bool:
        st, view = http(hq.url, "GET", f"/v1/boxes/{BOX}", headers=auth)
        sh, head = http(box.url, "GET", "/v1/journal/head")
        return (st == 200 and sh == 200 and bool(view.get("online"))
                and head["cosigned"] > 0)

    wait_for(synced, 180, "paired box online and countersigned")
    assert http(box.url, "GET", "/v1/pairing")[1]["state"] == "adopted"
    assert not (state / "pairing" / "request.json").exists()
    for f in ("pairing/sync.json", "keys/mqtt.key", "keys/mqtt.crt"):
        assert (state / f).stat().st_mode & 0o077 == 0, f
    st, sale = http(box.url, "POST", "/v1/sales", sale_request(1))
    assert st == 201, sale
    wait_for(lambda: http(box.url, "GET", "/v1/journal/head")[1]["cosigned"] > sale["seq"],
             120, "the sale countersigned by HQ")
    st, text = fetch(hq.url, "GET", f"/v1/boxes/{BOX}/journal", headers=auth)
    lines = [json.loads(line)["record"] for line in text.splitlines()]
    assert any(r["type"] == "sale" and r["body"]["order"] == sale_request(1)["order"]
               for r in lines)
    pairing = [r for r in lines if r["type"] == "audit" and r["body"]["event"] == "config.pairing"]
    assert len(pairing) == 1 and STORE in pairing[0]["body"]["detail"]
    assert http(hq.url, "GET", "/v1/alarms", headers=auth)[1] == {"alarms": []}
    assert slip_codes(raw) == [code]  # no second slip after the restart
    book = http(hq.url, "GET", "/v1/pairing", headers=auth)[1]
    assert [(a["box"], a["store"], a["by"]) for a in book["adopted"]] == [(BOX, STORE, "cli")]
    assert "New client connected" in broker.log() and f"as {BOX} " in broker.log()

    # 4. No secret anywhere a person or a collector looks.
    seen = _everything_shown(tmp_path, box, hq, broker, config, hq_config, auth)
    secrets_ = _secrets(tmp_path, state, pki, token, code) | {"poll secret": poll_secret}
    for name, value in secrets_.items():
        for where, text in seen.items():
            assert value not in text, f"{name} shows in {where}"


def _everything_shown(tmp_path: Path, box: Proc, hq: Proc, broker: TlsBroker, config: Path,
                      hq_config: Path, auth: dict[str, str]) -> dict[str, str]:
    """Logs, pages, API answers and doctor output of the run, by where they came from."""
    out = {"box log": box.log_text(), "hq log": hq.log_text(), "broker log": broker.log(),
           "box stdout": box.stdout_text(), "hq stdout": hq.stdout_text()}
    for path in ("/", "/v1/health", "/v1/pairing", "/v1/printers", "/v1/journal/head"):
        out[f"box {path}"] = fetch(box.url, "GET", path)[1]
    for path in ("/", "/pairing", "/v1/boxes", f"/v1/boxes/{BOX}", "/v1/pairing",
                 "/v1/alarms"):
        out[f"hq {path}"] = fetch(hq.url, "GET", path, headers=auth)[1]
    out["box doctor"] = _output(run("doctor", "--config", str(config)))
    out["hq doctor"] = _output(run("hq", "doctor", "--config", str(hq_config)))
    out["pki list"] = _output(run("hq", "pki", "list", "--dir", str(hq_config.parent / "pki")))
    return out


def _output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def _secrets(tmp_path: Path, state: Path, pki: Path, token: str, code: str) -> dict[str, str]:
    """Every secret of the run, as text that would betray it."""
    found: dict[str, str] = {"api token": token, "pairing code": code,
                             "pairing code (bare)": code.replace("-", "")}
    keys = [state / "keys" / "mqtt.key", state / "keys" / "box.key", pki / "ca.key",
            pki / "clients" / "hq-1.key", tmp_path / "hq" / "hq.key"]
    for k in keys:
        body = "".join(k.read_text().splitlines()[1:-1])
        found[f"{k.name} (PEM)"] = body[-40:]
    return found


