"""How many bytes each ESC/POS command takes, read from its header (Epson ESC/POS reference).

`command_length(buf, i)` for a command starting with ESC, GS, FS or DLE at buf[i] returns:
  n > 0  the command's total length (it may be longer than what has arrived so far);
  0      more bytes are needed to tell;
  -k     not a command this printer knows: its first k bytes are to be ignored.
"""

from __future__ import annotations

MAX_RASTER_WIDTH_BYTES = 512  # 4096 dots, the widest profile allowed
MAX_RASTER_BYTES = 1 << 21  # a larger GS v 0 header is garbage: rejected, never allocated
ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10

# Parameter bytes after the command letter, for commands of fixed length.
ESC_FIXED = {0x40: 0, 0x32: 0, 0x33: 1, 0x61: 1, 0x45: 1, 0x2D: 1, 0x74: 1, 0x64: 1, 0x4A: 1,
             0x70: 3, 0x42: 2, 0x21: 1, 0x47: 1, 0x4D: 1, 0x20: 1, 0x24: 2, 0x5C: 2, 0x52: 1,
             0x56: 1, 0x7B: 1, 0x3D: 1, 0x72: 1, 0x65: 1, 0x4C: 0, 0x53: 0, 0x0C: 0, 0x57: 8,
             0x54: 1, 0x55: 1, 0x75: 1, 0x76: 0, 0x69: 0, 0x6D: 0, 0x25: 1, 0x3F: 1, 0x63: 2}
GS_FIXED = {0x21: 1, 0x68: 1, 0x77: 1, 0x48: 1, 0x66: 1, 0x61: 1, 0x42: 1, 0x62: 1, 0x4C: 2,
            0x57: 2, 0x50: 2, 0x24: 2, 0x5C: 2, 0x72: 1, 0x49: 1, 0x45: 1, 0x54: 1, 0x3A: 0,
            0x5E: 3, 0x2F: 1, 0x63: 0, 0x67: 4}
FS_FIXED = {0x26: 0, 0x2E: 0, 0x21: 1, 0x2D: 1, 0x53: 2, 0x57: 1, 0x43: 1, 0x70: 2, 0x3F: 2,
            0x32: 74}
BARCODE_KINDS = frozenset([*range(0, 7), *range(65, 80)])
CUT_PLAIN = (0, 1, 48, 49)
CUT_WITH_FEED = (65, 66, 97, 98, 103, 104)


def command_length(buf: bytes | bytearray, i: int) -> int:
    """Length of the command at buf[i] (see the module docstring for the sign convention)."""
    avail = len(buf) - i
    if avail < 2:
        return 0
    kind, c = buf[i], buf[i + 1]
    if kind == DLE:
        return _dle(buf, i, avail, c)
    if c == 0x28:  # ESC/GS/FS ( fn pL pH data: a 16-bit length follows the function letter
        return 5 + (buf[i + 3] | buf[i + 4] << 8) if avail >= 5 else 0
    if kind == ESC:
        return _esc(buf, i, avail, c)
    if kind == GS:
        return _gs(buf, i, avail, c)
    if kind == FS:
        return _fs(buf, i, avail, c)
    return -1


def _fixed(table: dict[int, int], c: int) -> int:
    return 2 + table[c] if c in table else -2


def _esc(buf: bytes | bytearray, i: int, avail: int, c: int) -> int:
    if c == 0x2A:  # ESC * m nL nH d…: bit image, 1 or 3 bytes per column
        if avail < 5:
            return 0
        per = {0: 1, 1: 1, 32: 3, 33: 3}.get(buf[i + 2])
        return -3 if per is None else 5 + (buf[i + 3] | buf[i + 4] << 8) * per
    if c == 0x44:  # ESC D n1 … NUL: at most 32 tab stops
        end = buf.find(0, i + 2, i + 35)
        if end >= 0:
            return end - i + 1
        return 0 if avail < 35 else -2
    if c == 0x26:  # ESC & y c1 c2 [x d1…d(y×x)]…: user-defined characters
        if avail < 5:
            return 0
        y, c1, c2 = buf[i + 2], buf[i + 3], buf[i + 4]
        if not (1 <= y <= 3 and 32 <= c1 <= c2 <= 126):
            return -2
        j = i + 5
        for _ in range(c2 - c1 + 1):
            if j >= len(buf):
                return 0
            j += 1 + y * buf[j]
        return j - i
    return _fixed(ESC_FIXED, c)


def _gs(buf: bytes | bytearray, i: int, avail: int, c: int) -> int:
    if c == 0x76:  # GS v 0 m xL xH yL yH d…: raster image
        if avail < 3:
            return 0
        if buf[i + 2] != 0x30:
            return -3
        return 8 + (buf[i + 4] | buf[i + 5] << 8) * (buf[i + 6] | buf[i + 7] << 8) \
            if avail >= 8 else 0
    if c == 0x6B:  # GS k m …: barcode, NUL-terminated (m 0-6) or with a length byte (m 65-79)
        if avail < 3:
            return 0
        m = buf[i + 2]
        if m not in BARCODE_KINDS:
            return -3
        if m <= 6:
            end = buf.find(0, i + 3, i + 259)
            if end >= 0:
                return end - i + 1
            return 0 if avail < 259 else -3
        return 4 + buf[i + 3] if avail >= 4 else 0
    if c == 0x56:  # GS V m [n]: cut
        if avail < 3:
            return 0
        m = buf[i + 2]
        return 3 if m in CUT_PLAIN else 4 if m in CUT_WITH_FEED else -3
    if c == 0x2A:  # GS * x y d1…d(x×y×8): downloaded bit image
        return 4 + buf[i + 2] * buf[i + 3] * 8 if avail >= 4 else 0
    if c == 0x38:  # GS 8 L p1 p2 p3 p4 …: graphics with a 32-bit length
        if avail < 7:
            return 0
        return 7 + int.from_bytes(buf[i + 3:i + 7], "little") if buf[i + 2] == 0x4C else -3
    return _fixed(GS_FIXED, c)


def _fs(buf: bytes | bytearray, i: int, avail: int, c: int) -> int:
    if c == 0x67:  # FS g 1 m a1-a4 nL nH d… writes NV user memory; FS g 2 m a1-a4 nL nH reads it
        if avail < 3:
            return 0
        if buf[i + 2] == 0x32:
            return 10
        if buf[i + 2] != 0x31:
            return -3
        return 10 + (buf[i + 8] | buf[i + 9] << 8) if avail >= 10 else 0
    return _fixed(FS_FIXED, c)


def _dle(buf: bytes | bytearray, i: int, avail: int, c: int) -> int:
    if c == 0x05:  # DLE ENQ n
        return 3
    if avail < 3:
        return 0 if c in (0x04, 0x14) else -1
    n = buf[i + 2]
    if c == 0x04:  # DLE EOT n; n 7 and 8 take one more byte
        return 3 if 1 <= n <= 4 else 4 if n in (7, 8) else -1
    if c == 0x14 and 1 <= n <= 8:  # DLE DC4 fn …: fn 8 takes seven parameter bytes
        return 10 if n == 8 else 5
    return -1
