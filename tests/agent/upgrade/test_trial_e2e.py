"""A/B upgrades with real processes, systemd's part played by the test: before every start
the guard runs from the `good` release, then `current` runs `storelink agent run` with a real
$NOTIFY_SOCKET. A release that reaches READY commits its trial; one that crashes at every
start is rolled back by the guard after its starts are used up, and the journal is untouched
until a release that can read it opens it."""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.upgrade.apply import apply_upgrade
from agent.upgrade.layout import Layout
from agent.upgrade.plan import Trial, begin
from sync.protocol.releases import digest, sign_release
from tests.agent.upgrade.serving import serve
from tests.e2e.journal_box import journal_box_toml
from tests.e2e.notify_socket import NotifySocket
from tests.install.releases import bundle, needs_root, release_tree, tarball

pytestmark = needs_root
READY_WAIT_S = 180.0


def tree(installed: Path, tmp: Path, *others: str) -> Layout:
    """A release tree with the installed 0.1.0 running (current = good), and copies of it
    named `others` (hard links: same code, another release name)."""
    layout = Layout(tmp / "opt", tmp / "state")
    release_tree(installed, layout.opt, *others)
    layout.state_dir.mkdir(mode=0o700)
    return layout


def break_release(layout: Layout, name: str) -> None:
    """Make release `name` crash at every start, as a release with a missing module does."""
    site = next((layout.releases / name / "lib").glob("python3*/site-packages"))
    daemon = site / "agent" / "daemon.py"
    daemon.unlink()  # a hard link: the other releases keep theirs
    shutil.rmtree(site / "agent" / "__pycache__", ignore_errors=True)


def start(layout: Layout, config: Path, notify: NotifySocket, log: Path
          ) -> tuple[str, subprocess.Popen[bytes]]:
    """What systemd does for one start: ExecStartPre (the guard, from `good`), then
    ExecStart (`current`); ("ready", proc) at READY=1, ("exited", proc) if it died first."""
    guard = subprocess.run([str(layout.opt / "good/bin/python"), "-I", "-m", "agent", "upgrade",
                            "guard", "--opt", str(layout.opt), "--state-dir",
                            str(layout.state_dir)], capture_output=True, text=True,
                           timeout=120, check=True)
    with log.open("a", encoding="utf-8") as fh:
        fh.write(guard.stderr)
    notify.drain()
    env = {**os.environ, "NOTIFY_SOCKET": notify.path}
    with log.open("ab") as out:
        proc = subprocess.Popen([str(layout.opt / "current/bin/python"), "-I", "-m", "agent",
                                 "agent", "run", "--config", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    end = time.monotonic() + READY_WAIT_S
    while time.monotonic() < end:
        if proc.poll() is not None:
            return "exited", proc
        if any("READY=1" in m for m in notify.drain()):
            return "ready", proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"neither ready nor exited within {READY_WAIT_S} s: {log.read_text()}")


def stop(proc: subprocess.Popen[bytes]) -> int:
    """SIGTERM, as `systemctl stop` does; the exit code."""
    proc.terminate()
    return proc.wait(timeout=60)


def journal_digest(layout: Layout) -> str:
    """SHA-256 of the journal file."""
    return hashlib.sha256((layout.state_dir / "journal.db").read_bytes()).hexdigest()


@pytest.fixture
def notify() -> Iterator[NotifySocket]:
    """The service manager's notify socket."""
    sock = NotifySocket()
    yield sock
    sock.close()


async def test_an_hq_signed_release_is_installed_beside_and_committed_when_healthy(
        installed_root: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
        notify: NotifySocket) -> None:
    layout = tree(installed_root, tmp_path)
    config = tmp_path / "box.toml"
    config.write_text(journal_box_toml(layout.state_dir), encoding="utf-8")
    log = tmp_path / "box.log"
    # The journal exists before the upgrade (the old release made it).
    state, proc = await asyncio.to_thread(start, layout, config, notify, log)
    assert state == "ready"
    assert stop(proc) == 0
    journal = journal_digest(layout)

    # HQ serves the bundle and signs its version and SHA-256; the box checks, downloads,
    # installs it beside 0.1.0 and switches `current`.
    hq = Ed25519PrivateKey.generate()
    data = tarball(bundle(tmp_path_factory.getbasetemp(), "0.2.0"), tmp_path / "0.2.0.tar.gz")
    sha = digest(data)
    async with serve({"storelink-0.2.0.tar.gz": data}) as shelf:
        args = {"version": "0.2.0", "url": shelf.url("storelink-0.2.0.tar.gz"),
                "sha256": sha, "sig": sign_release("0.2.0", sha, hq)}
        line = await apply_upgrade(args, hq.public_key(), layout, int(time.time() * 1000))
    assert "0.1.0 → 0.2.0" in line
    assert (layout.releases / "0.2.0" / ".complete").is_file()
    assert (layout.link("current"), layout.link("good")) == ("0.2.0", "0.1.0")
    assert journal_digest(layout) == journal
    assert not any((layout.state_dir / "upgrade").iterdir())

    state, proc = await asyncio.to_thread(start, layout, config, notify, log)
    assert state == "ready", log.read_text(encoding="utf-8")
    try:
        trial = await asyncio.to_thread(wait_phase, layout, "committed")
        assert (trial.starts, trial.target, trial.previous) == (1, "0.2.0", "0.1.0")
        assert (layout.link("current"), layout.link("good")) == ("0.2.0", "0.2.0")
        assert "升级完成 / upgrade to 0.2.0 committed" in log.read_text(encoding="utf-8")
    finally:
        assert stop(proc) == 0
    verify = await asyncio.to_thread(
        subprocess.run, [str(layout.opt / "current/bin/python"), "-I", "-m", "agent", "journal",
                         "verify", str(layout.state_dir / "journal.db")],
        capture_output=True, text=True, timeout=120, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def wait_phase(layout: Layout, phase: str) -> Trial:
    """The trial once it reached `phase` (the daemon records it just after READY)."""
    end = time.monotonic() + 60
    while time.monotonic() < end:
        trial = layout.read_trial()
        if trial is not None and trial.phase == phase:
            return trial
        time.sleep(0.1)
    raise AssertionError(f"trial never {phase}: {layout.read_trial()}")


def test_a_release_that_never_gets_healthy_is_rolled_back_by_the_guard(
        installed_root: Path, tmp_path: Path, notify: NotifySocket) -> None:
    layout = tree(installed_root, tmp_path, "0.2.0")
    break_release(layout, "0.2.0")
    config = tmp_path / "box.toml"
    config.write_text(journal_box_toml(layout.state_dir), encoding="utf-8")
    log = tmp_path / "box.log"
    state, proc = start(layout, config, notify, log)
    assert state == "ready" and stop(proc) == 0
    journal = journal_digest(layout)

    layout.write_trial(begin("0.1.0", "0.2.0", int(time.time() * 1000), 600_000,
                             max_starts=3))
    layout.switch("current", "0.2.0")
    # systemd restarts a crashing service (Restart=on-failure): three failed starts...
    for _ in range(3):
        state, proc = start(layout, config, notify, log)
        assert state == "exited" and proc.returncode != 0
        assert journal_digest(layout) == journal
        assert layout.link("good") == "0.1.0"
    # ...then the guard, run from the good release, switches back before the fourth.
    state, proc = start(layout, config, notify, log)
    try:
        assert state == "ready", log.read_text(encoding="utf-8")
        trial = layout.read_trial()
        assert trial is not None and trial.phase == "rolled_back"
        assert trial.reason == "started 3 times without reporting healthy"
        assert (layout.link("current"), layout.link("good")) == ("0.1.0", "0.1.0")
        text = log.read_text(encoding="utf-8")
        assert "升级失败，已回滚 / upgrade to 0.2.0 rolled back to 0.1.0" in text
    finally:
        assert stop(proc) == 0
    assert (layout.releases / "0.2.0").is_dir()  # kept for diagnosis; never run again
