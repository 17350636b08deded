"""The `[[scales]]` and `[scale_protocols.NAME]` tables of the box configuration."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers import InvalidInput
from drivers.scale.protocol import ScaleProtocol, builtin_protocols, protocols_with

if TYPE_CHECKING:
    from agent.config import _Reader

_ID_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
_KEYS = {"id", "name", "device", "protocol", "baudrate", "poll_interval_ms", "offline_after_ms",
         "fresh_ms"}


@dataclass(frozen=True)
class ScaleConfig:
    """One serial scale: the port the configuration names (never probed) and its protocol."""

    id: str
    device: str
    protocol: ScaleProtocol
    name: str = ""
    baudrate: int = 9600
    poll_interval_ms: int = 200
    offline_after_ms: int = 3000
    """No valid frame for this long on an open port: the scale is shown offline."""
    fresh_ms: int = 1000
    """A reading older than this does not answer a weight request."""


def parse_scale_protocols(r: _Reader, raw: Mapping[str, object]) -> dict[str, ScaleProtocol]:
    """Built-in protocols plus `[scale_protocols.NAME]`; errors name the dotted key."""
    user = r.table(raw, "scale_protocols", "scale_protocols")
    try:
        return protocols_with(user)
    except InvalidInput as e:
        r.errors.append(f"{e.field}: {e.reason}")
        return dict(builtin_protocols())


def parse_scales(r: _Reader, raw: Mapping[str, object]) -> tuple[ScaleConfig, ...]:
    """The `[[scales]]` array: each names its port (prefer /dev/serial/by-id/…) and protocol."""
    protocols = parse_scale_protocols(r, raw)
    value = raw.get("scales", [])
    if not isinstance(value, list):
        r.errors.append("scales: must be an array of tables ([[scales]])")
        return ()
    out: list[ScaleConfig] = []
    seen: set[str] = set()
    for i, s in enumerate(value):
        path = f"scales[{i}]"
        if not isinstance(s, Mapping):
            r.errors.append(f"{path}: must be a table")
            continue
        before = len(r.errors)
        r.unknown(s, path, _KEYS)
        sid = r.text(s, "id", path, required=True)
        if sid and not _ID_CHARS.match(sid):
            r.errors.append(f"{path}.id: only letters, digits, - and _")
        if sid in seen:
            r.errors.append(f"{path}.id: duplicate scale id {sid!r}")
        seen.add(sid)
        device = r.text(s, "device", path, required=True)
        if device == "" and "device" in s:
            pass  # reported as required
        name = r.text(s, "protocol", path, required=True)
        proto = protocols.get(name)
        if proto is None and name:
            r.errors.append(f"{path}.protocol: unknown protocol {name!r}; known: "
                            f"{', '.join(sorted(protocols))}")
        poll = r.integer(s, "poll_interval_ms", path,
                         proto.poll_interval_ms if proto else 200, 20, 60_000)
        cfg = ScaleConfig(
            id=sid, device=device, protocol=proto or ScaleProtocol("none"),
            name=r.text(s, "name", path, ""),
            baudrate=r.integer(s, "baudrate", path, proto.baudrate if proto else 9600,
                               300, 921600),
            poll_interval_ms=poll,
            offline_after_ms=r.integer(s, "offline_after_ms", path, 3000, 100, 600_000),
            fresh_ms=r.integer(s, "fresh_ms", path, 1000, 50, 60_000))
        if len(r.errors) == before:
            out.append(cfg)
    return tuple(out)
