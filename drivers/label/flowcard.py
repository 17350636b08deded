"""The flow-card (工艺流转卡) QR payload read by workshop scanners: encode, and parse with a check.

    SLFC1:<task>:<split>/<of>:<qty>:<check>

`task` is 1–32 of 0-9 A-Z . - (first a letter or digit); `split`, `of` are 1–9999 with
split ≤ of; `qty` is 1–9999999; numbers are decimal without leading zeros. `check` is the first
5 bytes of SHA-256 over the ASCII text before the last colon, in RFC 4648 base32 (8 characters,
no padding). Every character is in the QR alphanumeric set, so the code stays small and a
keyboard-wedge scanner types nothing layout-dependent but ':'. The check catches mistyped,
damaged and foreign codes; it is not a signature (anyone can compute it). Parsing ignores
surrounding whitespace and letter case (a scanner with Caps Lock on inverts case).
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass

from drivers import InvalidInput

__all__ = ["PREFIX", "FlowCard", "encode_flow_card", "flow_card_check", "parse_flow_card"]

PREFIX = "SLFC1"
MAX_PAYLOAD = 80
TASK = re.compile(r"[0-9A-Z][0-9A-Z.\-]{0,31}")
_NUMBER = re.compile(r"[1-9][0-9]*")


@dataclass(frozen=True)
class FlowCard:
    """What a flow card's QR code carries: task number, split n of N, quantity in the container."""

    task: str
    split: int
    of: int
    qty: int

    def payload(self) -> str:
        """The QR text for this card."""
        return encode_flow_card(self.task, self.split, self.of, self.qty)


def flow_card_check(body: str) -> str:
    """The 8-character check of `body` (the payload up to, not including, its last colon)."""
    digest = hashlib.sha256(body.encode("ascii")).digest()[:5]
    return base64.b32encode(digest).decode("ascii")


def _validate(task: str, split: int, of: int, qty: int, path: str) -> None:
    if not isinstance(task, str) or not TASK.fullmatch(task):
        raise InvalidInput(f"{path}.task", "must be 1-32 of 0-9, A-Z, '.', '-' "
                                           "starting with a letter or digit")
    for name, v, hi in (("split", split, 9999), ("of", of, 9999), ("qty", qty, 9_999_999)):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= hi:
            raise InvalidInput(f"{path}.{name}", f"must be an integer 1-{hi}")
    if split > of:
        raise InvalidInput(f"{path}.split", f"split {split} is beyond its total {of}")


def encode_flow_card(task: str, split: int, of: int, qty: int, *, path: str = "flow_card") -> str:
    """Build the QR payload; InvalidInput names `path.<field>` when a value cannot be carried."""
    _validate(task, split, of, qty, path)
    body = f"{PREFIX}:{task}:{split}/{of}:{qty}"
    return f"{body}:{flow_card_check(body)}"


def _number(text: str, field: str, what: str) -> int:
    if not _NUMBER.fullmatch(text):
        raise InvalidInput(field, f"{what} must be a number without leading zeros, got {text!r}")
    return int(text)


def parse_flow_card(payload: str | bytes) -> FlowCard:
    """Parse a scanned payload; InvalidInput (`payload…`) says why a code is rejected."""
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("ascii")
        except UnicodeDecodeError:
            raise InvalidInput("payload", "not a flow card code (not ASCII)") from None
    text = payload.strip().upper()
    if len(text) > MAX_PAYLOAD:
        raise InvalidInput("payload", f"not a flow card code (longer than {MAX_PAYLOAD})")
    parts = text.split(":")
    if parts[0] != PREFIX:
        if re.fullmatch(r"SLFC\d+", parts[0]):
            raise InvalidInput("payload", f"unsupported flow card version {parts[0]}")
        raise InvalidInput("payload", f"not a flow card code (expected {PREFIX}:…)")
    if len(parts) != 5:
        raise InvalidInput("payload", f"a flow card code has 5 fields, got {len(parts)}")
    _, task, split_of, qty_text, check = parts
    if not TASK.fullmatch(task):
        raise InvalidInput("payload.task", f"not a task number: {task!r}")
    split_text, slash, of_text = split_of.partition("/")
    if not slash:
        raise InvalidInput("payload.split", f"must be n/N, got {split_of!r}")
    split = _number(split_text, "payload.split", "split")
    of = _number(of_text, "payload.split", "split total")
    qty = _number(qty_text, "payload.qty", "quantity")
    body = text[:text.rfind(":")]
    if check != flow_card_check(body):
        raise InvalidInput("payload.check", "check does not match: the code is mistyped, "
                                            "damaged or was not made by Storelink")
    _validate(task, split, of, qty, "payload")
    return FlowCard(task, split, of, qty)
