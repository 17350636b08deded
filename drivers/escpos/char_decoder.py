"""How an ESC/POS printer reads text bytes: code page, Kanji (double-byte) mode or UTF-8."""

from __future__ import annotations

from drivers.escpos.textcodec import char_columns
from drivers.profiles import PrinterProfile

DBCS_CODECS = ("gb18030", "gbk", "big5")
REPLACEMENT = "\ufffd"


def _utf8_length(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


class TextDecoder:
    """Decodes one printable character at a time; knows the text modes a printer can be in."""

    def __init__(self, profile: PrinterProfile) -> None:
        self._pages = dict(profile.code_pages)
        self._dbcs = profile.dbcs if profile.dbcs in DBCS_CODECS else None
        # A double-byte printer without FS & / FS . (kanji_toggle false) is always in Kanji mode.
        self._kanji_default = self._dbcs is not None and not profile.kanji_toggle
        self.reset()

    def reset(self) -> None:
        """Power-on text state: code page 0, Kanji mode at its default, UTF-8 off."""
        self.codec = self._pages.get(0, "cp437")
        self.kanji = self._kanji_default
        self.utf8 = False

    def select_code_page(self, n: int) -> None:
        """ESC t n; a page the profile does not know leaves the current one selected."""
        self.codec = self._pages.get(n, self.codec)

    def kanji_on(self) -> None:
        """FS &: enter Kanji mode (ignored by a printer without a double-byte font)."""
        self.kanji = self._dbcs is not None

    def kanji_off(self) -> None:
        """FS .: leave Kanji mode."""
        self.kanji = False

    def decode(self, buf: bytes | bytearray, i: int) -> tuple[int, str, int] | None:
        """Decode the character starting at buf[i] (a byte >= 0x20, not DEL).

        Returns (bytes used, character, columns), or None when the character's remaining bytes
        have not arrived yet. Invalid sequences give U+FFFD for the lead byte alone, so the
        bytes after it (often a command) are read afresh.
        """
        b = buf[i]
        if b < 0x80:
            return 1, chr(b), 1
        if self.utf8:
            return self._utf8(buf, i, b)
        if self.kanji and self._dbcs is not None:
            return self._double(buf, i, b, self._dbcs)
        ch = bytes([b]).decode(self.codec, "replace")
        return 1, ch if len(ch) == 1 else REPLACEMENT, 1

    def _utf8(self, buf: bytes | bytearray, i: int, b: int) -> tuple[int, str, int] | None:
        n = _utf8_length(b)
        if n == 0:
            return 1, REPLACEMENT, 1
        for k in range(1, n):
            if i + k >= len(buf):
                return None
            if not 0x80 <= buf[i + k] <= 0xBF:
                return 1, REPLACEMENT, 1
        ch = bytes(buf[i:i + n]).decode("utf-8", "replace")
        if len(ch) != 1:
            return 1, REPLACEMENT, 1
        return n, ch, char_columns(ch)

    def _double(self, buf: bytes | bytearray, i: int, b: int,
                codec: str) -> tuple[int, str, int] | None:
        if not 0x81 <= b <= 0xFE:
            return 1, REPLACEMENT, 1
        if i + 1 >= len(buf):
            return None
        t = buf[i + 1]
        n = 0
        if codec == "gb18030" and 0x30 <= t <= 0x39:
            # GB 18030 four-byte form: lead, digit, 0x81-0xFE, digit.
            if i + 3 >= len(buf):
                if i + 2 < len(buf) and not 0x81 <= buf[i + 2] <= 0xFE:
                    return 1, REPLACEMENT, 1
                return None
            if 0x81 <= buf[i + 2] <= 0xFE and 0x30 <= buf[i + 3] <= 0x39:
                n = 4
        elif codec == "big5":
            n = 2 if 0x40 <= t <= 0x7E or 0xA1 <= t <= 0xFE else 0
        elif 0x40 <= t <= 0xFE and t != 0x7F:
            n = 2
        if n == 0:
            return 1, REPLACEMENT, 1
        ch = bytes(buf[i:i + n]).decode(codec, "replace")
        # A printer's double-byte font cell is always two columns, whatever the character.
        return n, ch if len(ch) == 1 else REPLACEMENT, 2
