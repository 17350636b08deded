"""scripts/install.sh into a temporary root, as root: the box installed twice (the second run
changes nothing), upgraded with the journal and keys untouched, uninstalled (journal, keys and
configuration kept) and purged; HQ the same. Never the host's /etc, /opt or /var."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import subprocess
from pathlib import Path

import pytest

from agent.journal.store import JournalStore
from tests.install.releases import blank_root, bundle, ids, install, members, needs_root

pytestmark = needs_root


def mode(p: Path) -> int:
    """Permission bits of `p` (not following a symlink)."""
    return stat.S_IMODE(p.lstat().st_mode)


def digest(p: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(p.read_bytes()).hexdigest()


def make_journal(state: Path) -> None:
    """A journal with one sale of 不锈钢合页 and its key, as a running box leaves them."""

    async def go() -> None:
        j = await asyncio.to_thread(JournalStore.open, state / "journal.db",
                                    state / "keys" / "journal.key",
                                    genesis={"store": "CQ-JB-001", "name": "重庆江北建材旗舰店"})
        await j.append("sale", {"order": "XS-INSTALL-1", "till": "T1", "cashier": "C001",
                                "lines": [{"sku": "JC-1001", "name": "不锈钢合页 4寸", "qty": 2,
                                           "unit_price": 850, "amount": 1700}],
                                "total": 1700, "payments": [{"method": "cash",
                                                             "amount": 1700}]})
        await asyncio.to_thread(j.close)

    asyncio.run(go())


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed release's `storelink` with `args`."""
    return subprocess.run([str(root / "opt/storelink/current/bin/storelink"), *args],
                          capture_output=True, text=True, timeout=300, check=False)


def test_box_install_twice_upgrade_uninstall_purge(tmp_path_factory: pytest.TempPathFactory
                                                   ) -> None:
    base = tmp_path_factory.getbasetemp()
    root = blank_root(tmp_path_factory.mktemp("root"))
    first = install(root, "--bundle", str(bundle(base)))
    assert "installed release 0.1.0" in first.stdout

    uid, gid = ids(root, "storelink")
    for group in ("lp", "dialout", "plugdev", "input"):
        assert "storelink" in members(root, group)
    state = root / "var/lib/storelink"
    assert (mode(state), state.stat().st_uid, state.stat().st_gid) == (0o700, uid, gid)
    conf = root / "etc/storelink/storelink.toml"
    assert (mode(conf), conf.stat().st_uid, conf.stat().st_gid) == (0o640, 0, gid)
    opt = root / "opt/storelink"
    assert os.readlink(opt / "current") == "releases/0.1.0"
    assert os.readlink(opt / "good") == "releases/0.1.0"
    assert (opt / "releases/0.1.0/.complete").is_file()
    assert (opt / "releases").stat().st_uid == uid  # the box installs its own upgrades
    unit = root / "etc/systemd/system/storelink-agent.service"
    assert "/opt/storelink/current/bin/storelink agent run" in unit.read_text(encoding="utf-8")
    assert (root / "etc/udev/rules.d/99-storelink-printers.rules").is_file()
    assert (root / "usr/lib/sysusers.d/storelink.conf").is_file()
    # The installed release runs, and accepts the default configuration the unit checks.
    check = run(root, "config", "check", str(conf))
    assert check.returncode == 0, check.stderr
    assert "CQ-JB-001-B1" in check.stdout

    # A second run changes nothing: same release directory, the edited configuration kept.
    conf.write_text(conf.read_text(encoding="utf-8").replace("重庆江北建材旗舰店", "沙坪坝店"),
                    encoding="utf-8")
    release_inode = (opt / "releases/0.1.0").stat().st_ino
    passwd = (root / "etc/passwd").read_text(encoding="utf-8")
    second = install(root, "--bundle", str(bundle(base)))
    assert "release 0.1.0 already installed" in second.stdout
    assert "kept the configuration" in second.stdout
    assert (opt / "releases/0.1.0").stat().st_ino == release_inode
    assert "沙坪坝店" in conf.read_text(encoding="utf-8")
    assert (root / "etc/passwd").read_text(encoding="utf-8") == passwd

    # Upgrade: a new release beside the old one; the journal and its key are not touched.
    make_journal(state)
    before = {p: digest(p) for p in (state / "journal.db", state / "keys/journal.key")}
    install(root, "--bundle", str(bundle(base, "0.1.1")))
    assert os.readlink(opt / "current") == "releases/0.1.1"
    assert (opt / "releases/0.1.0").is_dir()
    assert {p: digest(p) for p in before} == before
    verified = run(root, "journal", "verify", str(state / "journal.db"))
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # Uninstall: the program goes; the journal, keys and configuration stay.
    install(root, "--uninstall")
    assert not opt.exists()
    assert not unit.exists()
    assert not (root / "etc/udev/rules.d/99-storelink-printers.rules").exists()
    assert {p: digest(p) for p in before} == before
    assert conf.is_file()

    # Purge: only when asked.
    install(root, "--uninstall", "--purge")
    assert not state.exists()
    assert not conf.exists()


def test_hq_install_and_purge(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp()
    root = blank_root(tmp_path_factory.mktemp("hqroot"))
    install(root, "--hq", "--bundle", str(bundle(base)))
    uid, gid = ids(root, "storelink-hq")
    state = root / "var/lib/storelink-hq"
    assert (mode(state), state.stat().st_uid) == (0o700, uid)
    conf = root / "etc/storelink/hq.toml"
    assert (mode(conf), conf.stat().st_gid) == (0o640, gid)
    assert os.readlink(root / "opt/storelink-hq/current") == "releases/0.1.0"
    # HQ does not upgrade itself: its code stays root's.
    assert (root / "opt/storelink-hq/releases/0.1.0").stat().st_uid == 0
    unit = root / "etc/systemd/system/storelink-hq.service"
    assert "/opt/storelink-hq/current/bin/storelink hq run" in unit.read_text(encoding="utf-8")
    assert not (root / "etc/udev/rules.d/99-storelink-printers.rules").exists()
    # The installed release runs HQ's commands (its configuration's paths are the live
    # system's, so nothing here reads them).
    hq = subprocess.run([str(root / "opt/storelink-hq/current/bin/storelink"), "hq", "--help"],
                        capture_output=True, text=True, timeout=300, check=False)
    assert hq.returncode == 0 and "run" in hq.stdout, hq.stderr
    again = install(root, "--hq", "--bundle", str(bundle(base)))
    assert "already installed" in again.stdout
    (state / "hq.db").write_bytes(b"HQ's database")
    install(root, "--hq", "--uninstall")
    assert (state / "hq.db").is_file() and conf.is_file()
    assert not (root / "opt/storelink-hq").exists()
    install(root, "--hq", "--uninstall", "--purge")
    assert not state.exists() and not conf.exists()
