"""The `[[scales]]` and `[scale_protocols.NAME]` tables of the box configuration."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from msgspec import Meta

from drivers import InvalidInput
from drivers.scale.protocol import ScaleProtocol, builtin_protocols, protocols_with
from validation import Problem, Schema
from validation.decode import collect_items, convert_problem

_ID_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
Text = Annotated[str, Meta(min_length=1)]


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


class ScaleTable(Schema, frozen=True, kw_only=True):
    """`[[scales]]`; `baudrate` and `poll_interval_ms` default to the protocol's."""

    id: Text
    device: Text
    protocol: Text
    name: str = ""
    baudrate: Annotated[int, Meta(ge=300, le=921600)] | None = None
    poll_interval_ms: Annotated[int, Meta(ge=20, le=60_000)] | None = None
    offline_after_ms: Annotated[int, Meta(ge=100, le=600_000)] = 3000
    fresh_ms: Annotated[int, Meta(ge=50, le=60_000)] = 1000


def parse_scale_protocols(raw: Mapping[str, object], problems: list[Problem]
                          ) -> dict[str, ScaleProtocol]:
    """Built-in protocols plus `[scale_protocols.NAME]`; problems name the dotted key."""
    user = raw.get("scale_protocols", {})
    if not isinstance(user, Mapping):
        problems.append(convert_problem(user, dict[str, Any], "scale_protocols"))
        return dict(builtin_protocols())
    try:
        return protocols_with(user)
    except InvalidInput as e:
        problems.append(Problem(e.field, e.reason))
        return dict(builtin_protocols())


def parse_scales(raw: Mapping[str, object], problems: list[Problem]) -> tuple[ScaleConfig, ...]:
    """The `[[scales]]` array: each names its port (prefer /dev/serial/by-id/…) and protocol."""
    protocols = parse_scale_protocols(raw, problems)
    out: list[ScaleConfig] = []
    seen: set[str] = set()
    for i, (item, s) in enumerate(collect_items(raw.get("scales"), ScaleTable, problems,
                                                 "scales")):
        path = f"scales[{i}]"
        before = len(problems)
        sid = item.get("id") if isinstance(item, Mapping) else None
        if isinstance(sid, str) and sid:
            if not _ID_CHARS.match(sid):
                problems.append(Problem(f"{path}.id", "only letters, digits, - and _"))
            if sid in seen:
                problems.append(Problem(f"{path}.id", f"duplicate scale id {sid!r}"))
            seen.add(sid)
        if s is None:
            continue
        proto = protocols.get(s.protocol)
        if proto is None:
            problems.append(Problem(f"{path}.protocol", f"unknown protocol {s.protocol!r}; "
                                    f"known: {', '.join(sorted(protocols))}"))
            continue
        if len(problems) == before:
            out.append(ScaleConfig(
                id=s.id, device=s.device, protocol=proto, name=s.name,
                baudrate=proto.baudrate if s.baudrate is None else s.baudrate,
                poll_interval_ms=(proto.poll_interval_ms if s.poll_interval_ms is None
                                  else s.poll_interval_ms),
                offline_after_ms=s.offline_after_ms, fresh_ms=s.fresh_ms))
    return tuple(out)
