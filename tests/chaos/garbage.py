"""Bad MQTT traffic for the chaos suite: Hypothesis-generated garbage and oversized payloads on
HQ's and the boxes' topics, and real messages replayed twice or onto another box's topics."""

from __future__ import annotations

import contextlib
import json
import random
import threading
from collections import deque

import paho.mqtt.client as mqtt
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from sync.protocol.topics import ROOT

LEAVES = ("up/birth", "up/death", "up/telemetry", "up/journal", "up/events",
          "down/journal-ack", "down/events-ack", "down/print", "down/cmd")
OVERSIZED = 300_000
"""Bytes of an oversized payload (far above any batch a box sends)."""

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=20) | st.just("不锈钢合页"),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(("box", "log", "start", "records", "size", "status", "job", "id",
                         "hash", "sig", "record", "events", "stream", "upto", "cosignature")),
        inner, max_size=5),
    max_leaves=12)


def _payload(kind: str, raw: bytes, obj: object) -> bytes:
    if kind == "oversized":
        return b'{"box":"' + b"x" * OVERSIZED + b'"}'
    if kind == "json":
        return json.dumps(obj, ensure_ascii=False).encode()
    return raw


def garbage(seed: int, boxes: list[str], count: int) -> list[tuple[str, bytes]]:
    """`count` (topic, payload) pairs drawn by Hypothesis from `seed`: raw bytes, arbitrary
    JSON with protocol field names, or oversized, on known and unknown boxes' topics."""
    out: list[tuple[str, bytes]] = []
    topics = st.tuples(st.sampled_from([*boxes, "NOPE-0001", "总部"]), st.sampled_from(LEAVES))

    @hypothesis_seed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(topics, st.sampled_from(("raw", "json", "json", "oversized")),
           st.binary(max_size=512), _json)
    def collect(topic: tuple[str, str], kind: str, raw: bytes, obj: object) -> None:
        out.append((f"{ROOT}/box/{topic[0]}/{topic[1]}", _payload(kind, raw, obj)))

    collect()
    return out[:count]


class Injector:
    """One MQTT client on the broker: sniffs real traffic, publishes garbage and replays."""

    def __init__(self, port: int, seed: int) -> None:
        self.port = port
        self.rng = random.Random(f"storelink-chaos-replay:{seed}")
        self.sent = 0
        self._seen: deque[tuple[str, bytes]] = deque(maxlen=200)
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="chaos-injector",
                                  protocol=mqtt.MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)
        self.client.connect_async("127.0.0.1", port, keepalive=5)
        self.client.loop_start()

    def _on_connect(self, client: mqtt.Client, *_: object) -> None:
        client.subscribe([(f"{ROOT}/box/+/up/journal", 0), (f"{ROOT}/box/+/up/events", 0),
                          (f"{ROOT}/box/+/down/#", 0)])

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self._seen.append((msg.topic, bytes(msg.payload)))

    def _publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=self.rng.choice((0, 1)))
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(10)
        self.sent += 1

    def burst(self, items: list[tuple[str, bytes]], replays: int, boxes: list[str]) -> None:
        """Publish `items`, then `replays` sniffed messages twice each: once on their own topic
        (a duplicate) and once on another box's (wrongly addressed). Blocking."""
        for topic, payload in items:
            self._publish(topic, payload)
        with self._lock:
            seen = list(self._seen)
        for topic, payload in self.rng.sample(seen, min(replays, len(seen))):
            self._publish(topic, payload)
            parts = topic.split("/")
            parts[3] = self.rng.choice(boxes)
            self._publish("/".join(parts), payload)

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()
