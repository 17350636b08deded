"""Commands HQ sends a box, signed with HQ's Ed25519 key, and the box's pure guard against
forgery, replay and expiry (docs/protocol.md §Commands)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync.protocol import ProtocolError
from sync.protocol import fields as f
from sync.protocol.messages import NONCE, WORD
from sync.protocol.topics import BOX_ID

DOMAIN = b"storelink/v1/command\n"
NAMES = ("test_print", "open_drawer", "reload_config", "rebirth", "reupload", "production_task")
MAX_SKEW_MS = 5 * 60_000
MAX_LIFETIME_MS = 24 * 3_600_000
MAX_REMEMBERED = 100_000


def _args(name: str, raw: Mapping[str, object]) -> dict[str, object]:
    """Validate the arguments of command `name`; unknown arguments are errors."""
    allowed: dict[str, tuple[str, ...]] = {"test_print": ("printer",),
                                           "open_drawer": ("printer", "pin"),
                                           "reupload": ("from_seq",),
                                           "production_task": ("task",)}
    for k in raw:
        if k not in allowed.get(name, ()):
            raise ProtocolError(f"cmd.args.{k}", f"unknown argument of {name}")
    out: dict[str, object] = {}
    if name in ("test_print", "open_drawer"):
        out["printer"] = f.string(raw, "printer", "cmd.args", max_len=64)
    if name == "open_drawer":
        pin = raw.get("pin", 2)
        if pin not in (2, 5) or isinstance(pin, bool):
            raise ProtocolError("cmd.args.pin", "must be 2 or 5")
        out["pin"] = pin
    if name == "reupload":
        out["from_seq"] = f.integer(raw, "from_seq", "cmd.args")
    if name == "production_task":
        # Only its shape here: the box checks the task itself and answers `failed` naming the
        # field (docs/workshop.md).
        if not isinstance(raw.get("task"), dict):
            raise ProtocolError("cmd.args.task", "must be an object (the production task)")
        out["task"] = raw["task"]
    return out


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
        name = f.string(o, "name", "cmd", choices=NAMES)
        issued = f.integer(o, "issued_ms", "cmd")
        expires = f.integer(o, "expires_ms", "cmd")
        if expires <= issued:
            raise ProtocolError("cmd.expires_ms", "must be after issued_ms")
        raw_args = o.get("args", {})
        if not isinstance(raw_args, dict):
            raise ProtocolError("cmd.args", "must be an object")
        return cls(f.string(o, "box", "cmd", pattern=BOX_ID), name, _args(name, raw_args),
                   f.string(o, "nonce", "cmd", pattern=NONCE), issued, expires)


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
        o = f.load_object(data, max_bytes=64 * 1024)
        cmd = Command.from_obj(f.obj(o, "cmd"))
        try:
            sig = base64.b64decode(f.string(o, "sig", max_len=128), validate=True)
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
