"""One MQTT 5 client over TLS with a client certificate (or none), recording what happens."""

from __future__ import annotations

import queue
import ssl
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

T = 30.0


class Peer:
    """A client of the broker on 127.0.0.1:`port` trusting `ca`, presenting `cert`/`key`."""

    def __init__(self, port: int, ca: Path, cert: Path | None = None, key: Path | None = None,
                 client_id: str = "") -> None:
        self.port = port
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=mqtt.MQTTv5, reconnect_on_failure=False)
        self.c.tls_set(str(ca), None if cert is None else str(cert),
                       None if key is None else str(key), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.connects: queue.Queue[int] = queue.Queue()
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.granted: queue.Queue[list[int]] = queue.Queue()
        self.gone = threading.Event()
        self.c.on_connect = lambda c, u, f, rc, p: self.connects.put(rc.value)
        self.c.on_disconnect = lambda *a: self.gone.set()
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.c.on_subscribe = lambda c, u, mid, rcs, p: self.granted.put([r.value for r in rcs])

    def try_connect(self) -> bool:
        """True if the broker accepted the connection (CONNACK 0); False if it refused it, in
        the TLS handshake or by closing the link (TLS 1.3 tells the client only then)."""
        try:
            self.c.connect("127.0.0.1", self.port, keepalive=30)
        except (OSError, ssl.SSLError):
            return False
        self.c.loop_start()
        deadline = time.monotonic() + T
        while self.connects.empty() and not self.gone.is_set():
            assert time.monotonic() < deadline, "neither accepted nor refused"
            time.sleep(0.02)
        accepted = not self.connects.empty() and self.connects.get() == 0
        if not accepted:
            self.c.loop_stop()
        return accepted and not self.gone.is_set()

    def subscribe(self, topic: str) -> int:
        """Subscribe QoS 1; the SUBACK reason code (1: granted QoS 1, >= 0x80: refused)."""
        self.c.subscribe(topic, qos=1)
        return self.granted.get(timeout=T)[0]

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        """Publish QoS 1 and wait for the PUBACK (a broker denying it still acknowledges)."""
        info = self.c.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(T)
        assert info.is_published()

    def next_message(self) -> tuple[str, bytes]:
        """The next message delivered to this client."""
        return self.messages.get(timeout=T)

    def close(self) -> None:
        """Disconnect cleanly."""
        self.c.disconnect()
        self.gone.wait(T)
        self.c.loop_stop()
