"""Customer displays (客显) on serial ports: a request body → the encoder's exact bytes → the port.

`display_bytes` is pure (body in, bytes and the text shown out); `DisplayWriter` owns the port
in a worker thread, opens it on first use and sends the display's setup after every (re)open.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

from agent import AgentError
from agent.devices.config import DisplayConfig
from agent.printing.queue.device import DeviceThread
from agent.printing.queue.service import wall_ms
from drivers import InvalidInput
from drivers.display import price, vfd
from drivers.display.price import Lamp
from drivers.transports.base import Transport, TransportError
from drivers.transports.serial_port import SerialTarget, SerialTransport

log = logging.getLogger(__name__)

MAX_FEN = 99_999_999  # 999999.99: eight digits on the price display
_ALIGNS = ("left", "right", "center")


class DisplayUnavailableError(AgentError):
    """The display's port could not be opened or written; nothing more was sent."""

    def __init__(self, display: str, message: str) -> None:
        super().__init__(f"display {display}: {message}")
        self.display = display


def _fen(body: Mapping[str, object], key: str, path: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if value is None:
        raise InvalidInput(f"{path}{key}", "is required (an amount in fen)")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FEN:
        raise InvalidInput(f"{path}{key}", f"must be an integer amount in fen, 0-{MAX_FEN}")
    return value


def _text(body: Mapping[str, object], key: str, path: str, default: str | None = None) -> str:
    value = body.get(key, default)
    if not isinstance(value, str):
        raise InvalidInput(f"{path}{key}", "must be a string")
    return value


def _yuan(fen: int) -> str:
    return "¥" + price.format_fen(fen)


def _vfd_lines(body: Mapping[str, object]) -> tuple[str, str, tuple[vfd.Align, vfd.Align]]:
    lines = body["lines"]
    if not isinstance(lines, list) or not 1 <= len(lines) <= vfd.ROWS:
        raise InvalidInput("lines", f"must be a list of 1-{vfd.ROWS} strings")
    for i, line in enumerate(lines):
        if not isinstance(line, str):
            raise InvalidInput(f"lines[{i}]", "must be a string")
    align_raw = body.get("align", ["left", "left"])
    if isinstance(align_raw, str):
        align_raw = [align_raw, align_raw]
    if not isinstance(align_raw, list) or len(align_raw) != vfd.ROWS:
        raise InvalidInput("align", "must be one alignment or a list of two")
    aligns: list[vfd.Align] = []
    for i, a in enumerate(align_raw):
        if a == "left":
            aligns.append("left")
        elif a == "right":
            aligns.append("right")
        elif a == "center":
            aligns.append("center")
        else:
            raise InvalidInput(f"align[{i}]", f"must be one of {', '.join(_ALIGNS)}")
    return lines[0], lines[1] if len(lines) > 1 else "", (aligns[0], aligns[1])


def _item(body: Mapping[str, object]) -> tuple[str, str, int, int]:
    item = body["item"]
    if not isinstance(item, Mapping):
        raise InvalidInput("item", "must be an object")
    name = _text(item, "name", "item.")
    qty = item.get("qty", 1)
    if isinstance(qty, bool) or not isinstance(qty, int) or not 1 <= qty <= 99999:
        raise InvalidInput("item.qty", "must be a whole number 1-99999")
    unit = _text(item, "unit", "item.", "")
    unit_price = _fen(item, "unit_price", "item.")
    amount = _fen(item, "amount", "item.", min(qty * unit_price, MAX_FEN + 1))
    return name, f"{qty}{unit}×{price.format_fen(unit_price)}", unit_price, amount


def _payment(body: Mapping[str, object]) -> tuple[int, int | None, int | None]:
    total = _fen(body, "total", "")
    if body.get("received") is None:
        if body.get("change") is not None:
            raise InvalidInput("change", "needs received")
        return total, None, None
    received = _fen(body, "received", "")
    if received < total:
        raise InvalidInput("received", f"{received} is less than the total {total}")
    change = _fen(body, "change", "", received - total)
    if change != received - total:
        raise InvalidInput("change", f"must be received − total = {received - total}")
    return total, received, change


def display_bytes(kind: str, body: object, encoding: str = vfd.DEFAULT_ENCODING
                  ) -> tuple[bytes, list[str]]:
    """The bytes for one request and the text the display will show (two lines, or one).

    The body holds exactly one of: {"lines": [upper, lower], "align": …}, {"item": {"name",
    "qty", "unit", "unit_price", "amount"}}, {"total", "received", "change"}, {"clear": true}.
    Amounts are integers in fen. InvalidInput names the offending field.
    """
    if not isinstance(body, Mapping):
        raise InvalidInput("body", "must be a JSON object")
    given = [k for k in ("lines", "item", "total", "clear") if k in body]
    if len(given) != 1:
        raise InvalidInput("body", "give exactly one of lines, item, total, clear")
    what = given[0]
    if what == "clear":
        if body["clear"] is not True:
            raise InvalidInput("clear", "must be true")
        if kind == "vfd":
            return vfd.clear(), ["", ""]
        return price.select_lamp(Lamp.OFF) + price.clear(), [""]
    if kind == "vfd":
        if what == "lines":
            upper, lower, align = _vfd_lines(body)
        elif what == "item":
            name, qty_line, _, amount = _item(body)
            upper, lower, align = name, vfd.label_value(qty_line, _yuan(amount), encoding=encoding
                                                        ), ("left", "left")
        else:
            total, _, change = _payment(body)
            upper = vfd.label_value("合计", _yuan(total), encoding=encoding)
            lower = "" if change is None else vfd.label_value("找零", _yuan(change),
                                                              encoding=encoding)
            align = ("left", "left")
        data = vfd.show_lines(upper, lower, align=align, encoding=encoding)
        shown = [vfd.fit(t, vfd.COLUMNS, a, encoding).decode(encoding, "replace")
                 for t, a in ((upper, align[0]), (lower, align[1]))]
        return data, shown
    if what == "lines":
        raise InvalidInput("lines", "a price display shows numbers only: send item or total")
    if what == "item":
        _, _, unit_price, _ = _item(body)
        lamp, fen = Lamp.UNIT_PRICE, unit_price
    else:
        total, _, change = _payment(body)
        lamp, fen = (Lamp.TOTAL, total) if change is None else (Lamp.CHANGE, change)
    return price.show_amount(lamp, fen), [f"{lamp.label} {price.format_fen(fen)}"]


def setup_bytes(kind: str) -> bytes:
    """What is sent after opening the port: VFD reset + overwrite mode + no cursor, or ESC @."""
    return vfd.setup() if kind == "vfd" else price.init()


@dataclass(frozen=True)
class DisplaySnapshot:
    """What GET /v1/displays shows of one display."""

    id: str
    name: str
    kind: str
    device: str
    connected: bool
    last_error: str | None
    shown: tuple[str, ...]
    updated_ms: int | None

    def as_json(self) -> dict[str, object]:
        """The JSON shape."""
        return {"id": self.id, "name": self.name, "kind": self.kind, "device": self.device,
                "connected": self.connected, "last_error": self.last_error,
                "shown": list(self.shown), "updated_ms": self.updated_ms}


class DisplayWriter:
    """One serial customer display; commands are sent in order from a worker thread."""

    def __init__(self, cfg: DisplayConfig) -> None:
        self.cfg = cfg
        self.id = cfg.id
        self._dev = DeviceThread(f"display-{cfg.id}")
        self._conn: Transport | None = None
        self._snap = DisplaySnapshot(cfg.id, cfg.name, cfg.kind, cfg.device, False, None, (),
                                     None)

    def snapshot(self) -> DisplaySnapshot:
        """The display's state and what it shows."""
        return self._snap

    async def show(self, body: object) -> tuple[bytes, list[str]]:
        """Validate `body`, send its bytes (after the setup if the port was just opened)."""
        data, shown = display_bytes(self.cfg.kind, body, self.cfg.encoding)
        try:
            await self._dev.run(functools.partial(self._send, data))
        except TransportError as e:
            self._snap = replace(self._snap, connected=False, last_error=str(e))
            log.warning("display %s: %s", self.id, e)
            raise DisplayUnavailableError(self.id, str(e)) from None
        self._snap = replace(self._snap, connected=True, shown=tuple(shown),
                             updated_ms=wall_ms())
        return data, shown

    def _send(self, data: bytes) -> None:
        fresh = self._conn is None
        if self._conn is None:
            t = SerialTransport(SerialTarget(self.cfg.device, baudrate=self.cfg.baudrate,
                                             write_timeout=2.0), role="customer display")
            t.open()
            self._conn = t
        try:
            self._conn.write((setup_bytes(self.cfg.kind) if fresh else b"") + data)
        except TransportError:
            self._conn.close()
            self._conn = None
            raise

    async def close(self) -> None:
        """Close the port and end the worker thread."""
        conn, self._conn = self._conn, None
        if conn is not None:
            await self._dev.run(conn.close)
        self._dev.stop()
