"""Pairing over HQ's HTTP API (docs/protocol.md §12): the box's request, HQ's answer."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from sync.protocol.topics import BOX_ID
from validation import Schema

HEX32 = Annotated[str, Meta(pattern="^[0-9a-f]{32}$", extra={
    "reason": "must be 32 lowercase hex digits"})]
HEX64 = Annotated[str, Meta(pattern="^[0-9a-f]{64}$", extra={
    "reason": "must be 64 lowercase hex digits"})]
BoxId = Annotated[str, Meta(pattern=BOX_ID.pattern, extra={
    "reason": "1-64 characters of A-Z a-z 0-9 _ -, starting with a letter or digit"})]
REQUESTS_PATH = "/v1/pairing/requests"


class PairingRequest(Schema, frozen=True, kw_only=True):
    """POST /v1/pairing/requests, sent again as the box's poll until it is answered."""

    v: Literal[1] = 1
    request: HEX32
    """A secret the box made: only who knows it learns the answer."""
    code_hash: HEX64
    """`sync.pairing_code.code_hash` of the code on the slip (the code never travels)."""
    box: BoxId
    name: Annotated[str, Meta(max_length=120)] = ""
    csr: Annotated[str, Meta(min_length=64, max_length=4096)]
    journal_pubkey: HEX64
    log: HEX32
    software: Annotated[str, Meta(min_length=1, max_length=64)] = "storelink"


class Broker(Schema, frozen=True, kw_only=True):
    """Where the box connects once paired (TLS with its certificate)."""

    host: Annotated[str, Meta(min_length=1, max_length=253)]
    port: Annotated[int, Meta(ge=1, le=65535)]


class Replaced(Schema, frozen=True, kw_only=True):
    """The box an adopted box replaces, and how far HQ holds (and cosigned) its journal."""

    box: str
    log: str
    size: int
    head: str


class PairingAnswer(Schema, frozen=True, kw_only=True):
    """HQ's answer: `pending` until adopted (then the rest is set), or `expired`."""

    v: Literal[1] = 1
    state: Literal["pending", "adopted", "expired"]
    expires_ms: int
    box: str = ""
    store: str = ""
    cert: str = ""
    """The box's client certificate (PEM, CN = box id), signed by HQ's CA."""
    ca: str = ""
    """HQ's CA certificate (PEM): the broker's certificate must chain to it."""
    broker: Broker | None = None
    hq_pubkey: str = ""
    """HQ's command and cosignature key (base64 of 32 bytes)."""
    hq_cosigner: str = ""
    replaces: Replaced | None = None
    """Set when HQ adopted the box as the replacement of another (its journal continues it)."""
