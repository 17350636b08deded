"""Per-printer text planning: which bytes carry each character, and how many columns it takes."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from drivers.profiles import PrinterProfile

RunKind = Literal["ascii", "page", "dbcs", "utf8", "unencodable"]

ESC_T = b"\x1bt"
KANJI_ON = b"\x1c&"
KANJI_OFF = b"\x1c."
UTF8_ON = b"\x1c(C\x02\x000\x02"
DBCS_CODECS = ("gb18030", "gbk", "big5")
MEMO_LIMIT = 20_000  # characters remembered per profile (GB2312 has 7,445)
# Categories dropped from printed text: controls (would inject commands), format characters
# (zero-width joiners, BOM, soft hyphen), lone surrogates and unassigned code points.
_DROPPED = frozenset({"Cc", "Cf", "Cs", "Cn"})


def char_columns(ch: str) -> int:
    """Columns `ch` takes on a receipt when printed as an image or in UTF-8 mode (0, 1 or 2)."""
    if unicodedata.combining(ch) or ch in "\u200b\u200d\ufeff":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_columns(text: str) -> int:
    """Sum of char_columns over `text`: a Han character or full-width form takes two columns."""
    return sum(char_columns(c) for c in text)


@dataclass(frozen=True)
class Run:
    """Consecutive characters sent the same way; `page` is the ESC t number of a "page" run."""

    kind: RunKind
    text: str
    data: bytes
    page: int = -1


def normalize(text: str) -> str:
    """NFC-compose `text`, turn CR/CRLF into LF and tabs into a space, drop other control chars."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\t", " ")
    if text.isascii() and text.isprintable():
        return text
    return "".join(c for c in text
                   if c == "\n" or unicodedata.category(c) not in _DROPPED)


@dataclass(frozen=True)
class _Class:
    """How one character can travel to one printer."""

    kind: RunKind
    data: bytes = b""  # the bytes for ascii / dbcs / utf8
    pages: tuple[tuple[int, bytes], ...] = ()  # (ESC t n, byte) for every page carrying it
    cols: int = 1


class _Classifier:
    """Memoized per-profile character classification."""

    def __init__(self, profile: PrinterProfile) -> None:
        self.mode = profile.dbcs
        self.code_pages = profile.code_pages
        # A double-byte printer whose Kanji mode cannot be toggled reads every byte >= 0x80 as a
        # lead byte, so single-byte code pages are unusable on it.
        self.use_pages = self.mode in ("none", "raster") or (
            self.mode in DBCS_CODECS and profile.kanji_toggle)
        self.memo: dict[str, _Class] = {}

    def __call__(self, ch: str) -> _Class:
        got = self.memo.get(ch)
        if got is None:
            if len(self.memo) >= MEMO_LIMIT:  # hostile input must not grow it without bound
                self.memo.clear()
            got = self.memo[ch] = self._classify(ch)
        return got

    def _dbcs(self, ch: str) -> bytes | None:
        try:
            b = ch.encode(self.mode)
        except UnicodeEncodeError:
            return None
        # Only true multi-byte codes: Python's gbk/big5 map a few characters to one byte.
        ok = len(b) == 2 or (len(b) == 4 and self.mode == "gb18030")
        return b if ok and b[0] >= 0x81 else None

    def _pages(self, ch: str) -> tuple[tuple[int, bytes], ...]:
        out = []
        for n, codec in self.code_pages:
            try:
                b = ch.encode(codec)
            except UnicodeEncodeError:
                continue
            if len(b) == 1 and b[0] >= 0x80:
                out.append((n, b))
        return tuple(out)

    def _classify(self, ch: str) -> _Class:
        if ord(ch) < 0x80:
            return _Class("ascii", ch.encode("ascii"))
        if self.mode == "utf8":
            try:
                return _Class("utf8", ch.encode("utf-8"), cols=char_columns(ch))
            except UnicodeEncodeError:
                return _Class("unencodable", cols=char_columns(ch))
        if self.mode in DBCS_CODECS:
            wide = unicodedata.east_asian_width(ch) in ("W", "F")
            dbcs = self._dbcs(ch)
            if wide and dbcs is not None:
                return _Class("dbcs", dbcs, cols=2)
            pages = self._pages(ch) if self.use_pages else ()
            if pages:
                return _Class("page", pages=pages)
            if dbcs is not None:
                return _Class("dbcs", dbcs, cols=2)
            return _Class("unencodable", cols=char_columns(ch))
        pages = self._pages(ch) if self.use_pages else ()
        if pages:
            return _Class("page", pages=pages, cols=char_columns(ch))
        return _Class("unencodable", cols=char_columns(ch))


@lru_cache(maxsize=64)
def _classifier(profile: PrinterProfile) -> _Classifier:
    return _Classifier(profile)


def columns(ch: str, profile: PrinterProfile) -> int:
    """Display columns of `ch` on this printer: 1 single-byte, 2 double-byte, else char_columns."""
    return measure(profile)(ch)


def measure(profile: PrinterProfile) -> Callable[[str], int]:
    """A fast `columns(ch, profile)` bound to one profile."""
    classify = _classifier(profile)
    if profile.dbcs in ("utf8", "raster", "none"):
        return char_columns
    return lambda ch: classify(ch).cols


def widths(text: str, profile: PrinterProfile) -> list[int]:
    """Columns of every character of `text` on this printer."""
    m = measure(profile)
    return [m(c) for c in text]


def _choose_page(classes: Sequence[_Class], start: int, current: int | None) -> tuple[int, bytes]:
    """Pick a code page for classes[start]: keep the current one if it can, else the page that
    carries the longest stretch of the line's following code-page characters (fewest ESC t)."""
    options = dict(classes[start].pages)
    if current is not None and current in options:
        return current, options[current]
    best, best_len = classes[start].pages[0][0], -1
    for n, _ in classes[start].pages:
        length = 0
        for c in classes[start:]:
            if c.kind != "page":
                continue
            if all(p != n for p, _ in c.pages):
                break
            length += 1
        if length > best_len:
            best, best_len = n, length
    return best, options[best]


def plan(text: str, profile: PrinterProfile, page: int | None = None) -> list[Run]:
    """Split `text` (one line, normalized) into runs; `page` is the printer's current ESC t page
    (None: unknown), so code-page runs switch pages only when they must."""
    classify = _classifier(profile)
    classes = [classify(c) for c in text]
    runs: list[Run] = []
    kind: RunKind | None = None
    cur_page = -1
    chars: list[str] = []
    data: list[bytes] = []
    for i, (ch, cls) in enumerate(zip(text, classes, strict=True)):
        if cls.kind == "page":
            n, b = _choose_page(classes, i, page)
            page = n
        else:
            n, b = -1, cls.data
        if kind is not None and (cls.kind != kind or n != cur_page):
            runs.append(Run(kind, "".join(chars), b"".join(data), cur_page))
            chars, data = [], []
        kind, cur_page = cls.kind, n
        chars.append(ch)
        data.append(b)
    if kind is not None:
        runs.append(Run(kind, "".join(chars), b"".join(data), cur_page))
    return runs


def needs_raster(runs: Sequence[Run], profile: PrinterProfile) -> bool:
    """True when a line must go as an image: raster profiles, or any unencodable character."""
    return profile.dbcs == "raster" or any(r.kind == "unencodable" for r in runs)


def run_bytes(runs: Sequence[Run], profile: PrinterProfile,
              page: int | None) -> tuple[bytes, int | None]:
    """Bytes of natively printable runs (with ESC t and FS & / FS . as needed); the new page."""
    out = bytearray()
    toggle = profile.kanji_toggle and profile.dbcs in DBCS_CODECS
    for r in runs:
        if r.kind == "unencodable":
            raise ValueError("unencodable runs go as raster")
        if r.kind == "page" and r.page != page:
            out += ESC_T + bytes((r.page,))
            page = r.page
        if r.kind == "dbcs" and toggle:
            out += KANJI_ON + r.data + KANJI_OFF
        else:
            out += r.data
    return bytes(out), page
