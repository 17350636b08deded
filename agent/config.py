"""The box's configuration: TOML parsed once into frozen dataclasses; errors name dotted keys."""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agent import AgentError
from agent.devices.config import (
    DiscoveryConfig,
    DisplayConfig,
    ScannerConfig,
    parse_discovery,
    parse_displays,
    parse_scanners,
)
from agent.sales.config import JournalConfig, parse_journal
from agent.station.config import StationConfig, parse_stations
from agent.uplink.config import SyncConfig, parse_sync_table
from drivers import InvalidInput
from drivers.profiles import PrinterProfile, builtin_profiles, profile_from_mapping
from drivers.transports.file import FileTarget
from drivers.transports.serial_port import Flow, SerialTarget
from drivers.transports.tcp import TcpTarget
from drivers.transports.usb import UsbTarget
from sync.protocol.topics import BOX_ID

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


@dataclass(frozen=True)
class QueueConfig:
    """Print queue timing: status polling, expiry defaults per template, id retention."""

    poll_interval_s: float = 2.0
    retention_days: int = 30
    default_expiry_s: int = 900
    expiry_by_template: Mapping[str, int] = field(default_factory=dict)
    backoff_max_s: float = 30.0


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
    discovery: DiscoveryConfig = field(default_factory=DiscoveryConfig)
    journal: JournalConfig = field(default_factory=JournalConfig)
    sync: SyncConfig | None = None
    stations: tuple[StationConfig, ...] = ()

    def printer(self, printer_id: str) -> PrinterConfig | None:
        """The printer with this id, or None."""
        return next((p for p in self.printers if p.id == printer_id), None)


class _Reader:
    """Typed access to a TOML table that records errors instead of stopping at the first."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors

    def table(self, raw: Mapping[str, object], key: str, path: str) -> Mapping[str, object]:
        v = raw.get(key, {})
        if not isinstance(v, Mapping):
            self.errors.append(f"{path}: must be a table")
            return {}
        return v

    def unknown(self, raw: Mapping[str, object], path: str, allowed: set[str]) -> None:
        for k in raw:
            if k not in allowed:
                self.errors.append(f"{path}.{k}: unknown key" if path else f"{k}: unknown key")

    def text(self, raw: Mapping[str, object], key: str, path: str, default: str | None = None,
            required: bool = False) -> str:
        v = raw.get(key, default)
        if v is None or (required and v == ""):
            self.errors.append(f"{path}.{key}: is required")
            return ""
        if not isinstance(v, str):
            self.errors.append(f"{path}.{key}: must be a string")
            return default or ""
        return v

    def integer(self, raw: Mapping[str, object], key: str, path: str, default: int | None,
            lo: int, hi: int) -> int:
        v = raw.get(key, default)
        if v is None:
            self.errors.append(f"{path}.{key}: is required")
            return lo
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            self.errors.append(f"{path}.{key}: must be {lo}-{hi}")
            return default if default is not None else lo
        return v

    def number(self, raw: Mapping[str, object], key: str, path: str, default: float,
              lo: float, hi: float) -> float:
        v = raw.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi:
            self.errors.append(f"{path}.{key}: must be a number {lo}-{hi}")
            return default
        return float(v)

    def flag(self, raw: Mapping[str, object], key: str, path: str, default: bool) -> bool:
        v = raw.get(key, default)
        if not isinstance(v, bool):
            self.errors.append(f"{path}.{key}: must be true or false")
            return default
        return v


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _target(r: _Reader, raw: Mapping[str, object], path: str) -> Target | None:
    before = len(r.errors)
    try:
        target = _make_target(r, raw, path)
    except InvalidInput as e:
        # The target re-checks its values; report what the reader did not already name.
        key = f"{path}.{e.field}:"
        if not any(x.startswith(key) for x in r.errors[before:]):
            r.errors.append(f"{key} {e.reason}")
        return None
    return target


def _make_target(r: _Reader, raw: Mapping[str, object], path: str) -> Target | None:
    kind = raw.get("transport")
    common = {"id", "name", "profile", "transport", "self_test_on_attach"}
    if kind == "tcp":
        r.unknown(raw, path, common | {"host", "port", "connect_timeout", "write_timeout"})
        return TcpTarget(r.text(raw, "host", path, required=True),
                         r.integer(raw, "port", path, 9100, 1, 65535),
                         r.number(raw, "connect_timeout", path, 3.0, 0.1, 60.0),
                         r.number(raw, "write_timeout", path, 10.0, 0.1, 600.0))
    if kind == "serial":
        r.unknown(raw, path, common | {"device", "baudrate", "flow", "write_timeout"})
        flow_raw = r.text(raw, "flow", path, "none")
        flow: Flow = "none"
        if flow_raw in ("rtscts", "xonxoff", "dsrdtr"):
            flow = "rtscts" if flow_raw == "rtscts" else "xonxoff" if flow_raw == "xonxoff" \
                else "dsrdtr"
        elif flow_raw != "none":
            r.errors.append(f"{path}.flow: must be one of none, rtscts, xonxoff, dsrdtr")
        baud = r.integer(raw, "baudrate", path, 9600, 1200, 921600)
        return SerialTarget(r.text(raw, "device", path, required=True), baudrate=baud, flow=flow,
                            write_timeout=r.number(raw, "write_timeout", path, 10.0, 0.1, 600.0))
    if kind == "usb":
        r.unknown(raw, path, common | {"vendor_id", "product_id", "serial", "port_path",
                                       "interface", "in_ep", "out_ep"})
        serial = raw.get("serial")
        port_path = raw.get("port_path")
        in_ep = raw.get("in_ep")
        out_ep = raw.get("out_ep")
        return UsbTarget(r.integer(raw, "vendor_id", path, None, 0, 0xFFFF),
                         r.integer(raw, "product_id", path, None, 0, 0xFFFF),
                         serial=r.text(raw, "serial", path) if serial is not None else None,
                         port_path=r.text(raw, "port_path", path) if port_path is not None
                         else None,
                         interface=r.integer(raw, "interface", path, 0, 0, 15),
                         in_ep=r.integer(raw, "in_ep", path, 0x81, 0x80, 0x8F)
                         if in_ep is not None else None,
                         out_ep=r.integer(raw, "out_ep", path, 1, 0, 0x0F)
                         if out_ep is not None else None)
    if kind == "file":
        r.unknown(raw, path, common | {"path"})
        return FileTarget(r.text(raw, "path", path, required=True))
    r.errors.append(f"{path}.transport: must be one of tcp, serial, usb, file")
    return None


def parse_config(raw: Mapping[str, object], source: Path | None = None) -> Config:
    """Validate a parsed TOML document into a Config; ConfigError lists every error."""
    errors: list[str] = []
    r = _Reader(errors)
    r.unknown(raw, "", {"box", "api", "queue", "printers", "profiles", "scanners", "displays",
                        "stations", "discovery", "journal", "sync"})

    b = r.table(raw, "box", "box")
    r.unknown(b, "box", {"id", "store", "name", "state_dir"})
    box = BoxConfig(r.text(b, "id", "box", required=True), r.text(b, "store", "box", ""),
                    r.text(b, "name", "box", ""),
                    Path(r.text(b, "state_dir", "box", "/var/lib/storelink")))

    a = r.table(raw, "api", "api")
    r.unknown(a, "api", {"listen", "port", "token"})
    api = ApiConfig(r.text(a, "listen", "api", "127.0.0.1"),
                    r.integer(a, "port", "api", 8470, 1, 65535), r.text(a, "token", "api", ""))
    if not _is_loopback(api.listen) and len(api.token) < 16:
        errors.append("api.token: a token of at least 16 characters is required when api.listen "
                      "is not a loopback address")

    q = r.table(raw, "queue", "queue")
    r.unknown(q, "queue", {"poll_interval_s", "retention_days", "default_expiry_s",
                           "expiry_by_template", "backoff_max_s"})
    exp_raw = r.table(q, "expiry_by_template", "queue.expiry_by_template")
    expiry = {k: r.integer(exp_raw, k, "queue.expiry_by_template", None, 1, 90 * 86400)
              for k in exp_raw}
    queue = QueueConfig(r.number(q, "poll_interval_s", "queue", 2.0, 0.1, 60.0),
                        r.integer(q, "retention_days", "queue", 30, 1, 3650),
                        r.integer(q, "default_expiry_s", "queue", 900, 1, 90 * 86400),
                        {"receipt": 900, "sales_slip": 86400, "picking_list": 86400, **expiry},
                        r.number(q, "backoff_max_s", "queue", 30.0, 1.0, 3600.0))

    profiles: dict[str, PrinterProfile] = {}
    praw = r.table(raw, "profiles", "profiles")
    for name, body in praw.items():
        path = f"profiles.{name}"
        if not isinstance(body, Mapping):
            errors.append(f"{path}: must be a table")
            continue
        base_name = body.get("base")
        base = None
        if base_name is not None:
            base = builtin_profiles().get(base_name) if isinstance(base_name, str) else None
            if base is None:
                errors.append(f"{path}.base: unknown built-in profile {base_name!r}")
        try:
            profiles[name] = profile_from_mapping(name, body, path, base)
        except InvalidInput as e:
            errors.append(str(e))

    printers: list[PrinterConfig] = []
    plist = raw.get("printers", [])
    if not isinstance(plist, list):
        errors.append("printers: must be an array of tables ([[printers]])")
        plist = []
    seen: set[str] = set()
    for i, p in enumerate(plist):
        path = f"printers[{i}]"
        if not isinstance(p, Mapping):
            errors.append(f"{path}: must be a table")
            continue
        pid = r.text(p, "id", path, required=True)
        if pid in seen:
            errors.append(f"{path}.id: duplicate printer id {pid!r}")
        seen.add(pid)
        if pid and not all(c.isalnum() or c in "-_" for c in pid):
            errors.append(f"{path}.id: only letters, digits, - and _")
        pname = r.text(p, "profile", path, required=True)
        profile = profiles.get(pname) or builtin_profiles().get(pname)
        if profile is None and pname:
            known = ", ".join(sorted({*builtin_profiles(), *profiles}))
            errors.append(f"{path}.profile: unknown profile {pname!r} (known: {known})")
        target = _target(r, p, path)
        if profile is not None and target is not None:
            printers.append(PrinterConfig(pid, profile, target, r.text(p, "name", path, ""),
                                          r.flag(p, "self_test_on_attach", path, False)))
    scanners = parse_scanners(r, raw)
    displays = parse_displays(r, raw)
    discovery = parse_discovery(r, raw)
    journal = parse_journal(r, raw, {p.id: p for p in printers})
    stations = parse_stations(r, raw, {sc.id for sc in scanners}, {p.id for p in printers},
                              {d.id for d in displays})
    sync = parse_sync_table(r.table(raw, "sync", "sync"), errors)
    if sync is not None and box.id and not BOX_ID.match(box.id):
        errors.append("box.id: must be 1-64 of A-Z a-z 0-9 _ - to be used in MQTT topics")
    if errors:
        raise ConfigError(errors)
    return Config(box, api, queue, tuple(printers), profiles, source, scanners=scanners,
                  displays=displays, discovery=discovery, journal=journal, sync=sync,
                  stations=stations)


def load_config(path: Path) -> Config:
    """Read and validate a TOML file; ConfigError on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([f"{path}: {e.strerror}"]) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{path}: not valid TOML: {e}"]) from None
    return parse_config(raw, path)
