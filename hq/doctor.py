"""`storelink hq doctor --config FILE`: HQ's checklist — config, HQ's key file and mode, the
database directory, disk, the broker (TCP, and TLS when configured), the configured boxes or
the pairing CA and its CRL — each failure with its fix, in Chinese; never a secret."""

from __future__ import annotations

import datetime
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509

from hq.config import HqConfigError, PairingConfig, load_hq_config
from hq.pki.ca_dir import CaDir
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
    if cfg.pairing is not None:
        checks += check_ca(cfg.pairing, datetime.datetime.now(datetime.UTC))
    elif not cfg.boxes:
        checks.append(Check("门店设备", False, "没有配置任何门店设备",
                            "在配置文件里为每台盒子加一个 [[boxes]]（id 和日志公钥），"
                            "或加 [pairing] 用配对码接入", "no [[boxes]] and no [pairing]"))
    return checks


def check_ca(p: PairingConfig, now: datetime.datetime) -> list[Check]:
    """HQ's CA for pairing: its key (0600) and a CRL mosquitto still accepts (a CRL past its
    nextUpdate makes the broker refuse every client)."""
    ca = CaDir(p.ca_dir)
    if not ca.key_file.exists():
        return [Check("证书颁发机构", False, f"{p.ca_dir} 里没有 CA，无法接入新设备",
                      f"storelink hq pki init --dir {p.ca_dir}", "no ca.key")]
    out = [check_key_file(ca.key_file, "storelink-hq")]
    try:
        crl = x509.load_pem_x509_crl(ca.crl_file.read_bytes())
    except (OSError, ValueError) as e:
        return [*out, Check("吊销列表", False, f"{ca.crl_file} 无法读取",
                            f"storelink hq pki crl --dir {p.ca_dir}", str(e))]
    due = crl.next_update_utc
    fix = (f"storelink hq pki crl --dir {p.ca_dir}，再把 crl.pem 复制到 MQTT 服务器并 "
           "systemctl reload mosquitto")
    if due is None or due <= now:
        return [*out, Check("吊销列表", False, "吊销列表已过期：MQTT 服务器会拒绝所有设备", fix,
                            f"nextUpdate {due}")]
    days = (due - now).days
    if days < 7:
        return [*out, Check("吊销列表", False, f"吊销列表 {days} 天后过期", fix,
                            f"nextUpdate {due.isoformat()}")]
    return [*out, Check("吊销列表", True, f"有效，还有 {days} 天（{len(list(crl))} 张证书已吊销）")]


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
