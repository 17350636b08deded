"""Printer profiles as data: built-ins from profiles.toml, user profiles layered on top."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from importlib import resources
from typing import Literal

from drivers import InvalidInput

Language = Literal["escpos", "tspl", "zpl"]
DBCS_MODES = ("gb18030", "gbk", "big5", "utf8", "raster", "none")
LANGUAGES = ("escpos", "tspl", "zpl")


@dataclass(frozen=True)
class PrinterProfile:
    """What one printer model can do and how it wants its bytes."""

    name: str
    description: str = ""
    language: Language = "escpos"
    dpi: int = 203
    paper_dots: int = 576
    columns: int = 48
    columns_b: int = 64
    dbcs: str = "gb18030"
    kanji_toggle: bool = True
    code_pages: tuple[tuple[int, str], ...] = ((0, "cp437"),)
    cut: bool = True
    partial_cut: bool = True
    drawer: bool = True
    drawer_on_ms: int = 100
    drawer_off_ms: int = 200
    beep: bool = False
    native_qr: bool = True
    native_barcode: bool = True
    chunk_rows: int = 128
    chunk_pause_ms: int = 0
    label_cjk_font: str = ""


_INTS = {"dpi": (100, 600), "paper_dots": (64, 4096), "columns": (8, 255),
         "columns_b": (8, 255), "drawer_on_ms": (2, 510), "drawer_off_ms": (2, 510),
         "chunk_rows": (1, 4096), "chunk_pause_ms": (0, 5000)}
_BOOLS = {"kanji_toggle", "cut", "partial_cut", "drawer", "beep", "native_qr", "native_barcode"}
_STRS = {"description", "label_cjk_font"}


def profile_from_mapping(name: str, raw: Mapping[str, object], path: str,
                         base: PrinterProfile | None = None) -> PrinterProfile:
    """Build a profile from TOML/JSON values over `base`; errors name `path.key`."""
    known = {f.name for f in fields(PrinterProfile)} - {"name"}
    values: dict[str, object] = {}
    for key, v in raw.items():
        p = f"{path}.{key}"
        if key == "base":
            continue
        if key not in known:
            raise InvalidInput(p, "unknown key")
        if key in _INTS:
            lo, hi = _INTS[key]
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise InvalidInput(p, f"must be an integer {lo}-{hi}")
        elif key in _BOOLS:
            if not isinstance(v, bool):
                raise InvalidInput(p, "must be true or false")
        elif key in _STRS:
            if not isinstance(v, str):
                raise InvalidInput(p, "must be a string")
        elif key == "language":
            if v not in LANGUAGES:
                raise InvalidInput(p, f"must be one of {', '.join(LANGUAGES)}")
        elif key == "dbcs" and v not in DBCS_MODES:
            raise InvalidInput(p, f"must be one of {', '.join(DBCS_MODES)}")
        if key == "code_pages":
            values[key] = _code_pages(v, p)
        else:
            values[key] = v
    start = base if base is not None else PrinterProfile(name=name)
    return replace(start, name=name, **values)  # type: ignore[arg-type]


def _code_pages(v: object, p: str) -> tuple[tuple[int, str], ...]:
    if not isinstance(v, list) or not v:
        raise InvalidInput(p, "must be a non-empty list of [n, codec]")
    out = []
    for i, item in enumerate(v):
        if (not isinstance(item, list) or len(item) != 2 or isinstance(item[0], bool)
                or not isinstance(item[0], int) or not isinstance(item[1], str)
                or not 0 <= item[0] <= 255):
            raise InvalidInput(f"{p}[{i}]", "must be [n 0-255, codec name]")
        try:
            "a".encode(item[1])
        except LookupError:
            raise InvalidInput(f"{p}[{i}]", f"unknown codec {item[1]!r}") from None
        out.append((item[0], item[1]))
    return tuple(out)


@lru_cache(maxsize=1)
def builtin_profiles() -> Mapping[str, PrinterProfile]:
    """The profiles shipped in drivers/profiles.toml, by name."""
    text = resources.files("drivers").joinpath("profiles.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return {name: profile_from_mapping(name, body, f"profiles.{name}")
            for name, body in data.items()}


def get_profile(name: str, extra: Mapping[str, PrinterProfile] | None = None) -> PrinterProfile:
    """Look a profile up in `extra` first, then the built-ins; InvalidInput if unknown."""
    if extra and name in extra:
        return extra[name]
    try:
        return builtin_profiles()[name]
    except KeyError:
        known = sorted({*builtin_profiles(), *(extra or {})})
        raise InvalidInput("profile", f"unknown profile {name!r} (known: {', '.join(known)})") \
            from None
