"""The box's private key files and whether anyone but their owner may read them."""

from __future__ import annotations

import stat
from pathlib import Path

from agent.config import Config


def key_files(config: Config) -> list[Path]:
    """Every private key the box uses that exists: the journal keys, the MQTT TLS key."""
    keys_dir = config.box.state_dir / "keys"
    out = sorted(p for p in keys_dir.glob("*.key*") if p.is_file()) if keys_dir.is_dir() else []
    if config.sync is not None and config.sync.tls_key:
        out.append(Path(config.sync.tls_key))
    return out


def loose_key_files(config: Config) -> list[tuple[Path, int]]:
    """(path, mode) of every key file that group or others may read, write or run."""
    out = []
    for path in key_files(config):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue  # a missing TLS key is the session's error, named when it connects
        if mode & 0o077:
            out.append((path, mode))
    return out


def refusal(loose: list[tuple[Path, int]]) -> str:
    """The one line the daemon logs when it refuses to start over `loose` keys."""
    files = ", ".join(f"{p} (mode {m:04o})" for p, m in loose)
    fixes = "; ".join(f"chmod 600 {p}" for p, _ in loose)
    return (f"密钥文件权限过宽，拒绝启动 / refusing to start: key file(s) readable by others: "
            f"{files} — 修复 / fix: {fixes}")
