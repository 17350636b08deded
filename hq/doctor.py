"""`storelink hq doctor --config FILE`: HQ's checklist — config, HQ's key file and mode, the
database directory, disk, the broker (TCP, and TLS when configured), the configured boxes —
each failure with its fix, in Chinese; never a secret."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from hq.config import HqConfigError, load_hq_config
from sync.checklist import Check, check_broker, check_disk, check_key_file, check_writable_dir

__all__ = ["MIN_FREE_MB", "run_checks"]

MIN_FREE_MB = 500
"""HQ keeps every box's journal: below this, it is time to grow the disk."""


def run_checks(config_path: Path) -> list[Check]:
    """Every check, in the order a technician fixes things."""
    try:
        cfg = load_hq_config(config_path)
    except HqConfigError as e:
        return [Check("配置文件", False, f"{config_path} 有误", f"按提示修改 {config_path}",
                      "; ".join(e.errors))]
    checks = [Check("配置文件", True, f"{config_path}：总部 {cfg.id}，已配置 {len(cfg.boxes)} "
                    "台门店设备")]
    if cfg.key_file.exists():
        checks.append(check_key_file(cfg.key_file, "storelink-hq"))
    else:
        checks.append(Check("密钥文件", True, f"{cfg.key_file} 尚不存在，首次启动时生成（0600）"))
    m = cfg.mqtt
    if isinstance(cfg.db, Path):
        checks += [check_writable_dir("数据目录", cfg.db.parent, "storelink-hq"),
                   check_disk(cfg.db.parent, MIN_FREE_MB, cfg.db.name)]
    else:
        checks.append(_check_postgres(cfg.db))
    checks.append(check_broker(f"MQTT 服务器 {m.host}:{m.port}", m.host, m.port, m.tls_ca,
                               m.tls_cert, m.tls_key, "MQTT 服务器"))
    if not cfg.boxes:
        checks.append(Check("门店设备", False, "没有配置任何门店设备",
                            "在配置文件里为每台盒子加一个 [[boxes]]（id 和日志公钥）",
                            "no [[boxes]]"))
    return checks


def _check_postgres(url: str) -> Check:
    """Whether the PostgreSQL server of `url` accepts a connection (the password is never shown)."""
    import psycopg

    where = urlsplit(url)
    shown = f"{where.hostname or '?'}:{where.port or 5432}{where.path}"
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as e:  # any failure is the finding; its text goes to the detail
        return Check("数据库", False, f"PostgreSQL {shown} 连不上",
                     "检查数据库是否在运行、地址和账号是否正确（配置 hq.db）", type(e).__name__)
    return Check("数据库", True, f"PostgreSQL {shown} 可以连接")
