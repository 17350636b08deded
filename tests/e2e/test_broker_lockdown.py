"""Issue 13 "Lock down" against a real mosquitto running the shipped TLS configuration with
certificates from HQ's CA (`hq.pki`): only live certificates of HQ's CA get in, and a box reads
only its own down/ and writes only its own up/ — never another box's topics, nor HQ's, nor its
own command topic."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.pairing.identity import csr_pem, load_or_make_mqtt_key
from hq.pki.ca_dir import CaDir
from tests.e2e.tls_broker import TlsBroker
from tests.e2e.tls_peer import Peer

pytestmark = pytest.mark.timeout(180)
A, B = "CQ-JB-001-B1", "CQ-YB-002-B1"
NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)


def box_cert(ca: CaDir, root: Path, box: str, now: datetime.datetime = NOW,
             days: int = 30) -> tuple[Path, Path]:
    """A box's key made as the box makes it, and its certificate signed by `ca` from its CSR."""
    key_file = root / box / "keys" / "mqtt.key"
    key = load_or_make_mqtt_key(key_file)
    cert = root / box / f"{box}-{now.timestamp():.0f}.crt"
    cert.write_bytes(ca.sign(csr_pem(key, box), box, now, days))
    return cert, key_file


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[CaDir, TlsBroker, Path]]:
    ca = CaDir(tmp_path / "pki")
    ca.init("Storelink HQ CA", NOW, 30)
    ca.issue_client("hq-1", NOW, 30)
    broker = TlsBroker(tmp_path / "broker", ca).start()
    try:
        yield ca, broker, tmp_path
    finally:
        broker.stop()


def peer(ca: CaDir, broker: TlsBroker, cert: tuple[Path, Path] | None) -> Peer:
    return Peer(broker.port, ca.cert_file, *(cert or (None, None)))


def test_only_live_certificates_of_hqs_ca_get_in(
        world: tuple[CaDir, TlsBroker, Path]) -> None:
    ca, broker, root = world
    good = box_cert(ca, root, A)
    doomed = box_cert(ca, root, B)
    expired = box_cert(ca, root, "CQ-JB-009-B1", NOW - 40 * DAY, 2)
    other_ca = CaDir(root / "other-pki")
    other_ca.init("Storelink HQ CA", NOW, 30)  # same name, different key
    foreign = box_cert(other_ca, root, "CQ-JB-008-B1")

    a = peer(ca, broker, good)
    assert a.try_connect()
    a.close()
    b = peer(ca, broker, doomed)
    assert b.try_connect()
    b.close()
    assert not peer(ca, broker, None).try_connect()
    assert not peer(ca, broker, expired).try_connect()
    assert not peer(ca, broker, foreign).try_connect()

    # Revoked with the CA's command and the broker reloaded: refused; the others unaffected.
    ca.revoke(NOW, identity=B)
    broker.reload()
    assert not peer(ca, broker, doomed).try_connect()
    again = peer(ca, broker, good)
    assert again.try_connect()
    again.close()
    log = broker.log()
    connected = "".join(re.findall(r"New client connected .*", log))
    assert "CQ-JB-009-B1" not in connected and "CQ-JB-008-B1" not in connected
    assert connected.count(f"as {B} ") == 1, connected
    assert "peer did not return a certificate" in log
    assert "certificate verify failed" in log


def drain_until(p: Peer, topic: str) -> list[tuple[str, bytes]]:
    """Messages delivered to `p` up to and including the first on `topic`."""
    seen: list[tuple[str, bytes]] = []
    while not seen or seen[-1][0] != topic:
        seen.append(p.next_message())
    return seen


def test_a_box_reads_its_down_and_writes_its_up_only(
        world: tuple[CaDir, TlsBroker, Path]) -> None:
    ca, broker, root = world
    pki = ca.root / "clients"
    hq = peer(ca, broker, (pki / "hq-1.crt", pki / "hq-1.key"))
    a = peer(ca, broker, box_cert(ca, root, A))
    b = peer(ca, broker, box_cert(ca, root, B))
    assert hq.try_connect() and a.try_connect() and b.try_connect()
    assert hq.subscribe("storelink/v1/#") == 1
    assert b.subscribe(f"storelink/v1/box/{B}/down/#") == 1
    # mosquitto grants every subscription; what it delivers is checked message by message.
    for t in ("#", f"storelink/v1/box/{B}/#", "storelink/v1/hq/+/state"):
        assert a.subscribe(t) == 1

    # B's and HQ's traffic: A receives none of it. Each publisher's PUBACK means the broker
    # routed it, so A's own job, sent last, is the first thing A may see.
    b.publish(f"storelink/v1/box/{B}/up/birth", "B 宜宾门店 出生".encode(), retain=True)
    b.publish(f"storelink/v1/box/{B}/up/telemetry", b"B telemetry")
    hq.publish(f"storelink/v1/box/{B}/down/print", "B 的拣货单".encode())
    hq.publish(f"storelink/v1/box/{B}/down/cmd", b"B command")
    hq.publish("storelink/v1/hq/hq-1/state", b"online", retain=True)
    hq.publish(f"storelink/v1/box/{A}/down/print", "A 的小票".encode())
    assert a.next_message() == (f"storelink/v1/box/{A}/down/print", "A 的小票".encode())
    assert [t for t, _ in drain_until(hq, f"storelink/v1/box/{A}/down/print")] == [
        f"storelink/v1/box/{B}/up/birth", f"storelink/v1/box/{B}/up/telemetry",
        f"storelink/v1/box/{B}/down/print", f"storelink/v1/box/{B}/down/cmd",
        "storelink/v1/hq/hq-1/state", f"storelink/v1/box/{A}/down/print"]
    assert [t for t, _ in drain_until(b, f"storelink/v1/box/{B}/down/cmd")] == [
        f"storelink/v1/box/{B}/down/print", f"storelink/v1/box/{B}/down/cmd"]

    # A writes into B's subtree, HQ's state, and a command to itself: the broker drops them all;
    # only A's own telemetry, published last, reaches HQ.
    forged = [f"storelink/v1/box/{B}/up/birth", f"storelink/v1/box/{B}/down/print",
              f"storelink/v1/box/{B}/down/cmd", f"storelink/v1/box/{A}/down/cmd",
              f"storelink/v1/box/{A}/down/print", "storelink/v1/hq/hq-1/state"]
    for t in forged:
        a.publish(t, "伪造 forged".encode(), retain=True)
    a.publish(f"storelink/v1/box/{A}/up/telemetry", "A 遥测".encode())
    assert hq.next_message() == (f"storelink/v1/box/{A}/up/telemetry", "A 遥测".encode())
    hq.publish(f"storelink/v1/box/{B}/down/print", b"after")
    hq.publish(f"storelink/v1/box/{A}/down/print", b"after")
    assert b.next_message() == (f"storelink/v1/box/{B}/down/print", b"after")
    assert a.next_message() == (f"storelink/v1/box/{A}/down/print", b"after")
    # Nothing forged was retained: a new subscriber to B's birth gets B's own.
    for p in (a, b, hq):
        p.close()
    watcher = peer(ca, broker, (pki / "hq-1.crt", pki / "hq-1.key"))
    assert watcher.try_connect()
    assert watcher.subscribe(f"storelink/v1/box/{B}/up/birth") == 1
    assert watcher.next_message() == (f"storelink/v1/box/{B}/up/birth", "B 宜宾门店 出生".encode())
    watcher.close()
    denied = [line for line in broker.log().splitlines() if "Denied PUBLISH" in line]
    for t in forged:
        assert any(f"'{t}'" in line and A in line for line in denied), (t, denied)
