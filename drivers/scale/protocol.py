"""Scale protocols as data: built-ins from protocols.toml, user protocols layered on top."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Literal

from drivers import InvalidInput

Mode = Literal["poll", "continuous"]
FLAG_NAMES = ("stable", "motion", "overload", "under_zero", "negative", "net")
STATUS_WORDS = ("stable", "motion", "overload")
UNITS = ("kg", "g", "lb", "oz")
_GROUPS = frozenset({"weight", "unit", "status", "flags", "kind", "sign"})


@dataclass(frozen=True)
class ScaleProtocol:
    """How one scale family talks: line settings, framing, commands and frame patterns."""

    name: str
    description: str = ""
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1
    mode: Mode = "continuous"
    poll: bytes = b""
    poll_interval_ms: int = 200
    zero: bytes = b""
    tare: bytes = b""
    frame_end: bytes = b"\r\n"
    frame_start: bytes = b""
    frame_length: int = 0
    max_frame: int = 64
    patterns: tuple[re.Pattern[bytes], ...] = ()
    unit: str = "kg"
    weight_format: Literal["ascii", "bcd_le"] = "ascii"
    decimals: int = 0
    decimal_bits: tuple[int, int] | None = None
    decimal_offset: int = 0
    status_words: Mapping[str, str] = field(default_factory=dict)
    flag_bits: Mapping[str, int] = field(default_factory=dict)
    unit_codes: Mapping[bytes, str] = field(default_factory=dict)


def _bytes(v: object, p: str, *, empty: bool = True) -> bytes:
    if not isinstance(v, str):
        raise InvalidInput(p, "must be a string")
    try:
        data = v.encode("latin-1")
    except UnicodeEncodeError:
        raise InvalidInput(p, "must hold only characters U+0000 to U+00FF (bytes)") from None
    if not empty and not data:
        raise InvalidInput(p, "must not be empty")
    return data


def _int(v: object, p: str, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise InvalidInput(p, f"must be an integer {lo}-{hi}")
    return v


def _choice(v: object, p: str, options: tuple[str, ...]) -> str:
    if v not in options:
        raise InvalidInput(p, f"must be one of {', '.join(options)}")
    return str(v)


def _table(v: object, p: str) -> Mapping[str, object]:
    if not isinstance(v, Mapping):
        raise InvalidInput(p, "must be a table")
    return v


def _patterns(v: object, p: str) -> tuple[re.Pattern[bytes], ...]:
    if not isinstance(v, list) or not v:
        raise InvalidInput(p, "must be a non-empty list of regular expressions")
    out = []
    for i, raw in enumerate(v):
        source = _bytes(raw, f"{p}[{i}]", empty=False)
        try:
            rx = re.compile(source, re.DOTALL)
        except re.error as e:
            raise InvalidInput(f"{p}[{i}]", f"is not a regular expression: {e}") from None
        unknown = set(rx.groupindex) - _GROUPS
        if unknown:
            raise InvalidInput(f"{p}[{i}]", f"unknown group {sorted(unknown)[0]!r}; groups are "
                               f"{', '.join(sorted(_GROUPS))}")
        if not {"weight", "status", "flags"} & set(rx.groupindex):
            raise InvalidInput(f"{p}[{i}]", "needs a weight, status or flags group")
        out.append(rx)
    return tuple(out)


_INT_RANGES = {"baudrate": (300, 921600), "bytesize": (7, 8), "stopbits": (1, 2),
               "poll_interval_ms": (20, 60_000), "frame_length": (0, 256), "max_frame": (4, 1024),
               "decimals": (0, 6), "decimal_offset": (-8, 8)}
_CHOICES = {"parity": ("N", "E", "O"), "mode": ("poll", "continuous"),
            "weight_format": ("ascii", "bcd_le"), "unit": UNITS}
_BYTE_KEYS = ("poll", "zero", "tare", "frame_end", "frame_start")


def _scalar(key: str, v: object, p: str) -> object:
    if key == "description":
        if not isinstance(v, str):
            raise InvalidInput(p, "must be a string")
        return v
    if key in _INT_RANGES:
        return _int(v, p, *_INT_RANGES[key])
    if key in _CHOICES:
        return _choice(v, p, _CHOICES[key])
    if key in _BYTE_KEYS:
        return _bytes(v, p)
    raise InvalidInput(p, "unknown key")


def _value(key: str, v: object, p: str) -> object:
    if key == "patterns":
        return _patterns(v, p)
    if key == "decimal_bits":
        if not isinstance(v, list) or len(v) != 2:
            raise InvalidInput(p, "must be [lowest bit, width]")
        return (_int(v[0], f"{p}[0]", 0, 7), _int(v[1], f"{p}[1]", 1, 8))
    if key == "status_words":
        return {str(w): _choice(s, f"{p}.{w}", STATUS_WORDS) for w, s in _table(v, p).items()}
    if key == "flag_bits":
        out = {}
        for name, bit in _table(v, p).items():
            _choice(name, f"{p}.{name}", FLAG_NAMES)
            out[str(name)] = _int(bit, f"{p}.{name}", 0, 7)
        return out
    if key == "unit_codes":
        return {_bytes(c, f"{p}.{c}", empty=False): _choice(u, f"{p}.{c}", UNITS)
                for c, u in _table(v, p).items()}
    return _scalar(key, v, p)


def protocol_from_mapping(name: str, raw: Mapping[str, object], path: str,
                          base: ScaleProtocol | None = None) -> ScaleProtocol:
    """Build a protocol from TOML values over `base`; InvalidInput names `path.key`."""
    values: dict[str, object] = {}
    if base is not None:
        values = {k: getattr(base, k) for k in ScaleProtocol.__dataclass_fields__}
    values["name"] = name
    for key, v in raw.items():
        if key == "base":
            continue
        values[key] = _value(key, v, f"{path}.{key}")
    proto = ScaleProtocol(**values)  # type: ignore[arg-type]
    if not proto.patterns:
        raise InvalidInput(f"{path}.patterns", "is required")
    if proto.mode == "poll" and not proto.poll:
        raise InvalidInput(f"{path}.poll", "is required in poll mode")
    if proto.frame_length and not proto.frame_start:
        raise InvalidInput(f"{path}.frame_start", "is required with frame_length")
    if not proto.frame_length and not proto.frame_end:
        raise InvalidInput(f"{path}.frame_end", "give frame_end, or frame_start and "
                           "frame_length")
    if proto.frame_length > proto.max_frame:
        raise InvalidInput(f"{path}.frame_length", "exceeds max_frame")
    return proto


@lru_cache(maxsize=1)
def builtin_protocols() -> dict[str, ScaleProtocol]:
    """The protocols shipped in drivers/scale/protocols.toml."""
    text = resources.files("drivers.scale").joinpath("protocols.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    return {name: protocol_from_mapping(name, _table(body, name), name)
            for name, body in raw.items()}


def protocols_with(user: Mapping[str, object], path: str = "scale_protocols"
                   ) -> dict[str, ScaleProtocol]:
    """Built-ins plus the user's `[scale_protocols.NAME]` tables (optionally `base = …`)."""
    out = dict(builtin_protocols())
    for name, body in user.items():
        p = f"{path}.{name}"
        table = _table(body, p)
        base_name = table.get("base")
        base = None
        if base_name is not None:
            base = out.get(str(base_name))
            if base is None:
                raise InvalidInput(f"{p}.base", f"no protocol {base_name!r}")
        out[name] = protocol_from_mapping(name, table, p, base)
    return out
