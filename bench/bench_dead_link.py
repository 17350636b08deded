"""The dead-link window of docs/protocol.md §1, measured with the real broker and the box's own
MQTT session (sync/mqtt_session.py) over loopback:

- Will delay: a client process is frozen (SIGSTOP) right after its last packet was
  acknowledged; how long until the broker publishes its Will?
- Link drop: the broker is frozen (SIGSTOP) right after the client's last packet was
  acknowledged; how long until the client declares the link dead?

Both are given in seconds and as a multiple of the keep-alive.

    .venv/bin/python bench/bench_dead_link.py [--keepalive 5 20] [--samples 5] [--json]

The default (keep-alive 5 s, 3 samples) keeps `make bench` short.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.rows import Row, add_json_flag, emit
from sync.mqtt_session import Disconnected, Message, MqttSession, SessionConfig
from tests.e2e.broker import MOSQUITTO, Broker

ROOT = Path(__file__).resolve().parent.parent

WILL_TOPIC = "bench/will"
CHILD = """
import asyncio, sys
from sync.mqtt_session import MqttSession, SessionConfig, Will
async def main() -> None:
    port, keepalive, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    s = MqttSession(SessionConfig("127.0.0.1", port, "bench-box-" + tag, keepalive_s=keepalive),
                    lambda: Will("bench/will", tag.encode()))
    await s.start()
    await s.wait_connected(30)
    assert await s.publish("bench/last", b"x", 1, wait_s=30)
    print("acked", flush=True)
    await asyncio.sleep(3600)
asyncio.run(main())
"""


async def will_delay(port: int, keepalive: int, tag: str) -> float:
    """Seconds from freezing a client (just after its last packet) to its Will."""
    obs = MqttSession(SessionConfig("127.0.0.1", port, "bench-obs-" + tag, clean_start=True,
                                    subscriptions=((WILL_TOPIC, 1),)))
    await obs.start()
    await obs.wait_connected(30)
    await asyncio.sleep(0.3)
    # In a session of its own: no job control may SIGCONT it.
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, str(port), str(keepalive), tag,
        stdout=asyncio.subprocess.PIPE, cwd=ROOT, start_new_session=True)
    try:
        assert child.stdout is not None
        line = await child.stdout.readline()
        assert line.strip() == b"acked", line
        os.kill(child.pid, signal.SIGSTOP)
        t0 = time.monotonic()
        while True:
            ev = await obs.events.get()
            if isinstance(ev, Message) and ev.topic == WILL_TOPIC and ev.payload == tag.encode():
                return time.monotonic() - t0
    finally:
        child.kill()
        await child.wait()
        await obs.stop()


async def link_drop(broker: Broker, keepalive: int, tag: str) -> float:
    """Seconds from freezing the broker (just after the client's last packet) to the client
    declaring the link dead."""
    s = MqttSession(SessionConfig("127.0.0.1", broker.port, "bench-drop-" + tag,
                                  keepalive_s=keepalive))
    await s.start()
    await s.wait_connected(30)
    assert await s.publish("bench/last", b"x", 1, wait_s=30)
    assert broker.proc is not None
    broker.proc.send_signal(signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        while True:
            ev = await s.events.get()
            if isinstance(ev, Disconnected):
                return time.monotonic() - t0
    finally:
        broker.proc.send_signal(signal.SIGCONT)
        await s.stop()


def version() -> str:
    """The broker's version line."""
    out = subprocess.run([MOSQUITTO, "-h"], check=False, capture_output=True, text=True)
    return (out.stdout or out.stderr).splitlines()[0]


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keepalive", type=int, nargs="+", default=[5])
    ap.add_argument("--samples", type=int, default=3)
    add_json_flag(ap)
    args = ap.parse_args()
    rows: list[Row] = []
    print(version())
    with tempfile.TemporaryDirectory() as tmp:
        for k in args.keepalive:
            broker = Broker(Path(tmp) / f"b{k}")
            broker.start()
            try:
                wills = [await will_delay(broker.port, k, f"{k}-{i}") for i in range(args.samples)]
                drops = [await link_drop(broker, k, f"{k}-{i}") for i in range(args.samples)]
            finally:
                broker.stop()
            for name, xs in (("Will published after", wills), ("client dropped link after",
                                                                drops)):
                print(f"keep-alive {k:>2} s: {name:<26} "
                      f"{min(xs):5.1f}–{max(xs):5.1f} s  ({min(xs) / k:.2f}–{max(xs) / k:.2f} × "
                      f"keep-alive; samples {', '.join(f'{x:.1f}' for x in xs)})", flush=True)
                rows.append(Row(f"dead link: {name} (max of {len(xs)})", max(xs), "s",
                                "the keep-alive", k, better="lower"))
    emit(rows, args.json)


if __name__ == "__main__":
    asyncio.run(main())
