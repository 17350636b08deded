"""Issue 11 #8 against a real mosquitto running the shipped configuration (systemd/, paths
moved into the test's directory): a box connecting with another box's client id neither knocks
it off nor wipes its session, and a revoked certificate is refused."""

from __future__ import annotations

import getpass
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.e2e.broker import MOSQUITTO, free_port, port_open
from tests.e2e.pki import Issued, TestCA

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "systemd" / "mosquitto-storelink.conf"
T = 20.0


class TlsBroker:
    """mosquitto with the shipped conf, its files and port moved under `workdir`."""

    def __init__(self, workdir: Path, ca: TestCA, server: Issued, crl: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        acl = workdir / "storelink.acl"
        acl.write_text((ROOT / "systemd" / "mosquitto-storelink.acl").read_text())
        moved = {"cafile": ca.cert_file, "certfile": server.cert, "keyfile": server.key,
                 "crlfile": crl, "acl_file": acl,
                 "persistence_location": f"{workdir}/"}
        lines = [f"user {getpass.getuser()}", f"log_dest file {workdir}/mosquitto.log",
                 "log_type all"]
        for shipped in SHIPPED.read_text().splitlines():
            key = shipped.split(" ", 1)[0]
            if key == "listener":
                lines.append(f"listener {self.port} 127.0.0.1")
            elif key in moved:
                lines.append(f"{key} {moved[key]}")
            else:
                lines.append(shipped)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + T
        while not port_open(self.port):
            assert self.proc.poll() is None, self.log()
            assert time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.05)

    def log(self) -> str:
        p = self.workdir / "mosquitto.log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


class Peer:
    """One MQTT 5 client with a client certificate; records what happens to it."""

    def __init__(self, broker: TlsBroker, ca: TestCA, cert: Issued, client_id: str) -> None:
        self.client_id = client_id
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5, reconnect_on_failure=False)
        self.c.tls_set(str(ca.cert_file), str(cert.cert), str(cert.key))
        self.broker = broker
        self.connects: queue.Queue[int] = queue.Queue()
        self.disconnects: list[str] = []
        self.messages: queue.Queue[bytes] = queue.Queue()
        self.gone = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: self.connects.put(rc.value)
        self.c.on_disconnect = self._disconnected
        self.c.on_message = lambda c, u, m: self.messages.put(bytes(m.payload))

    def _disconnected(self, c: object, u: object, f: object, rc: object, p: object) -> None:
        self.disconnects.append(str(rc))
        self.gone.set()

    def connect(self, *, clean_start: bool) -> int:
        """Connect (Session Expiry 1 h); the CONNACK reason code (0: accepted)."""
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        self.c.connect("127.0.0.1", self.broker.port, keepalive=30, clean_start=clean_start,
                       properties=props)
        self.c.loop_start()
        return self.connects.get(timeout=T)

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe(topic, qos=1)
        assert done.wait(T)

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.c.publish(topic, payload, qos=1)
        info.wait_for_publish(T)
        assert info.is_published()

    def disconnect(self) -> None:
        self.c.disconnect()
        self.gone.wait(T)
        self.c.loop_stop()


@pytest.fixture
def pki(tmp_path: Path) -> Iterator[tuple[TestCA, dict[str, Issued], TlsBroker]]:
    ca = TestCA(tmp_path / "pki")
    certs = {cn: ca.issue(cn) for cn in ("BOX-A", "BOX-B", "BOX-C", "hq-1")}
    crl = ca.crl([certs["BOX-C"]])
    broker = TlsBroker(tmp_path / "broker", ca, ca.issue("broker", server=True), crl)
    try:
        yield ca, certs, broker
    finally:
        broker.stop()


def test_a_box_cannot_take_another_boxs_client_id(
        pki: tuple[TestCA, dict[str, Issued], TlsBroker]) -> None:
    ca, certs, broker = pki
    down_b = "storelink/v1/box/BOX-B/down/print"
    b = Peer(broker, ca, certs["BOX-B"], "storelink-box-BOX-B")
    assert b.connect(clean_start=False) == 0
    b.subscribe("storelink/v1/box/BOX-B/down/#")
    hq = Peer(broker, ca, certs["hq-1"], "storelink-hq-hq-1")
    assert hq.connect(clean_start=True) == 0

    # A, with its own certificate, asks for B's client id and a clean start while B is online.
    a = Peer(broker, ca, certs["BOX-A"], "storelink-box-BOX-B")
    assert a.connect(clean_start=True) == 0
    hq.publish(down_b, b"job-1")
    assert b.messages.get(timeout=T) == b"job-1"
    assert b.disconnects == [], b.disconnects
    a.disconnect()

    # B away: a QoS 1 job waits in B's session; A's clean start under B's id must not wipe it.
    b.disconnect()
    hq.publish(down_b, "job-2 拣货单".encode())
    a2 = Peer(broker, ca, certs["BOX-A"], "storelink-box-BOX-B")
    assert a2.connect(clean_start=True) == 0
    a2.disconnect()
    b2 = Peer(broker, ca, certs["BOX-B"], "storelink-box-BOX-B")
    assert b2.connect(clean_start=False) == 0  # no resubscription: the session brings it
    assert b2.messages.get(timeout=T) == "job-2 拣货单".encode()
    b2.disconnect()
    hq.disconnect()
    # The broker knew A by its own identity all along.
    assert re.search(r"New client connected .* as BOX-A", broker.log()), broker.log()[-3000:]


def test_a_revoked_certificate_is_refused(
        pki: tuple[TestCA, dict[str, Issued], TlsBroker]) -> None:
    ca, certs, broker = pki
    good = Peer(broker, ca, certs["BOX-A"], "storelink-box-BOX-A")
    assert good.connect(clean_start=True) == 0
    good.disconnect()
    revoked = Peer(broker, ca, certs["BOX-C"], "storelink-box-BOX-C")
    refused = False
    try:
        revoked.c.connect("127.0.0.1", broker.port, keepalive=30)
        revoked.c.loop_start()
        # TLS 1.3: the client learns of the refusal when the broker closes the link.
        deadline = time.monotonic() + T
        while revoked.connects.empty() and not revoked.gone.is_set():
            assert time.monotonic() < deadline, "neither accepted nor refused"
            time.sleep(0.02)
        refused = revoked.gone.is_set() and (revoked.connects.empty()
                                             or revoked.connects.get() != 0)
    except OSError:  # the handshake failed inside connect()
        refused = True
    finally:
        revoked.c.loop_stop()
    assert refused
    assert "BOX-C" not in "".join(re.findall(r"New client connected .*", broker.log()))
