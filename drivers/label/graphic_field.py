"""ZPL `^GF` graphic field data: ASCII hex with ZPL's run-length compression, and its decoder.

Compression (ZPL II manual, "Alternative Data Compression Scheme"): a repeat count before a hex
digit, made of G–Y (1–19) and g–z (20–400 in steps of 20); ',' fills the rest of the row with
0, '!' with F; ':' repeats the previous row. The decoder also takes `:Z64:` and `:B64:` data.
"""

from __future__ import annotations

import base64
import binascii
import zlib

__all__ = ["GraphicFieldError", "compress_rows", "decode_field", "hex_rows"]

_HEX = "0123456789ABCDEF"


class GraphicFieldError(ValueError):
    """Graphic field data that cannot be decoded."""


def _count(n: int) -> str:
    """Count characters for a run of `n` (1 ≤ n ≤ 419)."""
    high, low = divmod(n, 20)
    return (chr(ord("f") + high) if high else "") + (chr(ord("F") + low) if low else "")


def _runs(row: str) -> str:
    out = []
    i = 0
    while i < len(row):
        j = i
        while j < len(row) and row[j] == row[i] and j - i < 419:
            j += 1
        n = j - i
        out.append(row[i] if n == 1 else _count(n) + row[i])
        i = j
    return "".join(out)


def compress_rows(data: bytes, width_bytes: int) -> str:
    """Compress raw rows (MSB first, 1 = black) into ZPL compressed ASCII hex."""
    out = []
    previous = None
    for start in range(0, len(data), width_bytes):
        row = data[start:start + width_bytes].hex().upper()
        if row == previous:
            out.append(":")
            continue
        previous = row
        stripped = row.rstrip("0")
        tail = ","
        if len(stripped) == len(row):
            stripped, tail = row.rstrip("F"), "!"
            if len(stripped) == len(row):
                tail = ""
        out.append(_runs(stripped) + tail)
    return "".join(out)


def hex_rows(text: str, width_bytes: int, total: int) -> bytes:
    """Decode (possibly compressed) ASCII hex into `total` bytes of `width_bytes`-byte rows.

    Short data is padded with white rows; characters outside the scheme raise GraphicFieldError.
    """
    if width_bytes <= 0 or total < 0:
        raise GraphicFieldError("bytes per row must be positive")
    row_hex = 2 * width_bytes
    out = bytearray()
    row: list[str] = []
    previous = "0" * row_hex
    count = 0

    def end_row() -> None:
        nonlocal previous
        previous = "".join(row)
        out.extend(bytes.fromhex(previous))
        row.clear()

    for ch in text:
        if len(out) >= total:
            break
        if ch in " \r\n\t":
            continue
        if "G" <= ch <= "Y":
            count += ord(ch) - ord("F")
        elif "g" <= ch <= "z":
            count += 20 * (ord(ch) - ord("f"))
        elif ch in _HEX or ch in "abcdef":
            n = max(count, 1)
            count = 0
            while n:
                take = min(n, row_hex - len(row))
                row.extend(ch.upper() * take)
                n -= take
                if len(row) == row_hex:
                    end_row()
                    if len(out) >= total:
                        break
        elif ch in ",!":
            row.extend(("0" if ch == "," else "F") * (row_hex - len(row)))
            end_row()
            count = 0
        elif ch == ":":
            row[:] = list(previous)
            end_row()
            count = 0
        else:
            raise GraphicFieldError(f"unexpected character {ch!r} in graphic data")
    if row:
        row.extend("0" * (row_hex - len(row)))
        end_row()
    out.extend(bytes(max(total - len(out), 0)))
    return bytes(out[:total])


def _b64(text: str, compressed: bool, total: int) -> bytes:
    body = text[5:].rsplit(":", 1)[0] if text.count(":") >= 3 else text[5:]
    try:
        raw = base64.b64decode(body, validate=False)
        if compressed:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(raw, total + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise GraphicFieldError("undecodable :Z64:/:B64: graphic data") from None
    return raw[:total] + bytes(max(total - len(raw), 0))


def decode_field(text: str, width_bytes: int, total: int) -> bytes:
    """Decode `^GFA` data of any supported encoding into `total` raw bytes."""
    if text.startswith(":Z64:"):
        return _b64(text, True, total)
    if text.startswith(":B64:"):
        return _b64(text, False, total)
    return hex_rows(text, width_bytes, total)
