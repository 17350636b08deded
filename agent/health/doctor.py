"""`storelink doctor`: the box's checklist — config, key files and modes, state directory, disk,
HQ's broker (TCP, and TLS when configured), each printer — each failure with its fix, in
Chinese. Never prints a secret (tokens, passwords, key contents)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from agent.config import Config, ConfigError, PrinterConfig, load_config
from agent.health.explain import printer_problem, where
from agent.health.keyfiles import key_files
from agent.printing.status_read import read_status
from agent.uplink.reload import from_hq, saved_path
from drivers import DriverError
from drivers.printer_state import PrinterState
from drivers.transports.base import TransportError
from drivers.transports.open import open_transport
from sync.checklist import (
    Check,
    check_broker,
    check_disk,
    check_key_file,
    check_writable_dir,
    render,
)

__all__ = ["Check", "render", "run_checks"]

STATUS_TIMEOUT_S = 2.0


def check_keys(config: Config) -> Iterator[Check]:
    """Each private key: present, owned by us, mode 0600 (the daemon refuses looser ones)."""
    keys = key_files(config)
    journal_db = config.box.state_dir / "journal.db"
    if config.journal.enabled and journal_db.exists() and not any(
            p.parent == config.box.state_dir / "keys" for p in keys):
        yield Check("密钥文件", False, "销售日志存在，但签名密钥不见了",
                    f"从备份恢复 {config.box.state_dir / 'keys'}/box.key（0600），不要重新生成",
                    f"{journal_db} exists, no key in {config.box.state_dir / 'keys'}")
    for path in keys:
        yield check_key_file(path, "storelink")


def check_broker_of(config: Config) -> Check | None:
    """HQ's broker from `[sync]` (None without it)."""
    s = config.sync
    if s is None:
        return None
    return check_broker(f"HQ 服务器 {s.host}:{s.port}", s.host, s.port, s.tls_ca, s.tls_cert,
                        s.tls_key, "HQ 服务器")


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


def check_from_hq(config: Config) -> tuple[Config, Check | None]:
    """The configuration the daemon runs: HQ's `config-from-hq.toml` when one is kept and valid
    (the rest of the checks then use it), and a line saying so; a failing line when it cannot
    be run (the daemon falls back to the file)."""
    sent, problem = from_hq(config)
    path = saved_path(config.box.state_dir)
    if problem is not None:
        return config, Check("总部下发的配置", False,
                             f"{path} 无法使用，盒子按 {config.source} 运行",
                             f"在总部重新下发配置（reload_config），或删除 {path} 后重启",
                             problem)
    if sent is None:
        return config, None
    return sent, Check("总部下发的配置", True, f"盒子按总部下发的 {path} 运行（覆盖 "
                       f"{config.source}；删除它并重启即回到配置文件）")


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
    config, from_hq_check = check_from_hq(config)
    if from_hq_check is not None:
        checks.append(from_hq_check)
    checks += list(check_keys(config))
    state = config.box.state_dir
    checks += [check_writable_dir("状态目录", state, "storelink"),
               check_disk(state, config.health.disk_min_free_mb, "journal.db")]
    broker = check_broker_of(config)
    if broker is not None:
        checks.append(broker)
    checks += [check_printer(p) for p in config.printers]
    return checks
