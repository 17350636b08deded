"""`storelink doctor`: the box's checklist — config, key files and modes, state directory, disk,
HQ's broker (TCP, and TLS when configured), each printer — each failure with its fix, in
Chinese. Never prints a secret (tokens, passwords, key contents)."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agent.config import Config, ConfigError, PrinterConfig, load_config
from agent.health.explain import link_error_zh, printer_problem, where
from agent.health.keyfiles import key_files
from agent.printing.supervisor import read_status
from drivers import DriverError
from drivers.printer_state import PrinterState
from drivers.transports.base import TransportError
from drivers.transports.open import open_transport

BROKER_TIMEOUT_S = 5.0
STATUS_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Check:
    """One line of the checklist: `fix` and `detail` only matter when it failed."""

    name: str
    ok: bool
    summary: str
    fix: str = ""
    detail: str = ""


def check_keys(config: Config) -> Iterator[Check]:
    """Each private key: present, owned by us, mode 0600 (the daemon refuses looser ones)."""
    keys = key_files(config)
    journal_db = config.box.state_dir / "journal.db"
    if config.journal.enabled and journal_db.exists() and not any(
            p.parent == config.box.state_dir / "keys" for p in keys):
        yield Check("密钥文件", False, "销售日志存在，但签名密钥不见了",
                    f"从备份恢复 {config.box.state_dir / 'keys'}/box.key（0600），不要重新生成",
                    f"{journal_db} exists, no key in {config.box.state_dir / 'keys'}")
    if config.sync is not None and config.sync.tls_key and not Path(config.sync.tls_key).exists():
        yield Check("密钥文件", False, f"MQTT 证书私钥不存在：{config.sync.tls_key}",
                    "重新配对本机，或把私钥放回 sync.tls_key 指定的位置", "missing")
    for path in keys:
        try:
            st = path.stat()
        except OSError as e:
            yield Check("密钥文件", False, f"{path} 无法读取", f"检查 {path} 的权限", str(e))
            continue
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            yield Check("密钥文件", False, f"{path} 权限 {mode:04o}，别人也能读取",
                        f"chmod 600 {path}", f"mode {mode:04o}; must be 0600")
        elif not os.access(path, os.R_OK):
            yield Check("密钥文件", False, f"{path} 本用户无法读取",
                        f"chown storelink:storelink {path}", "not readable")
        else:
            yield Check("密钥文件", True, f"{path} 权限 {mode:04o}")


def check_state_dir(config: Config) -> Check:
    """The state directory exists and this user can create files in it."""
    d = config.box.state_dir
    fix = f"mkdir -p {d} && chown storelink:storelink {d} && chmod 750 {d}"
    if not d.is_dir():
        return Check("状态目录", False, f"{d} 不存在", fix, "no such directory")
    try:
        with tempfile.NamedTemporaryFile(dir=d, prefix=".doctor-"):
            pass
    except OSError as e:
        return Check("状态目录", False, f"{d} 无法写入", fix, str(e))
    return Check("状态目录", True, f"{d} 可写")


def check_disk(config: Config) -> Check:
    """Free space on the state directory's file system against health.disk_min_free_mb."""
    d = config.box.state_dir
    try:
        free = shutil.disk_usage(d if d.exists() else d.parent).free // (1024 * 1024)
    except OSError as e:
        return Check("存储空间", False, "无法读取剩余空间", f"检查 {d} 所在的存储卡", str(e))
    need = config.health.disk_min_free_mb
    if free < need:
        return Check("存储空间", False, f"只剩 {free} MB（至少需要 {need} MB）",
                     "清理存储卡或换更大的存储卡；不要删除 journal.db", f"{free} MB free")
    return Check("存储空间", True, f"剩余 {free} MB")


def check_broker(config: Config) -> Check | None:
    """HQ's broker answers on TCP, and completes a verified TLS handshake when TLS is set."""
    s = config.sync
    if s is None:
        return None
    name = f"HQ 服务器 {s.host}:{s.port}"
    fix = (f"确认 HQ 的 MQTT 服务在运行、sync.host/sync.port 正确、防火墙放行 {s.port} 端口")
    try:
        sock = socket.create_connection((s.host, s.port), timeout=BROKER_TIMEOUT_S)
    except OSError as e:
        return Check(name, False, link_error_zh(str(e)), fix, str(e))
    with sock:
        if not (s.tls_ca or s.tls_cert):
            return Check(name, True, "可以连接（未加密）")
        try:
            ctx = ssl.create_default_context(cafile=s.tls_ca)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if s.tls_cert and s.tls_key:
                ctx.load_cert_chain(s.tls_cert, s.tls_key)
            with ctx.wrap_socket(sock, server_hostname=s.host) as tls:
                version = tls.version()
        except (ssl.SSLError, OSError) as e:
            return Check(name, False, link_error_zh(f"tls: {e}"),
                         "检查 sync.tls_ca/tls_cert 是否与 HQ 一致、证书是否过期、本机时间是否正确",
                         str(e))
    return Check(name, True, f"可以连接（{version}，证书有效）")


def check_printer(p: PrinterConfig) -> Check:
    """Found (the transport opens), responding (a status reply), and its paper and cover."""
    name = f"打印机 {p.id}" + (f"（{p.name}）" if p.name else "")
    try:
        t = open_transport(p.target)
    except (TransportError, DriverError, OSError) as e:
        problem = printer_problem(PrinterState.OFFLINE, False, p.target)
        assert problem is not None
        return Check(name, False, problem.text, problem.fix, str(e))
    try:
        status = read_status(t, STATUS_TIMEOUT_S, STATUS_TIMEOUT_S, p.profile.language)
    except TransportError as e:
        status = None
        detail = str(e)
    finally:
        t.close()
    if status is None:
        problem = printer_problem(PrinterState.OFFLINE, False, p.target)
        assert problem is not None
        return Check(name, False, problem.text, problem.fix, detail)
    problem = printer_problem(status.state, True, p.target)
    if problem is None:
        return Check(name, True, f"正常（{where(p.target)}）")
    if status.ready:  # paper low: prints, but say so
        return Check(name, True, f"{problem.text}（{where(p.target)}）")
    return Check(name, False, problem.text, problem.fix, ",".join(status.detail))


def run_checks(config_path: Path) -> list[Check]:
    """Every check, in the order a technician fixes things."""
    try:
        config = load_config(config_path)
    except ConfigError as e:
        return [Check("配置文件", False, f"{config_path} 有误",
                      f"按提示修改 {config_path}，再运行 storelink config check {config_path}",
                      "; ".join(e.errors))]
    checks = [Check("配置文件", True, f"{config_path}：盒子 {config.box.id}，"
                    f"{len(config.printers)} 台打印机")]
    checks += list(check_keys(config))
    checks += [check_state_dir(config), check_disk(config)]
    broker = check_broker(config)
    if broker is not None:
        checks.append(broker)
    checks += [check_printer(p) for p in config.printers]
    return checks


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
