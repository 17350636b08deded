"""A framed scan turned into a Scan event: text decoded, AIM identifier and GS1 fields parsed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from drivers import InvalidInput
from drivers.scanner.gs1 import Gs1Value, parse_gs1
from drivers.scanner.symbology import split_aim
from drivers.scanner.variable_measure import (
    MeasureRefused,
    VariableMeasureFormat,
    parse_variable_measure,
)


@dataclass(frozen=True)
class Scan:
    """One scan from one device; `at_ms` is Unix time in milliseconds.

    `gs1` holds the parsed element string when the AIM identifier announces GS1; when that
    string is malformed, `gs1` is None and `gs1_error` says why (the code is still delivered).
    `measure` holds a variable-measure EAN-13 read by a configured format (item and price /
    weight / count); when its check digits are wrong, `refused` says why instead.
    """

    device: str
    code: str
    symbology: str | None
    gs1: dict[str, Gs1Value] | None
    at_ms: int
    aim: str | None = None
    gs1_error: str | None = None
    measure: dict[str, object] | None = None
    refused: str | None = None

    def as_event(self) -> dict[str, object]:
        """The event body: device, code, symbology, gs1, at_ms (+ aim / gs1_error when set)."""
        event: dict[str, object] = {
            "device": self.device,
            "code": self.code,
            "symbology": self.symbology,
            "gs1": dict(self.gs1) if self.gs1 is not None else None,
            "at_ms": self.at_ms,
        }
        if self.aim is not None:
            event["aim"] = self.aim
        if self.gs1_error is not None:
            event["gs1_error"] = self.gs1_error
        if self.measure is not None:
            event["measure"] = dict(self.measure)
        if self.refused is not None:
            event["refused"] = self.refused
        return event


def decode_scan_text(raw: bytes, encoding: str | None = None) -> str:
    """Decode scanner bytes: the given encoding, else UTF-8, else GB18030, else lossy UTF-8."""
    if encoding is not None:
        try:
            return raw.decode(encoding, errors="replace")
        except LookupError:
            raise InvalidInput("encoding", f"unknown encoding {encoding!r}") from None
    for candidate in ("utf-8", "gb18030"):
        try:
            return raw.decode(candidate)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _utc_year(at_ms: int) -> int:
    try:
        return datetime.fromtimestamp(at_ms / 1000, UTC).year
    except (OverflowError, OSError, ValueError):
        raise InvalidInput("at_ms", f"{at_ms} is not a Unix time in milliseconds") from None


def make_scan(
    device: str,
    raw: bytes,
    at_ms: int,
    *,
    encoding: str | None = None,
    ref_year: int | None = None,
    verify_check_digits: bool = True,
    formats: tuple[VariableMeasureFormat, ...] = (),
) -> Scan:
    """Build a Scan from framed bytes; InvalidInput if no code is left or `at_ms` is absurd.

    `ref_year` anchors two-digit GS1 years; by default the UTC year of `at_ms`. `formats` are
    the variable-measure layouts tried on a 13-digit code that is EAN-13 or unannounced.
    """
    text = decode_scan_text(raw, encoding)
    aim, code = split_aim(text)
    if not code:
        raise InvalidInput("scan.code", "empty" if aim is None else f"empty after {aim.identifier}")
    gs1: dict[str, Gs1Value] | None = None
    gs1_error: str | None = None
    if aim is not None and aim.gs1:
        year = ref_year if ref_year is not None else _utc_year(at_ms)
        try:
            gs1 = parse_gs1(code, ref_year=year, verify_check_digits=verify_check_digits)
        except InvalidInput as exc:
            gs1_error = str(exc)
    measure: dict[str, object] | None = None
    refused: str | None = None
    if formats and (aim is None or aim.symbology == "EAN13"):
        try:
            vm = parse_variable_measure(code, formats)
        except MeasureRefused as exc:
            refused = str(exc)
        else:
            measure = vm.as_json() if vm is not None else None
    return Scan(
        device=device,
        code=code,
        symbology=aim.symbology if aim is not None else None,
        gs1=gs1,
        at_ms=at_ms,
        aim=aim.identifier if aim is not None else None,
        gs1_error=gs1_error,
        measure=measure,
        refused=refused,
    )
