"""Commands HQ sends a box, signed with HQ's Ed25519 key, and the box's pure guard against
forgery, replay and expiry (docs/protocol.md §Commands)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from msgspec import Meta

from sync.protocol import ProtocolError
from sync.protocol import fields as f
from sync.protocol import schemas as w
from sync.protocol.schemas import NONCE, WORD
from validation import Schema

DOMAIN = b"storelink/v1/command\n"
CommandName = Literal["test_print", "open_drawer", "reload_config", "rebirth", "reupload",
                      "production_task", "upgrade"]
NAMES: tuple[str, ...] = get_args(CommandName)
MAX_SKEW_MS = 5 * 60_000
MAX_LIFETIME_MS = 24 * 3_600_000
MAX_REMEMBERED = 100_000
MAX_CONFIG_CHARS = 48_000
"""A reload_config's TOML at most: its JSON escaping must fit the 64 KiB command payload."""


class TestPrintArgs(Schema, frozen=True, kw_only=True):
    """Arguments of test_print."""

    printer: w.Name64


class OpenDrawerArgs(Schema, frozen=True, kw_only=True):
    """Arguments of open_drawer: the drawer kick pin."""

    printer: w.Name64
    pin: Literal[2, 5] = 2


class ReuploadArgs(Schema, frozen=True, kw_only=True):
    """Arguments of reupload."""

    from_seq: w.Count


class ProductionTaskArgs(Schema, frozen=True, kw_only=True):
    """Arguments of production_task: only its shape here; the box checks the task itself and
    answers `failed` naming the field (docs/workshop.md)."""

    task: dict[str, Any]


class UpgradeArgs(Schema, frozen=True, kw_only=True):
    """Arguments of upgrade: the release HQ serves at `url`, its bundle's SHA-256 and HQ's
    release signature (sync.protocol.releases; docs/deploy.md, "Upgrades")."""

    version: Annotated[str, Meta(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$", extra={
        "reason": "1-64 characters of A-Z a-z 0-9 . + _ -, starting with a letter or digit"})]
    url: Annotated[str, Meta(pattern=r"^https?://[^\s]{1,2040}$", extra={
        "reason": "must be an http:// or https:// URL"})]
    sha256: Annotated[str, Meta(pattern="^[0-9a-f]{64}$", extra={
        "reason": "must be 64 lowercase hex digits"})]
    sig: Annotated[str, Meta(pattern="^[A-Za-z0-9+/]{86}==$", extra={
        "reason": "must be the base64 of a 64-byte Ed25519 signature"})]


class ReloadConfigArgs(Schema, frozen=True, kw_only=True):
    """Arguments of reload_config: the box's whole new configuration as TOML text (checked on
    the box as its configuration file is)."""

    toml: Annotated[str, Meta(min_length=1, max_length=MAX_CONFIG_CHARS)]


class NoArgs(Schema, frozen=True, kw_only=True):
    """The commands that take no arguments."""


ARGS: dict[str, type[Schema]] = {"test_print": TestPrintArgs, "open_drawer": OpenDrawerArgs,
                                 "reupload": ReuploadArgs, "production_task": ProductionTaskArgs,
                                 "upgrade": UpgradeArgs, "reload_config": ReloadConfigArgs}


class CommandWire(w.Wire, frozen=True, kw_only=True):
    """The signed `cmd` object."""

    box: w.BoxId
    name: CommandName
    args: dict[str, Any] = msgspec.field(default_factory=dict)
    nonce: w.Nonce
    issued_ms: w.Count
    expires_ms: w.Count


class SignedCommandWire(w.Payload, frozen=True, kw_only=True):
    """down/command: {"v":1,"cmd":{…},"sig":base64}."""

    cmd: CommandWire
    sig: Annotated[str, Meta(min_length=1, max_length=128)]


@dataclass(frozen=True)
class Command:
    """What HQ asks of one box, valid from `issued_ms` until `expires_ms`, once (`nonce`)."""

    box: str
    name: str
    args: Mapping[str, object]
    nonce: str
    issued_ms: int
    expires_ms: int

    def to_obj(self) -> dict[str, object]:
        """The signed JSON object."""
        return {"box": self.box, "name": self.name, "args": dict(self.args), "nonce": self.nonce,
                "issued_ms": self.issued_ms, "expires_ms": self.expires_ms}

    def signing_bytes(self) -> bytes:
        """DOMAIN ‖ canonical JSON of the command object: what the signature covers."""
        return DOMAIN + f.dumps(self.to_obj())

    @classmethod
    def from_obj(cls, o: Mapping[str, object]) -> Command:
        """Validate the `cmd` object."""
        return cls.from_wire(f.part(o, CommandWire, "cmd"))

    @classmethod
    def from_wire(cls, c: CommandWire) -> Command:
        """From its decoded wire shape; the arguments are checked by the command's schema."""
        if c.expires_ms <= c.issued_ms:
            raise ProtocolError("cmd.expires_ms", "must be after issued_ms")
        args = msgspec.structs.asdict(f.part(c.args, ARGS.get(c.name, NoArgs), "cmd.args"))
        return cls(c.box, c.name, args, c.nonce, c.issued_ms, c.expires_ms)


@dataclass(frozen=True)
class SignedCommand:
    """A command with HQ's Ed25519 signature over `command.signing_bytes()`."""

    command: Command
    sig: bytes

    def to_json(self) -> bytes:
        """Wire bytes: {"v":1,"cmd":{…},"sig":base64}."""
        return f.dumps({"v": 1, "cmd": self.command.to_obj(),
                        "sig": base64.b64encode(self.sig).decode()})

    @classmethod
    def from_json(cls, data: bytes) -> SignedCommand:
        """Validate the shape (not the signature: see CommandGuard)."""
        o = f.decode(data, SignedCommandWire, max_bytes=64 * 1024)
        cmd = Command.from_wire(o.cmd)
        try:
            sig = base64.b64decode(o.sig, validate=True)
        except binascii.Error:
            raise ProtocolError("sig", "must be base64") from None
        if len(sig) != 64:
            raise ProtocolError("sig", "must be a 64-byte Ed25519 signature")
        return cls(cmd, sig)

    def verify(self, key: Ed25519PublicKey) -> bool:
        """True if `sig` is HQ's signature of this exact command."""
        try:
            key.verify(self.sig, self.command.signing_bytes())
        except InvalidSignature:
            return False
        return True


def sign_command(command: Command, key: Ed25519PrivateKey) -> SignedCommand:
    """Sign `command` with HQ's key."""
    return SignedCommand(command, key.sign(command.signing_bytes()))


def public_key_from_b64(text: str, field: str = "hq_pubkey") -> Ed25519PublicKey:
    """An Ed25519 public key from the base64 of its 32 raw bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(field, "must be base64") from None
    if len(raw) != 32:
        raise ProtocolError(field, "must be the base64 of 32 bytes (a raw Ed25519 public key)")
    return Ed25519PublicKey.from_public_bytes(raw)


class CommandRefusedError(ProtocolError):
    """The command must not run; `nonce` and `name` are what could be read, for the report."""

    def __init__(self, reason: str, nonce: str = "", name: str = "") -> None:
        super().__init__("cmd", reason)
        self.nonce = nonce
        self.name = name


def readable_ids(data: bytes) -> tuple[str, str]:
    """(nonce, name) of a command that cannot be admitted, each where it can be read ("" where
    not), so that the refusal names the command HQ asked for."""
    try:
        cmd = json.loads(data)["cmd"]
        nonce, name = cmd.get("nonce"), cmd.get("name")
    except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError, RecursionError):
        return "", ""
    return (nonce if isinstance(nonce, str) and NONCE.fullmatch(nonce) else "",
            name if isinstance(name, str) and WORD.fullmatch(name) else "")


class CommandGuard:
    """Admits each validly signed, unexpired command for this box once; pure (`now` passed in).

    Nonces are remembered until their command's expiry (plus the clock skew allowance), after
    which the command is refused as expired anyway; `remembered()` lets the shell persist them.
    """

    def __init__(self, box_id: str, key: Ed25519PublicKey,
                 remembered: Iterable[tuple[str, int]] = (), max_skew_ms: int = MAX_SKEW_MS,
                 max_lifetime_ms: int = MAX_LIFETIME_MS) -> None:
        self.box_id = box_id
        self.key = key
        self.max_skew_ms = max_skew_ms
        self.max_lifetime_ms = max_lifetime_ms
        self._seen: dict[str, int] = dict(remembered)

    def admit(self, data: bytes, now_ms: int) -> Command:
        """The command if it may run now (and remember its nonce), else CommandRefusedError."""
        try:
            signed = SignedCommand.from_json(data)
        except ProtocolError as e:
            raise CommandRefusedError(f"malformed: {e}", *readable_ids(data)) from None
        cmd = signed.command
        if not signed.verify(self.key):
            raise CommandRefusedError("bad signature", cmd.nonce, cmd.name)
        if cmd.box != self.box_id:
            raise CommandRefusedError(f"addressed to box {cmd.box}", cmd.nonce, cmd.name)
        if cmd.expires_ms <= now_ms:
            raise CommandRefusedError("expired", cmd.nonce, cmd.name)
        if cmd.issued_ms > now_ms + self.max_skew_ms:
            raise CommandRefusedError("issued in the future", cmd.nonce, cmd.name)
        if cmd.expires_ms - cmd.issued_ms > self.max_lifetime_ms:
            raise CommandRefusedError("lifetime longer than allowed", cmd.nonce, cmd.name)
        self._prune(now_ms)
        if cmd.nonce in self._seen:
            raise CommandRefusedError("replayed", cmd.nonce, cmd.name)
        if len(self._seen) >= MAX_REMEMBERED:
            raise CommandRefusedError("too many live commands", cmd.nonce, cmd.name)
        self._seen[cmd.nonce] = cmd.expires_ms
        return cmd

    def _prune(self, now_ms: int) -> None:
        cutoff = now_ms - self.max_skew_ms
        for nonce in [n for n, exp in self._seen.items() if exp < cutoff]:
            del self._seen[nonce]

    def remembered(self) -> list[tuple[str, int]]:
        """(nonce, expires_ms) of every command admitted and not yet forgotten."""
        return sorted(self._seen.items())
