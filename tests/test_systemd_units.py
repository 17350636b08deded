"""The shipped units: `systemd-analyze verify` finds nothing, and each unit is Type=notify with
a watchdog, restarts on failure and carries the hardening docs/deploy.md promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITS = ("storelink-agent.service", "storelink-hq.service")
INSTALLED = ("/opt/storelink/current/bin/storelink", "/opt/storelink/good/bin/storelink",
             "/opt/storelink-hq/current/bin/storelink")
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is absent: install the Debian package `systemd` "
    "(scripts/bootstrap does)")


def directives(unit: str) -> dict[str, list[str]]:
    """Every `Key=value` of a unit file, by key, in order (repeatable keys keep all)."""
    out: dict[str, list[str]] = {}
    for line in (ROOT / "systemd" / unit).read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", "[")) and "=" in line:
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def verify(tmp_path: Path, texts: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """systemd-analyze verify on copies whose ExecStart points at this checkout's command, so
    the check that the program exists is real."""
    assert ANALYZE is not None
    here = str(Path(sys.executable).parent / "storelink")
    for name, text in texts.items():
        local = text
        for installed in INSTALLED:
            local = local.replace(installed, here)
        (tmp_path / name).write_text(local, encoding="utf-8")
    return subprocess.run([ANALYZE, "verify", "--man=no", *texts], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)


@needs_analyze
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    texts = {u: (ROOT / "systemd" / u).read_text(encoding="utf-8") for u in UNITS}
    r = verify(tmp_path, texts)
    assert (r.returncode, r.stderr, r.stdout) == (0, "", "")


@needs_analyze
def test_verify_would_catch_a_mistake(tmp_path: Path) -> None:
    bad = (ROOT / "systemd" / UNITS[0]).read_text(encoding="utf-8").replace(
        "Type=notify", "Type=notifyy").replace("ProtectHome=true", "ProtectHom=true")
    r = verify(tmp_path, {"bad.service": bad})
    assert "notifyy" in r.stderr and "ProtectHom" in r.stderr


@pytest.mark.parametrize("unit", UNITS)
def test_notify_watchdog_restart_and_hardening(unit: str) -> None:
    d = directives(unit)
    one = {k: v[-1] for k, v in d.items()}
    assert one["Type"] == "notify" and one["NotifyAccess"] == "main"
    assert int(one["WatchdogSec"]) > 0
    assert one["Restart"] == "on-failure"
    assert (one["ProtectSystem"], one["ProtectHome"], one["PrivateTmp"],
            one["NoNewPrivileges"]) == ("strict", "true", "true", "true")
    assert one["CapabilityBoundingSet"] == ""
    assert one["DevicePolicy"] == "closed"
    families = set(one["RestrictAddressFamilies"].split())
    assert {"AF_INET", "AF_INET6", "AF_UNIX"} <= families
    assert families <= {"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"}


def test_the_box_may_open_printers_scanners_and_serial_ports_only() -> None:
    allowed = {v.split()[0] for v in directives(UNITS[0])["DeviceAllow"]}
    assert {"char-ttyUSB", "char-ttyACM", "char-ttyS", "char-usb", "char-usb_device",
            "char-hidraw", "char-input", "char-lp"} <= allowed
    assert all(a.startswith("char-") for a in allowed)  # groups, never a block device
    assert "DeviceAllow" not in directives(UNITS[1])
