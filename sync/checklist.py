"""The doctor's checklist for the box and HQ: one line per check, the fix under each failure,
in Chinese; and the checks both share (key file modes, a writable directory, disk space, the
broker over TCP and TLS). Never prints a secret."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sync.link_text import link_error_zh

BROKER_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Check:
    """One line of the checklist: `fix` and `detail` only matter when it failed."""

    name: str
    ok: bool
    summary: str
    fix: str = ""
    detail: str = ""


def check_key_file(path: Path, owner: str) -> Check:
    """A private key: present, mode 0600 (no group or other bits), readable by this user."""
    try:
        st = path.stat()
    except OSError as e:
        return Check("密钥文件", False, f"{path} 无法读取", f"检查 {path} 是否存在及其权限",
                     str(e))
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        return Check("密钥文件", False, f"{path} 权限 {mode:04o}，别人也能读取",
                     f"chmod 600 {path}", f"mode {mode:04o}; must be 0600")
    if not os.access(path, os.R_OK):
        return Check("密钥文件", False, f"{path} 本用户无法读取",
                     f"chown {owner}:{owner} {path}", "not readable")
    return Check("密钥文件", True, f"{path} 权限 {mode:04o}")


def check_writable_dir(name: str, d: Path, owner: str) -> Check:
    """`d` exists and this user can create files in it."""
    fix = f"mkdir -p {d} && chown {owner}:{owner} {d} && chmod 750 {d}"
    if not d.is_dir():
        return Check(name, False, f"{d} 不存在", fix, "no such directory")
    try:
        with tempfile.NamedTemporaryFile(dir=d, prefix=".doctor-"):
            pass
    except OSError as e:
        return Check(name, False, f"{d} 无法写入", fix, str(e))
    return Check(name, True, f"{d} 可写")


def check_disk(d: Path, min_free_mb: int, keep: str) -> Check:
    """Free space on `d`'s file system (its parent while it does not exist) ≥ `min_free_mb`."""
    try:
        free = shutil.disk_usage(d if d.exists() else d.parent).free // (1024 * 1024)
    except OSError as e:
        return Check("存储空间", False, "无法读取剩余空间", f"检查 {d} 所在的磁盘", str(e))
    if free < min_free_mb:
        return Check("存储空间", False, f"只剩 {free} MB（至少需要 {min_free_mb} MB）",
                     f"清理存储卡或磁盘，或换更大的；不要删除 {keep}", f"{free} MB free")
    return Check("存储空间", True, f"剩余 {free} MB")


def check_broker(name: str, host: str, port: int, tls_ca: str | None, tls_cert: str | None,
                 tls_key: str | None, peer: str) -> Check:
    """The broker answers on TCP and, with TLS configured, completes a verified handshake
    (TLS 1.2 or newer) presenting our certificate."""
    fix = f"确认 MQTT 服务在运行、主机名和端口正确、防火墙放行 {port} 端口"
    try:
        sock = socket.create_connection((host, port), timeout=BROKER_TIMEOUT_S)
    except OSError as e:
        return Check(name, False, link_error_zh(str(e), peer), fix, str(e))
    with sock:
        if not (tls_ca or tls_cert):
            return Check(name, True, "可以连接（未加密）")
        try:
            ctx = ssl.create_default_context(cafile=tls_ca)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if tls_cert and tls_key:
                ctx.load_cert_chain(tls_cert, tls_key)
            with ctx.wrap_socket(sock, server_hostname=host) as tls:
                version = tls.version()
        except (ssl.SSLError, OSError) as e:
            return Check(name, False, link_error_zh(f"tls: {e}", peer),
                         "检查 CA 和证书是否与服务器一致、证书是否过期、本机时间是否正确", str(e))
    return Check(name, True, f"可以连接（{version}，证书有效）")


def render(checks: list[Check]) -> str:
    """The checklist as staff read it: ✓/✗, the fix under each failure, then the verdict."""
    lines = ["Storelink 自检 / doctor"]
    for c in checks:
        lines.append(f"{'✓' if c.ok else '✗'} {c.name}：{c.summary}")
        if not c.ok:
            lines.append(f"    修复：{c.fix}")
            if c.detail:
                lines.append(f"    详细：{c.detail}")
    failed = sum(not c.ok for c in checks)
    lines.append("结果：全部正常 / all checks passed" if not failed
                 else f"结果：{failed} 项需要处理 / {failed} check(s) failed")
    return "\n".join(lines)
