"""One scan's answer: what was found, what is configured and matched (and why), and suggestions.

Pure: built from the values a scan read; `storelink devices` and GET /v1/devices print it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from agent.devices.classify import Classification, UsbDescriptor, classify, language_of
from agent.devices.matching import (
    Match,
    MatchState,
    NetService,
    SerialEntry,
    Wanted,
    match_path,
    match_tcp,
    match_usb,
    resolve_conflicts,
)

PROFILE_FOR = {"escpos": "generic-cn-80", "tspl": "tspl-203", "zpl": "zpl-203"}
PRINTER_SERVICES = ("_pdl-datastream._tcp.local.", "_printer._tcp.local.", "_ipp._tcp.local.")
RAW_PRINT_PORT = 9100


@dataclass(frozen=True)
class Found:
    """One device a scan found: its stable key, kind, why it was classified so, and config refs."""

    key: str
    bus: str
    kind: str
    detail: str | None
    title: str
    why: tuple[str, ...]
    attrs: Mapping[str, object]
    configured_as: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        """The JSON shape of GET /v1/devices."""
        return {"key": self.key, "bus": self.bus, "kind": self.kind, "detail": self.detail,
                "title": self.title, "why": list(self.why), **self.attrs,
                "configured_as": list(self.configured_as)}


@dataclass(frozen=True)
class ConfiguredStatus:
    """One configured device and what the scan made of it."""

    ref: str
    role: str
    identity: str
    state: MatchState
    device: str | None
    why: str

    def as_json(self) -> dict[str, object]:
        """The JSON shape of GET /v1/devices."""
        return {"ref": self.ref, "role": self.role, "identity": self.identity,
                "state": self.state, "device": self.device, "why": self.why}


@dataclass(frozen=True)
class Suggestion:
    """A found device nobody configured, with a configuration snippet ready to paste."""

    device: str
    title: str
    why: str
    toml: str

    def as_json(self) -> dict[str, object]:
        """The JSON shape of GET /v1/devices."""
        return {"device": self.device, "title": self.title, "why": self.why, "toml": self.toml}


@dataclass(frozen=True)
class DeviceReport:
    """The whole answer of one scan; `sources` says per bus whether it could be read."""

    found: tuple[Found, ...]
    configured: tuple[ConfiguredStatus, ...]
    suggestions: tuple[Suggestion, ...]
    sources: Mapping[str, str]
    scanned_ms: int
    usb: tuple[UsbDescriptor, ...] = field(default=(), compare=False)

    def as_json(self) -> dict[str, object]:
        """{"found": […], "configured": […], "suggestions": […], "sources": {…}, "scanned_ms"}."""
        return {"found": [f.as_json() for f in self.found],
                "configured": [c.as_json() for c in self.configured],
                "suggestions": [s.as_json() for s in self.suggestions],
                "sources": dict(self.sources), "scanned_ms": self.scanned_ms}


def _usb_title(d: UsbDescriptor, c: Classification) -> str:
    name = " ".join(x for x in (d.manufacturer, d.product) if x) or c.maker or "USB device"
    return f"{name} ({d.ids})"


def _usb_found(d: UsbDescriptor, c: Classification, tty: str | None) -> Found:
    attrs: dict[str, object] = {"vendor_id": f"{d.vendor_id:04x}",
                                "product_id": f"{d.product_id:04x}", "serial": d.serial,
                                "port_path": d.port_path, "manufacturer": d.manufacturer,
                                "product": d.product, "device_id": d.device_id}
    if tty is not None:
        attrs["tty"] = tty
    return Found(d.key, "usb", c.kind, c.detail, _usb_title(d, c), c.reasons, attrs)


def build_report(wanted: Sequence[Wanted], usb: Sequence[UsbDescriptor],
                 serial: Sequence[SerialEntry], services: Sequence[NetService],
                 paths: Mapping[str, str | None], sources: Mapping[str, str],
                 scanned_ms: int, taken_ids: Sequence[str] = ()) -> DeviceReport:
    """Classify, match and suggest; the result does not depend on the order of any input."""
    usb = sorted(usb, key=lambda d: d.key)
    serial = sorted(serial, key=lambda e: e.path)
    services = sorted(services, key=lambda s: (s.host, s.type, s.name))
    classes = {d.key: classify(d) for d in usb}
    tty_of = {e.port_path: e for e in serial if e.port_path}
    usb_of = {d.port_path: d for d in usb if d.port_path}
    matches: dict[str, Match] = {}
    for w in wanted:
        if w.bus == "usb":
            matches[w.ref] = match_usb(w, usb)
        elif w.bus == "tcp":
            matches[w.ref] = match_tcp(w, services)
        else:
            matches[w.ref] = match_path(w, serial, paths)
    matches = resolve_conflicts(matches)
    refs: dict[str, list[str]] = {}
    for w in wanted:
        m = matches[w.ref]
        if m.key is not None and m.state in ("matched", "ambiguous"):
            refs.setdefault(m.key, []).append(w.ref)
    found: list[Found] = []
    for d in usb:
        entry = tty_of.get(d.port_path) if d.port_path else None
        f = _usb_found(d, classes[d.key], entry.path if entry else None)
        linked = refs.get(entry.key, []) if entry else []
        found.append(_with_refs(f, refs.get(d.key, []) + linked))
    for e in serial:
        dev = usb_of.get(e.port_path) if e.port_path else None
        c = classes[dev.key] if dev else None
        title = f"{_usb_title(dev, c)} serial port" if dev and c else "USB serial port"
        attrs: dict[str, object] = {"path": e.path, "target": e.target, "port_path": e.port_path}
        if dev is not None:
            attrs["usb"] = dev.key
        why = (c.reasons if c else ()) + (f"{e.path} → {e.target}",)
        found.append(_with_refs(Found(e.key, "serial", c.kind if c else "serial_port",
                                      c.detail if c else None, title, why, attrs),
                                refs.get(e.key, [])))
    found += _network_found(services, refs)
    configured = tuple(ConfiguredStatus(w.ref, w.role, w.identity, matches[w.ref].state,
                                        matches[w.ref].key, matches[w.ref].why) for w in wanted)
    suggestions = suggest(found, [*taken_ids, *(w.ref.split(".", 1)[1] for w in wanted)])
    return DeviceReport(tuple(found), configured, suggestions, dict(sources), scanned_ms,
                        tuple(usb))


def _with_refs(f: Found, refs: Sequence[str]) -> Found:
    return Found(f.key, f.bus, f.kind, f.detail, f.title, f.why, f.attrs, tuple(refs))


def _network_found(services: Sequence[NetService], refs: Mapping[str, list[str]]) -> list[Found]:
    by_host: dict[str, list[NetService]] = {}
    for s in services:
        by_host.setdefault(s.host, []).append(s)
    out: list[Found] = []
    for host, group in sorted(by_host.items()):
        printers = [s for s in group if s.type in PRINTER_SERVICES]
        raw = next((s for s in printers if s.type == PRINTER_SERVICES[0]), None)
        txt = next((s.txt for s in printers if s.txt), {})
        language = _net_language(txt)
        kind = "printer" if printers else "box" if any(
            s.type == "_storelink._tcp.local." for s in group) else "other"
        name = txt.get("ty") or (group[0].name.split("._", 1)[0])
        why = tuple(f"advertises {s.type.removesuffix('.local.')} as {s.name!r} on port {s.port}"
                    for s in group)
        attrs: dict[str, object] = {
            "host": host, "port": raw.port if raw else None,
            "services": [{"type": s.type, "name": s.name, "port": s.port, "txt": dict(s.txt)}
                         for s in group]}
        out.append(Found(f"net:{host}", "network", kind, language, f"{name} ({host})", why,
                         attrs, tuple(refs.get(f"net:{host}", []))))
    return out


def _net_language(txt: Mapping[str, str]) -> str | None:
    for key in ("usb_CMD", "CMD", "pdl"):
        if txt.get(key):
            lang = language_of(txt[key])
            if lang is not None:
                return lang
    return None


def toml_string(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


class _Ids:
    """Fresh ids "printer-1", "scanner-2", … that no configured device uses."""

    def __init__(self, taken: Sequence[str]) -> None:
        self.taken = set(taken)

    def next(self, base: str) -> str:
        n = 1
        while f"{base}-{n}" in self.taken:
            n += 1
        self.taken.add(f"{base}-{n}")
        return f"{base}-{n}"


def _lines(table: str, values: Sequence[tuple[str, object, str]]) -> list[str]:
    out = [f"[[{table}]]"]
    for key, value, note in values:
        text = toml_string(value) if isinstance(value, str) else (
            f"{value:#06x}" if key.endswith("_id") and isinstance(value, int) else str(value))
        line = f"{key} = {text}"
        out.append(f"{line:<32}# {note}" if note else line)
    return out


def _usb_identity(f: Found) -> list[tuple[str, object, str]]:
    vals: list[tuple[str, object, str]] = [
        ("vendor_id", int(str(f.attrs["vendor_id"]), 16), ""),
        ("product_id", int(str(f.attrs["product_id"]), 16), "")]
    if f.attrs.get("serial"):
        vals.append(("serial", str(f.attrs["serial"]), "this unit, even beside an identical one"))
    elif f.attrs.get("port_path"):
        vals.append(("port_path", str(f.attrs["port_path"]),
                     "no serial number: the USB port it is plugged into"))
    return vals


def _printer_snippet(f: Found, pid: str) -> list[str]:
    profile = PROFILE_FOR.get(f.detail or "")
    note = "" if profile else f"command set {f.detail or 'unknown'}: check the profile"
    head: list[tuple[str, object, str]] = [("id", pid, "rename as you like"),
                                           ("name", f.title, ""),
                                           ("profile", profile or "generic-cn-80", note)]
    if f.bus == "usb":
        return _lines("printers", [*head, ("transport", "usb", ""), *_usb_identity(f)])
    if f.bus == "serial":
        return _lines("printers", [*head, ("transport", "serial", ""),
                                   ("device", str(f.attrs["path"]), ""),
                                   ("baudrate", 9600, "the printer's setting")])
    port = f.attrs.get("port") or RAW_PRINT_PORT
    return _lines("printers", [*head, ("transport", "tcp", ""),
                               ("host", str(f.attrs["host"]), ""),
                               ("port", port, "raw printing (9100 unless advertised)")])


def _scanner_snippet(f: Found, sid: str, kind: str) -> list[str]:
    head: list[tuple[str, object, str]] = [("id", sid, "rename as you like"),
                                           ("name", f.title, ""), ("kind", kind, "")]
    if kind == "serial":
        return _lines("scanners", [*head, ("device", str(f.attrs["path"]), ""),
                                   ("baudrate", 9600, "the scanner's setting"),
                                   ("terminator", "CR", "CR | LF | CRLF | TAB | NONE")])
    return _lines("scanners", [*head, *_usb_identity(f)])


def _scale_snippet(f: Found, sid: str) -> list[str]:
    return _lines("scales", [("id", sid, "rename as you like"), ("name", f.title, ""),
                             ("device", str(f.attrs["path"]), ""),
                             ("protocol", "ad-continuous",
                              "toledo-8217 | ad-continuous | yousheng-jcs | your own")])


def _commented(lines: list[str]) -> list[str]:
    return [f"# {line}" for line in lines]


def suggest(found: Sequence[Found], taken: Sequence[str]) -> tuple[Suggestion, ...]:
    """A snippet for each found printer or scanner no configured device matched."""
    ids = _Ids(taken)
    out: list[Suggestion] = []
    for f in found:
        if f.configured_as or (f.bus == "usb" and f.attrs.get("tty")):
            continue  # configured, or suggested through its /dev/serial/by-id name
        why = "; ".join(f.why)
        lines: list[str] = []
        if f.kind == "printer":
            lines = _printer_snippet(f, ids.next("printer"))
        elif f.kind == "scanner" and f.bus == "usb" and f.detail in ("hid", "hid_pos"):
            lines = _scanner_snippet(f, ids.next("scanner"), f.detail or "hid")
        elif f.kind == "scanner" and f.bus == "serial":
            lines = _scanner_snippet(f, ids.next("scanner"), "serial")
        elif f.kind == "keyboard" and f.bus == "usb":
            lines = ["# a HID boot keyboard; if it is a keyboard-wedge scanner:",
                     *_commented(_scanner_snippet(f, ids.next("scanner"), "hid"))]
        elif f.bus == "serial":
            lines = ["# a serial port; what is behind it is not probed. A scanner:",
                     *_commented(_scanner_snippet(f, ids.next("scanner"), "serial")),
                     "# or a printer:",
                     *_commented(_printer_snippet(f, ids.next("printer"))),
                     "# or a scale (秤; its protocol is not guessed either):",
                     *_commented(_scale_snippet(f, ids.next("scale")))]
        if lines:
            out.append(Suggestion(f.key, f.title, why, "\n".join(lines) + "\n"))
    return tuple(out)
