"""Release bundles and install roots for the installer and upgrade tests: built once per test
session with the project's own scripts (scripts/build-release, scripts/install.sh)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install.sh"
_built: dict[str, Path] = {}

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="installs with chown and systemd-sysusers: run as root (CI does)")


def bundle(base: Path, version: str = "0.1.0") -> Path:
    """A release bundle directory of this checkout named `version` (built once per session;
    other versions are copies with another VERSION: same wheels, another release name)."""
    if version in _built:
        return _built[version]
    if "0.1.0" not in _built:
        out = subprocess.run(["bash", str(ROOT / "scripts" / "build-release"), "--out",
                              str(base / "bundles"), "--version", "0.1.0"],
                             capture_output=True, text=True, timeout=900, check=True)
        _built["0.1.0"] = Path(out.stdout.strip().splitlines()[-1])
    if version != "0.1.0":
        dest = base / "bundles" / f"storelink-{version}"
        shutil.copytree(_built["0.1.0"], dest)
        (dest / "VERSION").write_text(version + "\n", encoding="utf-8")
        _built[version] = dest
    return _built[version]


def tarball(bundle_dir: Path, dest: Path) -> bytes:
    """The bundle as the .tar.gz HQ serves; its bytes."""
    with tarfile.open(dest, "w:gz") as tar:
        tar.add(bundle_dir, arcname=bundle_dir.name)
    return dest.read_bytes()


def blank_root(path: Path) -> Path:
    """An empty system root with only root's user and group (what sysusers adds to)."""
    (path / "etc").mkdir(parents=True)
    (path / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (path / "etc" / "group").write_text("root:x:0:\n", encoding="utf-8")
    return path


def install(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """scripts/install.sh --root `root` with `args`; its output, checked for success."""
    r = subprocess.run(["bash", str(INSTALL), "--root", str(root), *args], capture_output=True,
                       text=True, timeout=900, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def ids(root: Path, name: str) -> tuple[int, int]:
    """(uid, gid) of user `name` in `root`'s passwd."""
    for line in (root / "etc" / "passwd").read_text(encoding="utf-8").splitlines():
        f = line.split(":")
        if f[0] == name:
            return int(f[2]), int(f[3])
    raise AssertionError(f"no user {name} in {root}/etc/passwd")


def members(root: Path, group: str) -> list[str]:
    """The members of `group` in `root`'s group file."""
    for line in (root / "etc" / "group").read_text(encoding="utf-8").splitlines():
        f = line.split(":")
        if f[0] == group:
            return [m for m in f[3].split(",") if m]
    raise AssertionError(f"no group {group} in {root}/etc/group")


def installed(base: Path) -> Path:
    """A root with the box's release 0.1.0 installed by the installer (once per session)."""
    if "installed" not in _built:
        root = blank_root(base / "installed-root")
        install(root, "--bundle", str(bundle(base)), "--no-start")
        _built["installed"] = root
    return _built["installed"]


def release_tree(installed_root: Path, opt: Path, *names: str) -> None:
    """Copies (hard links) of the installed 0.1.0 as releases `0.1.0` and `names` under
    `opt`, with `current` and `good` at 0.1.0."""
    (opt / "releases").mkdir(parents=True)
    src = installed_root / "opt/storelink/releases/0.1.0"
    for name in ("0.1.0", *names):
        subprocess.run(["cp", "-al", str(src), str(opt / "releases" / name)], check=True)
    for link in ("current", "good"):
        (opt / link).symlink_to("releases/0.1.0")
