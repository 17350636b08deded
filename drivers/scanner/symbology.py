"""AIM symbology identifiers (ISO/IEC 15424: "]" + code letter + modifier) to symbology names."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Code letter -> symbology name, per ISO/IEC 15424 / AIM identifier table.
_LETTERS: dict[str, str] = {
    "A": "CODE39",
    "B": "TELEPEN",
    "C": "CODE128",
    "D": "CODE1",
    "E": "EAN13",
    "F": "CODABAR",
    "G": "CODE93",
    "H": "CODE11",
    "I": "ITF",
    "J": "DOTCODE",
    "K": "CODE16K",
    "L": "PDF417",
    "M": "MSI",
    "N": "ANKER",
    "O": "CODABLOCK",
    "P": "PLESSEY",
    "Q": "QR",
    "R": "STRAIGHT2OF5",
    "S": "STRAIGHT2OF5",
    "U": "MAXICODE",
    "X": "OTHER",
    "Z": "NONBARCODE",
    "d": "DATAMATRIX",
    "e": "GS1-DATABAR",
    "h": "HANXIN",
    "z": "AZTEC",
}

# Identifiers whose modifier changes the name, and those that announce GS1 element strings
# (FNC1 in first position).
_EXACT: dict[str, str] = {
    "]C1": "GS1-128",
    "]E1": "EAN2",
    "]E2": "EAN5",
    "]E4": "EAN8",
    "]Q0": "QR-MODEL1",
    "]Q3": "GS1-QR",
    "]Q4": "GS1-QR",
    "]d2": "GS1-DATAMATRIX",
    "]d5": "GS1-DATAMATRIX",
    "]z1": "GS1-AZTEC",
    "]z4": "GS1-AZTEC",
    "]J1": "GS1-DOTCODE",
}
_GS1 = frozenset({"]C1", "]Q3", "]Q4", "]d2", "]d5", "]z1", "]z4", "]J1"})
_PATTERN = re.compile(r"\][A-Za-z][0-9A-Za-z]")


@dataclass(frozen=True)
class Aim:
    """A parsed AIM identifier: the three characters, the symbology name, and whether GS1."""

    identifier: str
    symbology: str
    gs1: bool


def lookup_aim(identifier: str) -> Aim | None:
    """The Aim for a three-character identifier like "]E0"; None if it is not a known one."""
    if not _PATTERN.fullmatch(identifier):
        return None
    name = _EXACT.get(identifier) or _LETTERS.get(identifier[1])
    if name is None:
        return None
    gs1 = identifier in _GS1 or identifier[1] == "e"
    return Aim(identifier, name, gs1)


def split_aim(text: str) -> tuple[Aim | None, str]:
    """Split a leading AIM identifier off scanned text: (Aim, rest), or (None, text) if absent."""
    aim = lookup_aim(text[:3])
    if aim is None:
        return None, text
    return aim, text[3:]


def known_identifiers() -> dict[str, str]:
    """Every identifier this module names explicitly (exact ones and modifier 0 of each letter)."""
    table = {f"]{letter}0": name for letter, name in _LETTERS.items()}
    table.update(_EXACT)
    return dict(sorted(table.items()))
