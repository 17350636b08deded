"""Attacks on the `upgrade` command: a bad release signature (another key, another version),
a download whose SHA-256 differs, an unsigned or forged command — each refused with nothing
changed: no download kept, no release directory, `current` and `good` as they were, no trial,
the journal's bytes the same."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agent.upgrade import UpgradeError
from agent.upgrade.apply import apply_upgrade
from agent.upgrade.layout import Layout
from sync.protocol.commands import (
    Command,
    CommandGuard,
    CommandRefusedError,
    sign_command,
)
from sync.protocol.releases import digest, sign_release
from tests.agent.upgrade.serving import serve

T0 = 1_800_000_000_000
BUNDLE = b"\x1f\x8b release bundle of 0.2.0 \xe4\xb8\x8d\xe9\x94\x88\xe9\x92\xa2"


def tree(tmp: Path) -> Layout:
    """A release tree with release 0.1.0 running (current = good) and a journal beside it."""
    layout = Layout(tmp / "opt", tmp / "state")
    rel = layout.releases / "0.1.0"
    rel.mkdir(parents=True)
    (rel / ".complete").touch()
    layout.state_dir.mkdir(mode=0o700)
    (layout.state_dir / "journal.db").write_bytes(b"the shop's journal")
    layout.switch("current", "0.1.0")
    layout.switch("good", "0.1.0")
    return layout


def snapshot(layout: Layout) -> tuple[object, ...]:
    """Everything an upgrade may change."""
    return (sorted(p.name for p in layout.releases.iterdir()), layout.link("current"),
            layout.link("good"), layout.state_file.exists(),
            hashlib.sha256((layout.state_dir / "journal.db").read_bytes()).hexdigest(),
            sorted(str(p) for p in (layout.state_dir / "upgrade").rglob("*"))
            if (layout.state_dir / "upgrade").exists() else [])


@pytest.mark.parametrize("attack", ["other_key", "other_version", "garbage_sig"])
async def test_a_bad_release_signature_is_refused_before_any_download(
        tmp_path: Path, attack: str) -> None:
    hq, mallory = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    layout = tree(tmp_path)
    before = snapshot(layout)
    sha = digest(BUNDLE)
    sig = {"other_key": sign_release("0.2.0", sha, mallory),
           "other_version": sign_release("0.1.9", sha, hq),
           "garbage_sig": "A" * 86 + "=="}[attack]
    async with serve({"0.2.0.tar.gz": BUNDLE}) as shelf:
        args = {"version": "0.2.0", "url": shelf.url("0.2.0.tar.gz"), "sha256": sha, "sig": sig}
        with pytest.raises(UpgradeError, match=r"args\.sig"):
            await apply_upgrade(args, hq.public_key(), layout, T0)
        assert shelf.requests == []
    assert snapshot(layout) == before


async def test_a_download_with_another_sha256_is_refused_and_deleted(tmp_path: Path) -> None:
    hq = Ed25519PrivateKey.generate()
    layout = tree(tmp_path)
    before = snapshot(layout)
    # HQ signed the digest of the real bundle; the server hands out different bytes.
    sha = digest(BUNDLE)
    async with serve({"0.2.0.tar.gz": BUNDLE + b"\x00tampered"}) as shelf:
        args = {"version": "0.2.0", "url": shelf.url("0.2.0.tar.gz"), "sha256": sha,
                "sig": sign_release("0.2.0", sha, hq)}
        with pytest.raises(UpgradeError, match=r"args\.sha256"):
            await apply_upgrade(args, hq.public_key(), layout, T0)
        assert shelf.requests == ["/v1/releases/0.2.0.tar.gz"]
    assert snapshot(layout) == before


async def test_a_signed_bundle_that_is_not_a_release_changes_nothing(tmp_path: Path) -> None:
    hq = Ed25519PrivateKey.generate()
    layout = tree(tmp_path)
    before = snapshot(layout)
    sha = digest(BUNDLE)
    async with serve({"0.2.0.tar.gz": BUNDLE}) as shelf:
        args = {"version": "0.2.0", "url": shelf.url("0.2.0.tar.gz"), "sha256": sha,
                "sig": sign_release("0.2.0", sha, hq)}
        with pytest.raises(UpgradeError, match="not a release bundle"):
            await apply_upgrade(args, hq.public_key(), layout, T0)
    assert snapshot(layout)[:5] == before[:5]
    assert not list((layout.state_dir / "upgrade").iterdir())


async def test_a_missing_bundle_is_refused(tmp_path: Path) -> None:
    hq = Ed25519PrivateKey.generate()
    layout = tree(tmp_path)
    before = snapshot(layout)
    sha = digest(BUNDLE)
    async with serve({}) as shelf:
        args = {"version": "0.2.0", "url": shelf.url("0.2.0.tar.gz"), "sha256": sha,
                "sig": sign_release("0.2.0", sha, hq)}
        with pytest.raises(UpgradeError, match="HTTP 404"):
            await apply_upgrade(args, hq.public_key(), layout, T0)
    assert snapshot(layout)[:5] == before[:5]


def upgrade_command(key: Ed25519PrivateKey, sha: str, release_sig: str) -> bytes:
    """A signed `upgrade` command for box CQ-JB-001-B1, as HQ sends it."""
    cmd = Command("CQ-JB-001-B1", "upgrade",
                  {"version": "0.2.0", "url": "http://hq.example.cn/v1/releases/0.2.0.tar.gz",
                   "sha256": sha, "sig": release_sig},
                  os.urandom(8).hex(), T0, T0 + 60_000)
    return sign_command(cmd, key).to_json()


def test_an_unsigned_or_forged_upgrade_command_is_refused_by_the_guard() -> None:
    hq, mallory = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    sha = digest(BUNDLE)
    guard = CommandGuard("CQ-JB-001-B1", hq.public_key())
    forged = upgrade_command(mallory, sha, sign_release("0.2.0", sha, mallory))
    with pytest.raises(CommandRefusedError, match="bad signature"):
        guard.admit(forged, T0)
    unsigned = forged.replace(forged[forged.index(b'"sig":"') + 7:forged.rindex(b'"')],
                              b"")
    with pytest.raises(CommandRefusedError):
        guard.admit(unsigned, T0)
    # HQ's own command is admitted, with its arguments checked by their schema.
    ok = guard.admit(upgrade_command(hq, sha, sign_release("0.2.0", sha, hq)), T0)
    assert ok.name == "upgrade" and ok.args["sha256"] == sha


@pytest.mark.parametrize(("field", "value"), [
    ("version", "../../etc"), ("url", "file:///etc/passwd"), ("sha256", "ABC"),
    ("sig", "not base64")])
def test_upgrade_arguments_are_validated_naming_the_field(field: str, value: str) -> None:
    hq = Ed25519PrivateKey.generate()
    sha = digest(BUNDLE)
    args = {"version": "0.2.0", "url": "http://hq/r.tar.gz", "sha256": sha,
            "sig": sign_release("0.2.0", sha, hq), field: value}
    cmd = Command("CQ-JB-001-B1", "upgrade", args, os.urandom(8).hex(), T0, T0 + 60_000)
    with pytest.raises(CommandRefusedError, match=rf"cmd\.args\.{field}"):
        CommandGuard("CQ-JB-001-B1", hq.public_key()).admit(
            sign_command(cmd, hq).to_json(), T0)
