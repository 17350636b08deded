"""The box's configuration: TOML checked against its schema (validation/) once and turned into
frozen dataclasses; every error names its dotted key."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import msgspec
from msgspec import Meta

from agent import AgentError
from agent.devices.barcode_config import parse_variable_measure
from agent.devices.config import (
    DiscoveryConfig,
    DisplayConfig,
    ScannerConfig,
    parse_discovery,
    parse_displays,
    parse_scanners,
)
from agent.devices.scale_config import ScaleConfig, parse_scales
from agent.health.config import HealthConfig, parse_health
from agent.pairing.config import PairingSettings, parse_pairing
from agent.pairing.state import paired_sync
from agent.sales.config import JournalConfig, parse_journal
from agent.station.config import StationConfig, parse_stations
from agent.uplink.config import SyncConfig, parse_sync_table
from drivers import InvalidInput
from drivers.profiles import PrinterProfile, builtin_profiles, profile_from_mapping
from drivers.scanner.variable_measure import VariableMeasureFormat
from drivers.transports.file import FileTarget
from drivers.transports.serial_port import Flow, SerialTarget
from drivers.transports.tcp import TcpTarget
from drivers.transports.usb import UsbTarget
from sync.api_access import HOW_TO_MAKE, allowed_names, token_weakness
from sync.protocol.topics import BOX_ID
from validation import Problem, Schema
from validation.decode import collect, collect_items, convert_problem, unknown_keys
from validation.network import is_loopback

Target = TcpTarget | SerialTarget | UsbTarget | FileTarget


class ConfigError(AgentError):
    """The file is unreadable or invalid; `errors` lists every `dotted.key: reason`."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class BoxConfig:
    """Who this box is and where it keeps its state."""

    id: str
    store: str
    name: str
    state_dir: Path


@dataclass(frozen=True)
class ApiConfig:
    """The local HTTP API; any address but loopback needs a bearer token."""

    listen: str = "127.0.0.1"
    port: int = 8470
    token: str = ""
    allowed_hosts: tuple[str, ...] = ()
    """DNS names the API is reached by besides IP literals and loopback names."""
    allowed_origins: tuple[str, ...] = ()
    """Other web sites (`scheme://host[:port]`) whose pages may call the API."""
    max_connections: int = 256
    """Open connections at most; beyond, a half-sent request is dropped, else the newcomer."""
    max_websockets: int = 64
    """Event subscribers at most (each holds a connection for as long as it likes)."""
    header_timeout_s: float = 10.0
    """How long a connection may take to send a request's head, and may idle between requests."""


@dataclass(frozen=True)
class QueueConfig:
    """Print queue timing: status polling, expiry defaults per template, id retention."""

    poll_interval_s: float = 2.0
    retention_days: int = 30
    default_expiry_s: int = 900
    expiry_by_template: Mapping[str, int] = field(default_factory=dict)
    backoff_max_s: float = 30.0
    max_depth: int = 500
    """Jobs waiting (queued or printing) per printer at most; more are refused with 429."""


@dataclass(frozen=True)
class PrinterConfig:
    """One configured printer: its id, its profile and how to reach it."""

    id: str
    profile: PrinterProfile
    target: Target
    name: str = ""
    self_test_on_attach: bool = False


@dataclass(frozen=True)
class Config:
    """The whole configuration of one box."""

    box: BoxConfig
    api: ApiConfig
    queue: QueueConfig
    printers: tuple[PrinterConfig, ...]
    profiles: Mapping[str, PrinterProfile]
    source: Path | None = None
    scanners: tuple[ScannerConfig, ...] = ()
    displays: tuple[DisplayConfig, ...] = ()
    scales: tuple[ScaleConfig, ...] = ()
    variable_measure: tuple[VariableMeasureFormat, ...] = ()
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    journal: JournalConfig = field(default_factory=JournalConfig)
    sync: SyncConfig | None = None
    health: HealthConfig = field(default_factory=HealthConfig)
    stations: tuple[StationConfig, ...] = ()
    pairing: PairingSettings | None = None

    def printer(self, printer_id: str) -> PrinterConfig | None:
        """The printer with this id, or None."""
        return next((p for p in self.printers if p.id == printer_id), None)


Port = Annotated[int, Meta(ge=1, le=65535)]
Text = Annotated[str, Meta(min_length=1)]
Seconds = Annotated[float, Meta(ge=0.1, le=600.0)]
MAX_EXPIRY_S = 90 * 86400


class BoxTable(Schema, frozen=True, kw_only=True):
    """`[box]`."""

    id: Text
    store: str = ""
    name: str = ""
    state_dir: str = "/var/lib/storelink"


class ApiTable(Schema, frozen=True, kw_only=True):
    """`[api]`; `allowed_hosts` and `allowed_origins` are checked entry by entry."""

    listen: str = "127.0.0.1"
    port: Port = 8470
    token: str = ""
    allowed_hosts: list[Any] = msgspec.field(default_factory=list)
    allowed_origins: list[Any] = msgspec.field(default_factory=list)
    max_connections: Annotated[int, Meta(ge=8, le=65536)] = 256
    max_websockets: Annotated[int, Meta(ge=1, le=65536)] = 64
    header_timeout_s: Annotated[float, Meta(ge=0.5, le=300.0)] = 10.0


class QueueTable(Schema, frozen=True, kw_only=True):
    """`[queue]`."""

    poll_interval_s: Annotated[float, Meta(ge=0.1, le=60.0)] = 2.0
    retention_days: Annotated[int, Meta(ge=1, le=3650)] = 30
    default_expiry_s: Annotated[int, Meta(ge=1, le=MAX_EXPIRY_S)] = 900
    expiry_by_template: dict[str, Annotated[int, Meta(ge=1, le=MAX_EXPIRY_S)]] = \
        msgspec.field(default_factory=dict)
    backoff_max_s: Annotated[float, Meta(ge=1.0, le=3600.0)] = 30.0
    max_depth: Annotated[int, Meta(ge=1, le=100_000)] = 500


class _PrinterTable(Schema, frozen=True, kw_only=True):
    id: Text
    profile: Text
    name: str = ""
    self_test_on_attach: bool = False


class TcpPrinter(_PrinterTable, frozen=True, kw_only=True, tag_field="transport", tag="tcp"):
    """`[[printers]]` with `transport = "tcp"`."""

    host: Text
    port: Port = 9100
    connect_timeout: Annotated[float, Meta(ge=0.1, le=60.0)] = 3.0
    write_timeout: Seconds = 10.0


class SerialPrinter(_PrinterTable, frozen=True, kw_only=True, tag_field="transport", tag="serial"):
    """`[[printers]]` with `transport = "serial"`."""

    device: Text
    baudrate: Annotated[int, Meta(ge=1200, le=921600)] = 9600
    flow: Flow = "none"
    write_timeout: Seconds = 10.0


class UsbPrinter(_PrinterTable, frozen=True, kw_only=True, tag_field="transport", tag="usb"):
    """`[[printers]]` with `transport = "usb"`."""

    vendor_id: Annotated[int, Meta(ge=0, le=0xFFFF)]
    product_id: Annotated[int, Meta(ge=0, le=0xFFFF)]
    serial: str | None = None
    port_path: str | None = None
    interface: Annotated[int, Meta(ge=0, le=15)] = 0
    in_ep: Annotated[int, Meta(ge=0x80, le=0x8F)] | None = None
    out_ep: Annotated[int, Meta(ge=0, le=0x0F)] | None = None


class FilePrinter(_PrinterTable, frozen=True, kw_only=True, tag_field="transport", tag="file"):
    """`[[printers]]` with `transport = "file"`."""

    path: Text


PrinterTable = TcpPrinter | SerialPrinter | UsbPrinter | FilePrinter
TABLES = {"box", "api", "queue", "printers", "profiles", "scanners", "displays", "scales",
          "scale_protocols", "variable_measure", "stations", "discovery", "journal", "sync",
          "health", "pairing"}


def _target(t: PrinterTable, path: str, problems: list[Problem]) -> Target | None:
    try:
        if isinstance(t, TcpPrinter):
            return TcpTarget(t.host, t.port, t.connect_timeout, t.write_timeout)
        if isinstance(t, SerialPrinter):
            return SerialTarget(t.device, baudrate=t.baudrate, flow=t.flow,
                                write_timeout=t.write_timeout)
        if isinstance(t, UsbPrinter):
            return UsbTarget(t.vendor_id, t.product_id, serial=t.serial, port_path=t.port_path,
                             interface=t.interface, in_ep=t.in_ep, out_ep=t.out_ep)
        return FileTarget(t.path)
    except InvalidInput as e:
        # The target re-checks its values (rules a schema cannot say).
        problems.append(Problem(f"{path}.{e.field}", e.reason))
        return None


def _text(raw: object, key: str) -> str | None:
    v = raw.get(key) if isinstance(raw, Mapping) else None
    return v if isinstance(v, str) else None


def _printers(raw: Mapping[str, object], profiles: Mapping[str, PrinterProfile],
              problems: list[Problem]) -> list[PrinterConfig]:
    printers: list[PrinterConfig] = []
    seen: set[str] = set()
    items = collect_items(raw.get("printers"), PrinterTable, problems, "printers")
    for i, (item, table) in enumerate(items):
        path = f"printers[{i}]"
        pid = _text(item, "id")
        if pid is not None and pid in seen:
            problems.append(Problem(f"{path}.id", f"duplicate printer id {pid!r}"))
        if pid:
            seen.add(pid)
            if not all(c.isalnum() or c in "-_" for c in pid):
                problems.append(Problem(f"{path}.id", "only letters, digits, - and _"))
        pname = _text(item, "profile")
        profile = (profiles.get(pname) or builtin_profiles().get(pname)) if pname else None
        if profile is None and pname:
            known = ", ".join(sorted({*builtin_profiles(), *profiles}))
            problems.append(Problem(f"{path}.profile",
                                    f"unknown profile {pname!r} (known: {known})"))
        target = _target(table, path, problems) if table is not None else None
        if table is not None and profile is not None and target is not None:
            printers.append(PrinterConfig(table.id, profile, target, table.name,
                                          table.self_test_on_attach))
    return printers


def _profiles(raw: Mapping[str, object], problems: list[Problem]) -> dict[str, PrinterProfile]:
    profiles: dict[str, PrinterProfile] = {}
    praw = raw.get("profiles", {})
    if not isinstance(praw, Mapping):
        problems.append(convert_problem(praw, dict[str, Any], "profiles"))
        return profiles
    for name, body in praw.items():
        path = f"profiles.{name}"
        if not isinstance(body, Mapping):
            problems.append(convert_problem(body, dict[str, Any], path))
            continue
        base_name = body.get("base")
        base = None
        if base_name is not None:
            base = builtin_profiles().get(base_name) if isinstance(base_name, str) else None
            if base is None:
                problems.append(Problem(f"{path}.base",
                                        f"unknown built-in profile {base_name!r}"))
        try:
            profiles[name] = profile_from_mapping(name, body, path, base)
        except InvalidInput as e:
            problems.append(Problem(e.field, e.reason))
    return profiles

def _api(raw: Mapping[str, object], problems: list[Problem]) -> ApiConfig:
    """`[api]`: the table's schema, then the rules between its keys (token, caps)."""
    a = collect(raw.get("api", {}), ApiTable, problems, "api")
    # The token rule holds whatever else is wrong in the table.
    token = _text(raw.get("api"), "token") or ""
    if token:
        weak = token_weakness(token)
        if weak is not None:
            problems.append(Problem("api.token", weak))
    elif not is_loopback(_text(raw.get("api"), "listen") or "127.0.0.1"):
        problems.append(Problem("api.token", "a token is required when api.listen is not a "
                                f"loopback address; {HOW_TO_MAKE}"))
    if a is None:
        return ApiConfig()
    errors: list[str] = []
    table = {"allowed_hosts": a.allowed_hosts, "allowed_origins": a.allowed_origins}
    hosts = allowed_names(table, "allowed_hosts", "api", errors, origins=False)
    origins = allowed_names(table, "allowed_origins", "api", errors, origins=True)
    problems.extend(Problem(*e.split(": ", 1)) for e in errors)
    if a.max_websockets >= a.max_connections:
        problems.append(Problem("api.max_websockets", "must be below api.max_connections (the "
                                "rest serve requests such as /v1/health)"))
    return ApiConfig(a.listen, a.port, a.token, hosts, origins, a.max_connections,
                     a.max_websockets, a.header_timeout_s)


def parse_config(raw: Mapping[str, object], source: Path | None = None) -> Config:
    """Validate a parsed TOML document into a Config; ConfigError lists every error."""
    problems = unknown_keys(raw, TABLES, "")
    b = collect(raw.get("box", {}), BoxTable, problems, "box")
    api = _api(raw, problems)
    q = collect(raw.get("queue", {}), QueueTable, problems, "queue")
    queue = QueueConfig() if q is None else QueueConfig(
        q.poll_interval_s, q.retention_days, q.default_expiry_s,
        {"receipt": 900, "sales_slip": 86400, "picking_list": 86400, **q.expiry_by_template},
        q.backoff_max_s, q.max_depth)
    profiles = _profiles(raw, problems)
    printers = _printers(raw, profiles, problems)
    scanners = parse_scanners(raw, problems)
    displays = parse_displays(raw, problems)
    scales = parse_scales(raw, problems)
    variable_measure = parse_variable_measure(raw, problems)
    discovery = parse_discovery(raw, problems)
    journal = parse_journal(raw, {p.id: p.profile.language for p in printers}, problems)
    health = parse_health(raw, problems)
    stations = parse_stations(raw, problems, {sc.id for sc in scanners},
                              {p.id for p in printers}, {d.id for d in displays},
                              frozenset(p.id for p in printers if p.profile.beep))
    pairing = parse_pairing(raw.get("pairing"), {p.id for p in printers}, problems)
    errors = [str(p) for p in problems]
    sync = parse_sync_table(raw.get("sync", {}), errors)
    box_id = _text(raw.get("box"), "id")
    if sync is not None and box_id and not BOX_ID.match(box_id):
        errors.append("box.id: must be 1-64 of A-Z a-z 0-9 _ - to be used in MQTT topics")
    if errors or b is None:
        raise ConfigError(errors)
    box = BoxConfig(b.id, b.store, b.name, Path(b.state_dir))
    return Config(box, api, queue, tuple(printers), profiles, source, scanners=scanners,
                  displays=displays, scales=scales, variable_measure=variable_measure,
                  discovery=discovery, journal=journal, sync=sync,
                  health=health, stations=stations, pairing=pairing)


def load_config(path: Path) -> Config:
    """Read and validate a TOML file; ConfigError on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([f"{path}: {e.strerror}"]) from None
    try:
        raw = tomllib.loads(text)
    except ValueError as e:
        # TOMLDecodeError, or an integer too long to convert (over 4300 digits).
        raise ConfigError([f"{path}: not valid TOML: {e}"]) from None
    if "sync" not in raw and "pairing" in raw:
        # What HQ answered at adoption stands in for a [sync] written by hand.
        paired = paired_sync(raw)
        if paired is not None:
            raw = {**raw, "sync": paired}
    return parse_config(raw, path)
