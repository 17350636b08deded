"""The MQTT session's configuration and what it reports on `events` (values only)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Will:
    """The message the broker publishes if the connection dies without a clean DISCONNECT."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True)
class SessionConfig:
    """How to reach the broker and what session to keep there."""

    host: str
    port: int
    client_id: str
    clean_start: bool = False
    session_expiry_s: int = 7 * 86_400
    keepalive_s: int = 20
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 30.0
    connect_timeout_s: float = 10.0
    manual_ack: bool = False
    subscriptions: tuple[tuple[str, int], ...] = ()
    max_inflight: int = 20
    max_queued: int = 1000


@dataclass(frozen=True)
class Connected:
    """The broker accepted the connection (`generation` counts connections of this session)."""

    session_present: bool
    generation: int


@dataclass(frozen=True)
class Subscribed:
    """The broker acknowledged the session's subscriptions (SUBACK) on connection `generation`."""

    generation: int
    refused: tuple[str, ...] = ()


@dataclass(frozen=True)
class Disconnected:
    """The connection ended or could not be made."""

    reason: str
    generation: int


@dataclass(frozen=True)
class Message:
    """One inbound PUBLISH; with manual_ack, pass it to `ack()` once it is committed."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    generation: int


SessionEvent = Connected | Subscribed | Disconnected | Message
