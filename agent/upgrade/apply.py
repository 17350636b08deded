"""The box's side of the signed `upgrade` command: verify HQ's release signature, download
the bundle, check its SHA-256, install it as a new release beside the running one, begin its
trial and switch `current` — nothing is switched or kept unless every check passed."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Mapping
from pathlib import Path

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from agent.upgrade import UpgradeError
from agent.upgrade.layout import Layout
from agent.upgrade.plan import DEADLINE_MS, begin
from sync.protocol.releases import verify_release

log = logging.getLogger(__name__)
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
DOWNLOAD_TIMEOUT_S = 600.0
INSTALL_TIMEOUT_S = 1800.0


async def download(url: str, dest: Path, max_bytes: int = MAX_BUNDLE_BYTES) -> str:
    """Stream `url` into `dest`; the SHA-256 of what arrived (hex). UpgradeError on an HTTP
    error, a body over `max_bytes` or a broken connection (`dest` removed)."""
    h = hashlib.sha256()
    size = 0
    try:
        timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_S, sock_connect=30)
        async with aiohttp.ClientSession(timeout=timeout) as s, s.get(url) as r:
            if r.status != 200:
                raise UpgradeError(f"download {url}: HTTP {r.status}")
            fh = await asyncio.to_thread(dest.open, "wb")
            with fh:
                async for chunk in r.content.iter_chunked(256 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UpgradeError(f"download {url}: larger than {max_bytes} bytes")
                    h.update(chunk)
                    await asyncio.to_thread(fh.write, chunk)
    except (aiohttp.ClientError, TimeoutError, OSError) as e:
        await asyncio.to_thread(dest.unlink, True)
        raise UpgradeError(f"download {url}: {e}") from None
    except UpgradeError:
        await asyncio.to_thread(dest.unlink, True)
        raise
    return h.hexdigest()


def unpack(bundle: Path, into: Path, version: str) -> Path:
    """Extract the bundle (no links, devices or paths outside `into`); its top directory,
    whose VERSION must name `version`."""
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            tar.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise UpgradeError(f"bundle: not a release bundle ({e})") from None
    tops = [p for p in into.iterdir() if p.is_dir()]
    if len(tops) != 1 or not (tops[0] / "VERSION").is_file():
        raise UpgradeError("bundle: not a release bundle (no top directory with VERSION)")
    named = (tops[0] / "VERSION").read_text(encoding="utf-8").strip()
    if named != version:
        raise UpgradeError(f"bundle: holds release {named!r}, not {version!r}")
    return tops[0]


def install_release(top: Path, layout: Layout, version: str,
                    python: str | None = None) -> Path:
    """A venv at releases/<version> with the bundle's locked wheels (hashes checked, no
    index); marked complete last, so a half-made one is never switched to."""
    dest = layout.releases / version
    if (dest / ".complete").is_file():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    py = str(python or getattr(sys, "_base_executable", sys.executable))
    wheels = sorted((top / "wheels").glob("storelink-*.whl"))
    if not wheels:
        raise UpgradeError("bundle: no storelink wheel")
    steps: list[list[str]] = [[py, "-m", "venv", str(dest)],
             [str(dest / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index",
              "--no-cache-dir", "--find-links", str(top / "wheels"), "--require-hashes",
              "-r", str(top / "requirements.lock")],
             [str(dest / "bin" / "python"), "-m", "pip", "install", "-q", "--no-index",
              "--no-cache-dir", "--no-deps", str(wheels[-1])]]
    # Only the bundle counts: no PYTHONPATH (a path with another storelink would make pip
    # skip the wheel) and no pip settings of the daemon's environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}
    for cmd in steps:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S,
                           check=False, env=env)
        if r.returncode != 0:
            shutil.rmtree(dest, ignore_errors=True)
            tail = (r.stderr or r.stdout).strip().splitlines()[-3:]
            raise UpgradeError(f"installing release {version} failed: {' '.join(tail)}")
    shutil.copyfile(top / "VERSION", dest / "VERSION")
    (dest / ".complete").touch()
    return dest


async def apply_upgrade(args: Mapping[str, object], hq_key: Ed25519PublicKey, layout: Layout,
                        now_ms: int, deadline_ms: int = DEADLINE_MS,
                        python: str | None = None) -> str:
    """Carry out an admitted `upgrade` command up to the switch of `current`; the caller then
    restarts the daemon. UpgradeError (nothing switched) when any check fails."""
    version, url = str(args["version"]), str(args["url"])
    sha256, sig = str(args["sha256"]), str(args["sig"])
    running = layout.link("current")
    if running is None:
        raise UpgradeError(f"{layout.opt}/current is missing: this box was not installed "
                           "with scripts/install.sh")
    if version == running:
        raise UpgradeError(f"release {version} is already running")
    # Checked before a byte is fetched: only a release HQ signed is ever downloaded.
    if not verify_release(version, sha256, sig, hq_key):
        raise UpgradeError("args.sig: not HQ's signature of this version and sha256")
    work = layout.state_dir / "upgrade"
    work.mkdir(mode=0o700, exist_ok=True)
    bundle = work / "bundle.tar.gz"
    try:
        got = await download(url, bundle)
        if got != sha256:
            raise UpgradeError(f"args.sha256: the download's SHA-256 is {got}, not {sha256}")
        top = await asyncio.to_thread(unpack, bundle, work / "unpacked", version)
        await asyncio.to_thread(install_release, top, layout, version, python)
    finally:
        await asyncio.to_thread(bundle.unlink, True)
        with contextlib.suppress(OSError):
            await asyncio.to_thread(shutil.rmtree, work / "unpacked", True)
    trial = begin(running, version, now_ms, deadline_ms)
    await asyncio.to_thread(layout.write_trial, trial)
    await asyncio.to_thread(layout.switch, "current", version)
    line = (f"开始升级 / upgrading {running} → {version}: restarting into it; rolled back "
            f"unless healthy within {deadline_ms // 1000} s")
    log.warning("%s", line)
    return line
