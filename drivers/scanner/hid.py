"""HID scanners: boot-keyboard reports decoded with our own US table, and HID POS (page 0x8C)."""

from __future__ import annotations

from dataclasses import dataclass

from drivers import InvalidInput
from drivers.scanner.framing import DEFAULT_MAX_LEN, RawScan, ScanFramer

BOOT_REPORT_SIZE = 8
MOD_CTRL = 0x01 | 0x10  # left / right control
MOD_SHIFT = 0x02 | 0x20  # left / right shift
MOD_ALT = 0x04 | 0x40  # left / right alt
KEY_ENTER = 0x28
KEY_TAB = 0x2B
KEY_CAPS_LOCK = 0x39
KEY_KP_ENTER = 0x58
# ErrorRollOver, POSTFail, ErrorUndefined (HID Usage Tables, Keyboard page 0x07).
_ERROR_KEYS = frozenset({0x01, 0x02, 0x03})

# Keyboard page usage -> (unshifted, shifted) character on a US layout.
US_KEYS: dict[int, tuple[str, str]] = {
    **{0x04 + i: (c, c.upper()) for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")},
    **{0x1E + i: (d, s) for i, (d, s) in enumerate(zip("1234567890", "!@#$%^&*()", strict=True))},
    KEY_ENTER: ("\r", "\r"),
    KEY_TAB: ("\t", "\t"),
    0x2C: (" ", " "),
    0x2D: ("-", "_"),
    0x2E: ("=", "+"),
    0x2F: ("[", "{"),
    0x30: ("]", "}"),
    0x31: ("\\", "|"),
    0x32: ("\\", "|"),  # non-US #~ key; reported for backslash by some layouts
    0x33: (";", ":"),
    0x34: ("'", '"'),
    0x35: ("`", "~"),
    0x36: (",", "<"),
    0x37: (".", ">"),
    0x38: ("/", "?"),
}
# Keypad with Num Lock on, which is how scanners "type" in keypad mode.
KEYPAD_KEYS: dict[int, str] = {
    0x54: "/",
    0x55: "*",
    0x56: "-",
    0x57: "+",
    KEY_KP_ENTER: "\r",
    **{0x59 + i: d for i, d in enumerate("123456789")},
    0x62: "0",
    0x63: ".",
}
_KEYPAD_DIGITS = {k: v for k, v in KEYPAD_KEYS.items() if v.isdigit()}
KEYBOARD_TERMINATORS = {"enter": b"\r", "tab": b"\t", "none": b""}


class HidKeyboardDecoder:
    """Decodes 8-byte boot-keyboard reports into RawScans, independent of any OS keymap.

    A key counts when it newly appears in a report; reports carrying rollover error codes are
    ignored. Shift and Caps Lock (toggled by key 0x39) pick the case; Ctrl+key gives control
    characters (Ctrl+] is GS, the FNC1 of GS1 codes); Alt + keypad digits give the character
    with that decimal code, a GBK/GB18030 code above 255 (scanners' Chinese "Alt mode").
    The text is framed as UTF-8 by a ScanFramer with the terminator key and the inter-key
    timeout. Only the constructor and wrong-size reports raise (InvalidInput).
    """

    def __init__(
        self,
        terminator: str = "enter",
        inter_key_timeout_ms: int | None = None,
        max_len: int = DEFAULT_MAX_LEN,
        report_id: int | None = None,
        min_len: int = 1,
    ) -> None:
        if terminator not in KEYBOARD_TERMINATORS:
            raise InvalidInput("terminator", f"one of {', '.join(KEYBOARD_TERMINATORS)}")
        if report_id is not None and not 1 <= report_id <= 255:
            raise InvalidInput("report_id", "must be 1-255 or None")
        self.framer = ScanFramer(
            KEYBOARD_TERMINATORS[terminator], max_len, inter_key_timeout_ms, min_len
        )
        self.report_id = report_id
        self.report_size = BOOT_REPORT_SIZE + (report_id is not None)
        self.caps_lock = False
        self.error_reports = 0
        self.ignored_keys = 0
        self._held: frozenset[int] = frozenset()
        self._alt_digits = ""
        self._stream = bytearray()

    def feed(self, report: bytes, now_ms: int) -> list[RawScan]:
        """Consume one report (as read from /dev/hidraw* or the interrupt endpoint)."""
        if len(report) != self.report_size:
            raise InvalidInput("report", f"expected {self.report_size} bytes, got {len(report)}")
        if self.report_id is not None:
            if report[0] != self.report_id:
                return self.framer.tick(now_ms)  # another collection of a composite device
            report = report[1:]
        keys = [k for k in report[2:8] if k]
        if _ERROR_KEYS.intersection(keys):
            self.error_reports += 1  # phantom state: the key array is not trustworthy
            return self.framer.tick(now_ms)
        mods = report[0]
        new = [k for i, k in enumerate(keys) if k not in self._held and k not in keys[:i]]
        self._held = frozenset(keys)
        out: list[RawScan] = []
        text = ""
        if self._alt_digits and not mods & MOD_ALT:
            text += self._alt_char()
        for key in new:
            text += self._key_text(key, mods)
        if text:
            out += self.framer.feed(text.encode("utf-8"), now_ms)
        else:
            out += self.framer.tick(now_ms)
        return out

    def feed_stream(self, data: bytes, now_ms: int) -> list[RawScan]:
        """Consume reports concatenated in a byte stream (a FIFO or capture file), any chunking."""
        self._stream += data
        out: list[RawScan] = []
        while len(self._stream) >= self.report_size:
            report = bytes(self._stream[: self.report_size])
            del self._stream[: self.report_size]
            out += self.feed(report, now_ms)
        return out

    def tick(self, now_ms: int) -> list[RawScan]:
        """Let time pass without reports (ends a scan framed by the inter-key timeout)."""
        return self.framer.tick(now_ms)

    def _key_text(self, key: int, mods: int) -> str:
        if key == KEY_CAPS_LOCK:
            self.caps_lock = not self.caps_lock
            return ""
        if mods & MOD_ALT:
            if key in _KEYPAD_DIGITS:
                self._alt_digits = (self._alt_digits + _KEYPAD_DIGITS[key])[-6:]
            else:
                self.ignored_keys += 1
            return ""
        if key in KEYPAD_KEYS:
            return KEYPAD_KEYS[key]
        pair = US_KEYS.get(key)
        if pair is None:
            self.ignored_keys += 1
            return ""
        shift = bool(mods & MOD_SHIFT)
        if pair[0].isalpha():
            shift ^= self.caps_lock
        char = pair[1] if shift else pair[0]
        if mods & MOD_CTRL:
            upper = ord(char.upper())
            if 0x40 <= upper <= 0x5F:
                return chr(upper - 0x40)
            self.ignored_keys += 1
            return ""
        return char

    def _alt_char(self) -> str:
        code = int(self._alt_digits)
        self._alt_digits = ""
        if code < 0x100:
            return chr(code)  # Alt+nnn below 256: the Latin-1 character
        if code > 0xFFFF:
            self.ignored_keys += 1
            return ""
        try:
            return bytes([code >> 8, code & 0xFF]).decode("gb18030")
        except UnicodeDecodeError:
            self.ignored_keys += 1
            return ""


@dataclass(frozen=True)
class HidPosLayout:
    """Where a vendor puts the Scanned Data Report's fields (the report descriptor decides)."""

    report_id: int = 0x02
    aim_at: int | None = 2  # Symbology Identifier 1-3 (usages 0xFB-0xFD)
    data_at: int = 5  # Decoded Data (usage 0xFE), length in byte 1
    max_data: int = 56
    continued_at: int | None = 63  # Decode Data Continued (usage 0xFF), bit 0


# Honeywell / Zebra style: id, length, 3-byte AIM id, 56 data bytes, 2 vendor bytes, flags.
HONEYWELL_LAYOUT = HidPosLayout()
# Newland style: id, length, 56 data bytes, reserved, vendor symbology byte; no continuation.
NEWLAND_LAYOUT = HidPosLayout(aim_at=None, data_at=2, continued_at=None)


@dataclass(frozen=True)
class HidPosReport:
    """One Scanned Data Report: AIM identifier (if sent), data bytes, and whether more follow."""

    aim: str | None
    data: bytes
    continued: bool


def parse_hid_pos_report(
    report: bytes, layout: HidPosLayout = HONEYWELL_LAYOUT
) -> HidPosReport | None:
    """Parse a HID POS input report; None for other report ids; InvalidInput if malformed."""
    if not report:
        raise InvalidInput("report", "empty")
    if report[0] != layout.report_id:
        return None
    if len(report) < 2:
        raise InvalidInput("report", "no length byte")
    length = report[1]
    if length > layout.max_data:
        raise InvalidInput("report[1]", f"data length {length} exceeds {layout.max_data}")
    end = layout.data_at + length
    if len(report) < end:
        raise InvalidInput("report", f"{len(report)} bytes cannot hold {length} data bytes")
    aim = None
    if layout.aim_at is not None and len(report) >= layout.aim_at + 3:
        ident = report[layout.aim_at : layout.aim_at + 3]
        if ident[:1] == b"]" and ident[1:].isalnum() and ident.isascii():
            aim = ident.decode("ascii")
    continued = False
    if layout.continued_at is not None and len(report) > layout.continued_at:
        continued = bool(report[layout.continued_at] & 0x01)
    return HidPosReport(aim, bytes(report[layout.data_at : end]), continued)


class HidPosAssembler:
    """Joins continued Scanned Data Reports into RawScans, the AIM id put in front of the data.

    Malformed reports and overlong scans are dropped and counted; feed never raises.
    """

    def __init__(self, layout: HidPosLayout = HONEYWELL_LAYOUT, max_len: int = DEFAULT_MAX_LEN):
        if max_len < 1:
            raise InvalidInput("max_len", "must be at least 1")
        self.layout = layout
        self.max_len = max_len
        self.malformed = 0
        self.overlong = 0
        self._parts = bytearray()
        self._discarding = False

    def feed(self, report: bytes, now_ms: int) -> list[RawScan]:
        """Consume one input report; returns the scan it completes, if any."""
        try:
            parsed = parse_hid_pos_report(report, self.layout)
        except InvalidInput:
            self.malformed += 1
            self._parts.clear()
            self._discarding = False
            return []
        if parsed is None:
            return []
        if not self._discarding:
            self._parts += parsed.data
            if len(self._parts) > self.max_len:
                self.overlong += 1
                self._discarding = True
                self._parts.clear()
        if parsed.continued:
            return []
        data = bytes(self._parts)
        self._parts.clear()
        if self._discarding or not data:
            self._discarding = False
            return []
        prefix = parsed.aim.encode("ascii") if parsed.aim else b""
        if prefix and not data.startswith(prefix):
            data = prefix + data
        return [RawScan(data, now_ms)]
