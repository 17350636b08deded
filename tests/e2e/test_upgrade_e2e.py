"""`upgrade` end to end through HQ, the broker and the real daemon running from an installed
release: HQ's signed body (`storelink hq release`) posted to HQ's API, the box downloads from
a real HTTP server, installs beside, answers, exits 75 for systemd, and the new release —
started after the guard, as systemd does — commits its trial and reports `done` to HQ with its
new version. A release signed by another key is answered `failed` naming args.sig, nothing
changes and the box keeps running. While the release downloads, the box goes on printing the
cloud jobs HQ sends."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.upgrade import EXIT_RESTART
from agent.upgrade.layout import Layout
from sync.protocol.releases import digest, sign_release
from tests.e2e.daemon_world import BOX, DaemonWorld, job
from tests.e2e.procs import Proc
from tests.e2e.world import wait_for
from tests.install.releases import bundle, installed, needs_root, release_tree, tarball

pytestmark = needs_root


@pytest.fixture
def world(tmp_path: Path) -> Iterator[DaemonWorld]:
    with DaemonWorld(tmp_path) as w:
        yield w


@contextlib.contextmanager
def gated(root: Path, gate: threading.Event) -> Iterator[tuple[int, threading.Event]]:
    """`root` served over HTTP on 127.0.0.1, each answer held until `gate` is set; the port,
    and an event set once a request came in."""
    asked = threading.Event()

    class Held(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.set()
            gate.wait(600)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Held, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], asked
    finally:
        gate.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def shelf(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A directory served over HTTP on 127.0.0.1 (HQ's download location); (dir, port)."""
    root = tmp_path / "shelf"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, server.server_address[1]
    server.shutdown()
    server.server_close()


def start_release(world: DaemonWorld, layout: Layout) -> Proc:
    """What systemd does: the guard from `good`, then `current`'s daemon (same pid: exec)."""
    subprocess.run([str(layout.opt / "good/bin/python"), "-I", "-m", "agent", "upgrade", "guard",
                    "--opt", str(layout.opt), "--state-dir", str(layout.state_dir)],
                   check=True, timeout=120, capture_output=True)
    py = str(layout.opt / "current/bin/python")
    argv = [py, "-I", "-m", "agent", "agent", "run", "--config", str(world.box_config)]
    world.box = Proc(["-c", f"import os; os.execv({py!r}, {argv!r})"],
                     world.root / "box.log").start(wait_s=180)
    return world.box


def command(world: DaemonWorld, body: dict[str, Any]) -> dict[str, Any]:
    """POST the command to HQ and wait for the box's answer."""
    status, cmd = world.hq_api("POST", f"/v1/boxes/{BOX}/commands", body)
    assert status == 202, cmd
    return answered(world, cmd["nonce"], 600)


def answered(world: DaemonWorld, nonce: str, wait_s: float) -> dict[str, Any]:
    """The command at HQ once the box answered it."""

    def done() -> dict[str, Any] | None:
        c = world.hq_api("GET", f"/v1/commands/{nonce}")[1]
        return c if c.get("result") else None

    return dict(wait_for(done, wait_s, "the box's answer"))


def test_upgrade_through_hq_commits_and_a_forged_release_is_refused(
        world: DaemonWorld, shelf: tuple[Path, int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    base = tmp_path_factory.getbasetemp()
    layout = Layout(world.root / "opt", world.state)
    release_tree(installed(base), layout.opt)
    box = start_release(world, layout)
    wait_for(world.online, 120, "the box online")

    shelf_dir, port = shelf
    data = tarball(bundle(base, "0.2.0"), shelf_dir / "storelink-0.2.0.tar.gz")
    url = f"http://127.0.0.1:{port}/storelink-0.2.0.tar.gz"

    # Signed by someone else: refused before any download, nothing changes.
    mallory = Ed25519PrivateKey.generate()
    forged = {"version": "0.2.0", "url": url, "sha256": digest(data),
              "sig": sign_release("0.2.0", digest(data), mallory)}
    answer = command(world, {"name": "upgrade", "args": forged})
    assert answer["result"] == "failed" and "args.sig" in answer["error"]
    assert sorted(p.name for p in layout.releases.iterdir()) == ["0.1.0"]
    assert layout.link("current") == "0.1.0" and not layout.state_file.exists()
    assert box.proc is not None and box.proc.poll() is None

    # HQ's own body for the bundle.
    out = subprocess.run([sys.executable, "-m", "agent", "hq", "release", "--config",
                          str(world.hq_config), "--bundle", str(shelf_dir /
                                                                "storelink-0.2.0.tar.gz"),
                          "--url", url], capture_output=True, text=True, timeout=120,
                         check=True, cwd=world.hq_config.parent)
    body = json.loads(out.stdout)
    # Served through a gate: the download waits until a cloud print job sent meanwhile has been
    # printed — the upgrade runs beside the handling of HQ's messages, not in its way.
    gate = threading.Event()
    with gated(shelf_dir, gate) as (gated_port, asked):
        body["args"]["url"] = f"http://127.0.0.1:{gated_port}/storelink-0.2.0.tar.gz"
        status, cmd = world.hq_api("POST", f"/v1/boxes/{BOX}/commands", body)
        assert status == 202, cmd
        try:
            wait_for(asked.is_set, 120, "the download started")
            status, _ = world.hq_api("POST", "/v1/print-jobs",
                                     {"box": BOX, "job": job("during-upgrade-1")})
            assert status == 201
            wait_for(lambda: world.job_state("during-upgrade-1") == "printed", 60,
                     "a job printed while the release downloads")
        finally:
            gate.set()
        # The box installs, switches and exits for systemd to restart it.
        assert box.proc is not None
        assert box.proc.wait(timeout=900) == EXIT_RESTART, \
            world.root.joinpath("box.log").read_text()
    assert (layout.link("current"), layout.link("good")) == ("0.2.0", "0.1.0")
    trial = layout.read_trial()
    assert trial is not None and (trial.phase, trial.previous) == ("trial", "0.1.0")

    start_release(world, layout)
    wait_for(lambda: (t := layout.read_trial()) is not None and t.phase == "committed", 120,
             "the trial committed")
    assert layout.link("good") == "0.2.0"
    answer = answered(world, cmd["nonce"], 120)
    assert answer["result"] == "done", answer
    wait_for(lambda: world.box_view().get("version") == "0.2.0", 120, "HQ sees 0.2.0")
    assert os.path.isdir(layout.releases / "0.1.0")  # kept: the way back
