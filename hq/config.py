"""HQ's configuration: a TOML file parsed into frozen dataclasses; errors name dotted keys."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from hq import HqError
from sync.api_access import HOW_TO_MAKE, allowed_names, token_weakness
from sync.protocol.topics import BOX_ID

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
NOTE_NAME = re.compile(r"^[!-*,-~]{1,128}$")


class HqConfigError(HqError):
    """The file is unreadable or invalid; `errors` lists every `dotted.key: reason`."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class MqttConfig:
    """The broker HQ connects to, and the shared-subscription group of its workers."""

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    keepalive_s: int = 20
    share_group: str = "storelink-hq"


@dataclass(frozen=True)
class BoxEntry:
    """A registered box: its id and the Ed25519 journal keys it may start its log with."""

    id: str
    pubkeys: tuple[bytes, ...]
    log: str | None = None


@dataclass(frozen=True)
class HqConfig:
    """The whole configuration of one HQ worker."""

    id: str
    cosigner: str
    key_file: Path
    db: Path | str
    """An SQLite file (Path), or a PostgreSQL connection URL (str)."""
    mqtt: MqttConfig
    api_listen: str
    api_port: int
    api_token: str
    default_expiry_s: int
    command_lifetime_s: int
    boxes: Mapping[str, BoxEntry]
    api_allowed_hosts: tuple[str, ...] = ()
    """DNS names HQ's API is reached by besides IP literals and loopback names."""
    api_allowed_origins: tuple[str, ...] = ()
    """Other web sites whose pages may call HQ's API."""
    api_max_connections: int = 256
    """Open API connections at most (half-sent or idle ones make room for new ones)."""
    api_header_timeout_s: float = 10.0
    """How long a request head may take to arrive, and a connection may idle between requests."""


def _key_bytes(text: object, where: str, errors: list[str]) -> bytes | None:
    if not isinstance(text, str):
        errors.append(f"{where}: must be a string (64 hex digits or base64 of 32 bytes)")
        return None
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raw = b""
    if len(raw) != 32:
        errors.append(f"{where}: must be an Ed25519 public key (64 hex digits or base64 of 32 "
                      "bytes)")
        return None
    return raw


def _get(raw: Mapping[str, object], key: str, path: str, kind: type, default: object,
         errors: list[str]) -> object:
    v = raw.get(key, default)
    if kind is int and (isinstance(v, bool) or not isinstance(v, int)):
        errors.append(f"{path}.{key}: must be an integer")
        return default
    if kind is str and not isinstance(v, str):
        errors.append(f"{path}.{key}: must be a string")
        return default
    return v


def parse_hq_config(raw: Mapping[str, object], base: Path | None = None) -> HqConfig:
    """Validate a parsed TOML document; HqConfigError lists every problem. Relative paths are
    taken from `base` (the config file's directory)."""
    errors: list[str] = []
    for k in raw:
        if k not in ("hq", "mqtt", "api", "dispatch", "boxes"):
            errors.append(f"{k}: unknown key")

    def table(name: str, allowed: set[str]) -> Mapping[str, object]:
        t = raw.get(name, {})
        if not isinstance(t, Mapping):
            errors.append(f"{name}: must be a table")
            return {}
        errors.extend(f"{name}.{k}: unknown key" for k in t if k not in allowed)
        return t

    def path(v: object) -> Path:
        p = Path(str(v))
        return p if p.is_absolute() or base is None else base / p

    h = table("hq", {"id", "cosigner", "key_file", "db"})
    hq_id = str(_get(h, "id", "hq", str, "hq-1", errors))
    if not BOX_ID.fullmatch(hq_id):
        errors.append("hq.id: 1-64 characters of A-Z a-z 0-9 _ - (it is part of topics and the "
                      "MQTT client id)")
    cosigner = str(_get(h, "cosigner", "hq", str, "storelink-hq", errors))
    if not NOTE_NAME.fullmatch(cosigner):
        errors.append("hq.cosigner: a note key name (printable ASCII, no spaces or '+')")
    key_file = path(_get(h, "key_file", "hq", str, "hq.key", errors))
    db_text = str(_get(h, "db", "hq", str, "hq.db", errors))
    db: Path | str = (_postgres_url(db_text, errors) if db_text.startswith(POSTGRES_SCHEMES)
                      else path(db_text))
    if not db_text:
        errors.append("hq.db: must be an SQLite file path or a postgresql:// URL")

    m = table("mqtt", {"host", "port", "username", "password", "tls_ca", "tls_cert", "tls_key",
                       "keepalive_s", "share_group"})
    opt = {k: (str(m[k]) if isinstance(m.get(k), str) else None)
           for k in ("username", "password", "tls_ca", "tls_cert", "tls_key")}
    for k in opt:
        if k in m and not isinstance(m[k], str):
            errors.append(f"mqtt.{k}: must be a string")
    for k in ("tls_ca", "tls_cert", "tls_key"):
        if opt[k] is not None:
            opt[k] = str(path(opt[k]))
    if (opt["tls_cert"] is None) != (opt["tls_key"] is None):
        errors.append("mqtt.tls_key: tls_cert and tls_key go together")
    port = int(str(_get(m, "port", "mqtt", int, 1883, errors)))
    keepalive = int(str(_get(m, "keepalive_s", "mqtt", int, 20, errors)))
    if not 1 <= port <= 65535:
        errors.append("mqtt.port: must be 1-65535")
    if not 5 <= keepalive <= 60:
        errors.append("mqtt.keepalive_s: must be 5-60 (a dead link must be noticed within a "
                      "minute)")
    group = str(_get(m, "share_group", "mqtt", str, "storelink-hq", errors))
    if group and not BOX_ID.fullmatch(group):
        errors.append("mqtt.share_group: 1-64 characters of A-Z a-z 0-9 _ -, or empty")
    mqtt = MqttConfig(str(_get(m, "host", "mqtt", str, "127.0.0.1", errors)), port,
                      opt["username"], opt["password"], opt["tls_ca"], opt["tls_cert"],
                      opt["tls_key"], keepalive, group)

    a = table("api", {"listen", "port", "token", "allowed_hosts", "allowed_origins",
                      "max_connections", "header_timeout_s"})
    listen = str(_get(a, "listen", "api", str, "127.0.0.1", errors))
    api_port = int(str(_get(a, "port", "api", int, 8480, errors)))
    token = str(_get(a, "token", "api", str, "", errors))
    if not 0 <= api_port <= 65535:
        errors.append("api.port: must be 0-65535 (0 picks a free port)")
    if token:
        weak = token_weakness(token)
        if weak is not None:
            errors.append(f"api.token: {weak}")
    elif not _loopback(listen):
        errors.append("api.token: a token is required when api.listen is not a loopback "
                      f"address; {HOW_TO_MAKE}")
    hosts = allowed_names(a, "allowed_hosts", "api", errors, origins=False)
    origins = allowed_names(a, "allowed_origins", "api", errors, origins=True)
    max_conns = int(str(_get(a, "max_connections", "api", int, 256, errors)))
    if not 8 <= max_conns <= 65536:
        errors.append("api.max_connections: must be 8-65536")
    header_s = a.get("header_timeout_s", 10.0)
    if isinstance(header_s, bool) or not isinstance(header_s, int | float) \
            or not 0.5 <= header_s <= 300:
        errors.append("api.header_timeout_s: must be a number of seconds from 0.5 to 300")
        header_s = 10.0

    d = table("dispatch", {"default_expiry_s", "command_lifetime_s"})
    expiry = int(str(_get(d, "default_expiry_s", "dispatch", int, 86_400, errors)))
    lifetime = int(str(_get(d, "command_lifetime_s", "dispatch", int, 300, errors)))
    if not 1 <= expiry <= 90 * 86_400:
        errors.append("dispatch.default_expiry_s: must be 1-7776000")
    if not 10 <= lifetime <= 86_400:
        errors.append("dispatch.command_lifetime_s: must be 10-86400")

    boxes: dict[str, BoxEntry] = {}
    blist = raw.get("boxes", [])
    if not isinstance(blist, list):
        errors.append("boxes: must be an array of tables ([[boxes]])")
        blist = []
    for i, b in enumerate(blist):
        where = f"boxes[{i}]"
        if not isinstance(b, Mapping):
            errors.append(f"{where}: must be a table")
            continue
        errors.extend(f"{where}.{k}: unknown key" for k in b if k not in ("id", "pubkeys", "log"))
        bid = b.get("id")
        if not isinstance(bid, str) or not BOX_ID.fullmatch(bid):
            errors.append(f"{where}.id: 1-64 characters of A-Z a-z 0-9 _ -")
            continue
        if bid in boxes:
            errors.append(f"{where}.id: duplicate box {bid!r}")
        keys_raw = b.get("pubkeys")
        if not isinstance(keys_raw, list) or not keys_raw:
            errors.append(f"{where}.pubkeys: must be a non-empty array of public keys")
            keys_raw = []
        keys = [_key_bytes(k, f"{where}.pubkeys[{j}]", errors) for j, k in enumerate(keys_raw)]
        log = b.get("log")
        if log is not None and (not isinstance(log, str) or not re.fullmatch(r"[0-9a-f]{32}", log)):
            errors.append(f"{where}.log: must be 32 lowercase hex digits")
            log = None
        boxes[bid] = BoxEntry(bid, tuple(k for k in keys if k is not None),
                              log if isinstance(log, str) else None)
    if errors:
        raise HqConfigError(errors)
    return HqConfig(hq_id, cosigner, key_file, db, mqtt, listen, api_port, token, expiry,
                    lifetime, boxes, hosts, origins, max_conns, float(header_s))


def _postgres_url(text: str, errors: list[str]) -> str:
    """A `postgresql://user@host:port/dbname?…` URL as libpq takes it, checked for its parts."""
    try:
        u = urlsplit(text)
        port = u.port
    except ValueError as e:
        errors.append(f"hq.db: not a valid PostgreSQL URL ({e})")
        return text
    query = parse_qs(u.query)
    if not (u.hostname or query.get("host")):
        errors.append("hq.db: a PostgreSQL URL needs a host (postgresql://user@host:5432/dbname)")
    if not u.path.strip("/") and not query.get("dbname"):
        errors.append("hq.db: a PostgreSQL URL needs a database name "
                      "(postgresql://user@host:5432/dbname)")
    if port == 0:
        errors.append("hq.db: the PostgreSQL port must be 1-65535")
    return text


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def load_hq_config(path: Path) -> HqConfig:
    """Read and validate a TOML file; HqConfigError on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise HqConfigError([f"{path}: {e.strerror}"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise HqConfigError([f"{path}: not valid TOML: {e}"]) from None
    return parse_hq_config(raw, path.parent)


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """HQ's Ed25519 key from a 0600 PEM file, created on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
            os.fsync(fd)
        finally:
            os.close(fd)
        return key
    try:
        loaded = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as e:
        raise HqConfigError([f"hq.key_file: {path}: not a readable PEM key ({e})"]) from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise HqConfigError([f"hq.key_file: {path}: not an Ed25519 key"])
    return loaded
