"""HQ's configuration: a TOML file checked against its schema (validation/) and turned into
frozen dataclasses; every error names its dotted key."""

from __future__ import annotations

import base64
import binascii
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from msgspec import Meta

from hq import HqError
from hq.alert_config import AlertConfig, parse_alerts
from sync.api_access import HOW_TO_MAKE, allowed_names, token_weakness
from sync.protocol.topics import BOX_ID
from validation import Problem, Schema
from validation.decode import collect, collect_items, unknown_keys
from validation.network import is_loopback

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


# --- stores: `[[stores]]`, what store-scoped users are limited to (docs/hq.md) -----------

StoreId = Annotated[str, Meta(pattern=BOX_ID.pattern, extra={
    "reason": "1-64 characters of A-Z a-z 0-9 _ -"})]


@dataclass(frozen=True)
class StoreEntry:
    """A store (or warehouse, or workshop) of the chain, in a region, with its boxes."""

    id: str
    name: str
    region: str
    kind: str
    boxes: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """The store as the API shows it."""
        return {"id": self.id, "name": self.name, "region": self.region, "kind": self.kind,
                "boxes": list(self.boxes)}


class StoreTable(Schema, frozen=True, kw_only=True):
    """`[[stores]]`."""

    id: StoreId
    name: Annotated[str, Meta(min_length=1, max_length=100)]
    region: Annotated[str, Meta(max_length=100)] = ""
    kind: Literal["store", "warehouse", "workshop"] = "store"
    boxes: list[StoreId] = msgspec.field(default_factory=list)


def parse_stores(raw: Mapping[str, object], problems: list[Problem]) -> dict[str, StoreEntry]:
    """The `[[stores]]` of a parsed config; a box belongs to one store at most."""
    stores: dict[str, StoreEntry] = {}
    owner: dict[str, str] = {}
    for i, (_, s) in enumerate(collect_items(raw.get("stores"), StoreTable, problems, "stores")):
        if s is None:
            continue
        if s.id in stores:
            problems.append(Problem(f"stores[{i}].id", f"duplicate store {s.id!r}"))
        for j, box in enumerate(s.boxes):
            if box in owner:
                problems.append(Problem(f"stores[{i}].boxes[{j}]",
                                        f"box {box!r} is already in store {owner[box]!r}"))
            owner[box] = s.id
        stores[s.id] = StoreEntry(s.id, s.name, s.region, s.kind, tuple(s.boxes))
    return stores


@dataclass(frozen=True)
class PairingConfig:
    """Where HQ's CA and pairing book live, what adopted boxes are told, and for how long a
    code and a certificate hold."""

    ca_dir: Path
    db: Path
    broker_host: str
    broker_port: int = 8883
    code_ttl_s: int = 86_400
    cert_days: int = 825
    max_failures: int = 10
    """Wrong codes HQ takes per `failure_window_s` before it refuses every adoption (429)."""
    failure_window_s: int = 600
    max_pending: int = 1000
    """Boxes waiting with a live code at most (the request route needs no token)."""


class PairingTable(Schema, frozen=True, kw_only=True):
    """`[pairing]`."""

    ca_dir: Annotated[str, Meta(min_length=1)]
    db: Annotated[str, Meta(min_length=1)] = "pairing.db"
    broker_host: Annotated[str, Meta(min_length=1, max_length=253)]
    broker_port: Annotated[int, Meta(ge=1, le=65535)] = 8883
    code_ttl_s: Annotated[int, Meta(ge=60, le=7 * 86_400)] = 86_400
    cert_days: Annotated[int, Meta(ge=1, le=3650)] = 825
    max_failures: Annotated[int, Meta(ge=1, le=1000)] = 10
    failure_window_s: Annotated[int, Meta(ge=10, le=86_400)] = 600
    max_pending: Annotated[int, Meta(ge=1, le=100_000)] = 1000


def parse_pairing(raw: object, problems: list[Problem], path: Callable[[str], Path]
                  ) -> PairingConfig | None:
    """`[pairing]` (absent: HQ adopts no boxes); relative paths through `path`."""
    if raw is None:
        return None
    t = collect(raw, PairingTable, problems, "pairing")
    if t is None:
        return None
    return PairingConfig(path(t.ca_dir), path(t.db), t.broker_host, t.broker_port, t.code_ttl_s,
                         t.cert_days, t.max_failures, t.failure_window_s, t.max_pending)


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
    api_secure_cookies: bool = False
    """Mark session cookies Secure even on plain HTTP (HQ behind a TLS-terminating proxy)."""
    stores: Mapping[str, StoreEntry] = field(default_factory=dict)
    """`[[stores]]` by id: regions, kinds and the boxes of each store."""
    pairing: PairingConfig | None = None
    """Adopting boxes by pairing code (absent: boxes are only those configured)."""
    alerts: AlertConfig = field(default_factory=AlertConfig)
    """`[alerts]`: thresholds, deadline, kinds and webhooks (hq.alert_config)."""
    first_contact_share: float = 0.30
    """`[reports] first_contact_share`: a member's first-contact clerk's share of the member's
    later sales (docs/hq.md §Reports)."""


def _key_bytes(text: str) -> bytes | None:
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        return None
    return raw if len(raw) == 32 else None


Name = Annotated[str, Meta(pattern=BOX_ID.pattern, extra={
    "reason": "1-64 characters of A-Z a-z 0-9 _ -"})]
Note = Annotated[str, Meta(pattern=NOTE_NAME.pattern, extra={
    "reason": "a note key name (printable ASCII, no spaces or '+')"})]


class HqTable(Schema, frozen=True, kw_only=True):
    """`[hq]`."""

    id: Annotated[str, Meta(pattern=BOX_ID.pattern, extra={
        "reason": "1-64 characters of A-Z a-z 0-9 _ - (it is part of topics and the MQTT "
                  "client id)"})] = "hq-1"
    cosigner: Note = "storelink-hq"
    key_file: str = "hq.key"
    db: Annotated[str, Meta(min_length=1, extra={
        "reason": "must be an SQLite file path or a postgresql:// URL"})] = "hq.db"


class MqttTable(Schema, frozen=True, kw_only=True):
    """`[mqtt]`."""

    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 1883
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    keepalive_s: Annotated[int, Meta(ge=5, le=60, extra={
        "reason": "must be 5-60 (a dead link must be noticed within a minute)"})] = 20
    share_group: Annotated[str, Meta(pattern=f"^$|{BOX_ID.pattern}", extra={
        "reason": "1-64 characters of A-Z a-z 0-9 _ -, or empty"})] = "storelink-hq"


class ApiTable(Schema, frozen=True, kw_only=True):
    """`[api]`; port 0 picks a free port."""

    listen: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535, extra={
        "reason": "must be 0-65535 (0 picks a free port)"})] = 8480
    token: str = ""
    allowed_hosts: list[Any] = msgspec.field(default_factory=list)
    allowed_origins: list[Any] = msgspec.field(default_factory=list)
    max_connections: Annotated[int, Meta(ge=8, le=65536)] = 256
    header_timeout_s: Annotated[float, Meta(ge=0.5, le=300.0)] = 10.0
    secure_cookies: bool = False


class DispatchTable(Schema, frozen=True, kw_only=True):
    """`[dispatch]`."""

    default_expiry_s: Annotated[int, Meta(ge=1, le=90 * 86_400)] = 86_400
    command_lifetime_s: Annotated[int, Meta(ge=10, le=86_400)] = 300


class BoxTable(Schema, frozen=True, kw_only=True):
    """`[[boxes]]`: a registered box and the public keys its journal may start with."""

    id: Name
    pubkeys: Annotated[list[str], Meta(min_length=1, extra={
        "reason": "must be a non-empty array of public keys"})]
    log: Annotated[str, Meta(pattern="^[0-9a-f]{32}$", extra={
        "reason": "must be 32 lowercase hex digits"})] | None = None


class ReportsTable(Schema, frozen=True, kw_only=True):
    """`[reports]`."""

    first_contact_share: Annotated[float, Meta(ge=0.0, le=1.0, extra={
        "reason": "must be a fraction 0-1 (0.30 is 30 %)"})] = 0.30


TABLES = {"hq", "mqtt", "api", "dispatch", "boxes", "stores", "pairing", "alerts", "reports"}
KEY_FORMAT = "must be an Ed25519 public key (64 hex digits or base64 of 32 bytes)"


def _boxes(raw: Mapping[str, object], problems: list[Problem]) -> dict[str, BoxEntry]:
    boxes: dict[str, BoxEntry] = {}
    for i, (item, b) in enumerate(collect_items(raw.get("boxes"), BoxTable, problems, "boxes")):
        keys_raw = item.get("pubkeys") if isinstance(item, Mapping) else None
        keys: list[bytes] = []
        for j, text in enumerate(keys_raw if isinstance(keys_raw, list) else ()):
            key = _key_bytes(text) if isinstance(text, str) else None
            if key is None and isinstance(text, str):
                problems.append(Problem(f"boxes[{i}].pubkeys[{j}]", KEY_FORMAT))
            keys.append(key or b"")
        if b is None:
            continue
        if b.id in boxes:
            problems.append(Problem(f"boxes[{i}].id", f"duplicate box {b.id!r}"))
        boxes[b.id] = BoxEntry(b.id, tuple(keys), b.log)
    return boxes


def parse_hq_config(raw: Mapping[str, object], base: Path | None = None) -> HqConfig:
    """Validate a parsed TOML document; HqConfigError lists every problem. Relative paths are
    taken from `base` (the config file's directory)."""
    problems = unknown_keys(raw, TABLES, "")

    def path(v: str) -> Path:
        p = Path(v)
        return p if p.is_absolute() or base is None else base / p

    h = collect(raw.get("hq", {}), HqTable, problems, "hq")
    m = collect(raw.get("mqtt", {}), MqttTable, problems, "mqtt")
    given = raw.get("mqtt", {})
    if isinstance(given, Mapping) and (given.get("tls_cert") is None) != (
            given.get("tls_key") is None):
        problems.append(Problem("mqtt.tls_key", "tls_cert and tls_key go together"))
    a = collect(raw.get("api", {}), ApiTable, problems, "api")
    given = raw.get("api", {})
    token = given.get("token") if isinstance(given, Mapping) else None
    listen = given.get("listen") if isinstance(given, Mapping) else None
    if isinstance(token, str) and token:
        weak = token_weakness(token)
        if weak is not None:
            problems.append(Problem("api.token", weak))
    elif not is_loopback(listen if isinstance(listen, str) else "127.0.0.1"):
        problems.append(Problem("api.token", "a token is required when api.listen is not a "
                                f"loopback address; {HOW_TO_MAKE}"))
    hosts: tuple[str, ...] = ()
    origins: tuple[str, ...] = ()
    if a is not None:
        errors: list[str] = []
        table = {"allowed_hosts": a.allowed_hosts, "allowed_origins": a.allowed_origins}
        hosts = allowed_names(table, "allowed_hosts", "api", errors, origins=False)
        origins = allowed_names(table, "allowed_origins", "api", errors, origins=True)
        problems.extend(Problem(*e.split(": ", 1)) for e in errors)
    d = collect(raw.get("dispatch", {}), DispatchTable, problems, "dispatch")
    rep = collect(raw.get("reports", {}), ReportsTable, problems, "reports")
    boxes = _boxes(raw, problems)
    stores = parse_stores(raw, problems)
    pairing = parse_pairing(raw.get("pairing"), problems, path)
    alerts = parse_alerts(raw.get("alerts"), problems)
    db: Path | str = ""
    if h is not None:
        pg_errors: list[str] = []
        db = (_postgres_url(h.db, pg_errors) if h.db.startswith(POSTGRES_SCHEMES)
              else path(h.db))
        problems.extend(Problem(*e.split(": ", 1)) for e in pg_errors)
    if problems or h is None or m is None or a is None or d is None or rep is None:
        raise HqConfigError([str(p) for p in problems])
    tls = [None if v is None else str(path(v)) for v in (m.tls_ca, m.tls_cert, m.tls_key)]
    mqtt = MqttConfig(m.host, m.port, m.username, m.password, tls[0], tls[1], tls[2],
                      m.keepalive_s, m.share_group)
    return HqConfig(h.id, h.cosigner, path(h.key_file), db, mqtt, a.listen, a.port,
                    a.token, d.default_expiry_s, d.command_lifetime_s, boxes, hosts, origins,
                    a.max_connections, a.header_timeout_s, a.secure_cookies, stores, pairing,
                    alerts, rep.first_contact_share)


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




def load_hq_config(path: Path) -> HqConfig:
    """Read and validate a TOML file; HqConfigError on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise HqConfigError([f"{path}: {e.strerror}"]) from None
    try:
        raw = tomllib.loads(text)
    except ValueError as e:
        # TOMLDecodeError, or an integer too long to convert (over 4300 digits).
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
