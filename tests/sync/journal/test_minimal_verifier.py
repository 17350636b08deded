"""A second, minimal verifier written from docs/journal.md alone (it imports nothing of ours).

It must reach the same verdict, seq and code as the manifest says for every shipped vector.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

VECTORS = Path(__file__).resolve().parents[3] / "docs" / "vectors"
FIELDS = {"v", "log", "seq", "time", "boot", "type", "body", "prev", "totals", "key"}
TYPES = {"genesis", "sale", "refund", "void", "payment", "day_close", "handover", "approval",
         "audit", "key_rotate", "clock_set", "device_fault", "cosign",
         "production_task", "split", "handover_undo"}


class Bad(Exception):
    def __init__(self, seq: int, code: str) -> None:
        super().__init__(f"{seq}: {code}")
        self.seq, self.code = seq, code


def canon(v: Any) -> bytes:  # §2
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def no_dups(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise ValueError("duplicate")
    return d


def no_float(s: str) -> Any:
    raise ValueError("float")


def is_hex(v: Any, n: int) -> bool:
    return isinstance(v, str) and len(v) == n and all(c in "0123456789abcdef" for c in v)


def is_int(v: Any) -> bool:
    return type(v) is int


def key_id(pub: bytes) -> str:  # §4
    return hashlib.sha256(b"storelink-journal-key/v1\n" + pub).hexdigest()[:16]


def ok_sig(pub: bytes, sig: bytes, msg: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
    except (InvalidSignature, ValueError):
        return False
    return True


def amount(r: dict[str, Any]) -> int:  # §4
    b, t = r["body"], r["type"]
    v = b.get("amount" if t == "payment" else "total")
    if t not in ("sale", "refund", "void", "payment") or type(v) is not int:
        return 0
    return -v if t in ("refund", "void") else v


def statement(r: dict[str, Any], h: bytes) -> bytes:  # §4
    return (f"storelink-journal-record/v1\nlog {r['log']}\nseq {r['seq']}\ntime {r['time']}\n"
            f"type {r['type']}\namount {amount(r)}\nkey {r['key']}\nhash {h.hex()}\n").encode()


def add(m: dict[str, int], k: str, d: int) -> None:  # §6: zero entries omitted
    m[k] = m.get(k, 0) + d
    if m[k] == 0:
        del m[k]


def effect(totals: dict[str, Any], r: dict[str, Any]) -> dict[str, Any]:  # §6
    t, b = r["type"], r["body"]
    out = {"net": totals["net"], "absolute": totals["absolute"],
           "methods": dict(totals["methods"]), "counts": dict(totals["counts"])}
    if t in ("sale", "refund", "void"):
        sign = 1 if t == "sale" else -1
        out["net"] += sign * b["total"]
        out["absolute"] += b["total"]
        for p in b["payments"]:
            add(out["methods"], p["method"], sign * p["amount"])
    elif t == "payment":
        add(out["methods"], b["method"], b["amount"])
    add(out["counts"], t, 1)
    return out


def minus(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:  # §7
    out = {"net": a["net"] - b["net"], "absolute": a["absolute"] - b["absolute"],
           "methods": dict(a["methods"]), "counts": dict(a["counts"])}
    for part in ("methods", "counts"):
        for k, v in b[part].items():
            add(out[part], k, -v)
    return out


def lines_ok(b: dict[str, Any]) -> bool:  # §5 rules L and P
    total = 0
    for ln in b.get("lines", []):
        gross = ln["qty"] * ln["unit_price"]
        if ln.get("discount", 0) > gross or ln["amount"] != gross - ln.get("discount", 0):
            return False
        total += ln["amount"]
    want: int = b["total"]
    paid: int = sum(p["amount"] for p in b["payments"])
    return ("lines" not in b or total == want) and paid == want


SAFE = 2**53 - 1
# §5: what a text refuses (Cc; Cf but U+200D; U+2028, U+2029); an id also every space, U+200D.
REFUSED = {*range(0x20), *range(0x7F, 0xA0), 0xAD, *range(0x600, 0x606), 0x61C, 0x6DD, 0x70F,
           0x890, 0x891, 0x8E2, 0x180E, 0x200B, 0x200C, 0x200E, 0x200F, *range(0x2028, 0x202F),
           *range(0x2060, 0x2065), *range(0x2066, 0x2070), 0xFEFF, 0xFFF9, 0xFFFA, 0xFFFB,
           0x110BD, 0x110CD, *range(0x13430, 0x13440), *range(0x1BCA0, 0x1BCA4),
           *range(0x1D173, 0x1D17B), 0xE0001, *range(0xE0020, 0xE0080)}
SPACES = {0x20, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000, 0x200D}
IDS = {"order", "sku", "ref", "till", "cashier", "customer", "salesperson", "actor", "approver",
       "device", "task", "from_worker", "to_worker", "product", "batch", "store"}
TEXTS = {"name": 120, "unit": 16, "note": 200, "reason": 200, "subject": 200, "detail": 500,
         "step_name": 64, "software": 64}


def strings_ok(v: Any, name: str = "") -> bool:  # §5 id and text, lengths in code points
    if isinstance(v, dict):
        return all(strings_ok(x, k) for k, x in v.items())
    if isinstance(v, list):
        return all(strings_ok(x, name) for x in v)
    if isinstance(v, str) and name in IDS:
        return 1 <= len(v) <= 64 and not any(ord(c) in REFUSED | SPACES for c in v)
    if isinstance(v, str) and name in TEXTS:
        return len(v) <= TEXTS[name] and not any(ord(c) in REFUSED for c in v)
    return True


def export_lines(text: str) -> list[str]:  # §8: lines end in LF (the last one's may be missing)
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


class Minimal:
    def __init__(self, hq: tuple[str, bytes] | None, log: str | None = None) -> None:
        self.hq = hq
        self.want_log = log
        self.n = 0
        self.hashes: list[bytes] = []
        self.types: list[str] = []
        self.keys: dict[str, bytes] = {}
        self.current = ""
        self.log = ""
        self.time = 0
        self.totals: dict[str, Any] = {}
        self.close: tuple[int, int, dict[str, Any]] = (0, 0, {})  # seq, z, totals
        self.cosigned = 0
        self.sales: dict[int, dict[str, Any]] = {}

    def feed(self, line: str) -> None:
        n = self.n
        try:  # §8
            obj = json.loads(line, object_pairs_hook=no_dups, parse_float=no_float,
                             parse_constant=no_float)
            assert isinstance(obj, dict) and set(obj) == {"hash", "record", "sig"}
            assert line.removesuffix("\n").encode() == canon(obj)
            assert is_hex(obj["hash"], 64) and is_hex(obj["sig"], 128)
            r = obj["record"]
            assert isinstance(r, dict)
            raw = canon(r)
        except (ValueError, AssertionError, UnicodeError):
            raise Bad(n, "canonical") from None
        if not (set(r) == FIELDS and r["v"] == 1 and is_int(r["v"]) and is_hex(r["log"], 32)
                and is_int(r["seq"]) and is_int(r["time"]) and 0 <= r["time"] <= SAFE
                and isinstance(r["type"], str)
                and r["type"] in TYPES and isinstance(r["body"], dict) and is_hex(r["prev"], 64)
                and isinstance(r["totals"], dict) and is_hex(r["key"], 16)):
            raise Bad(n, "malformed")
        if r["seq"] != n:
            raise Bad(n, "seq")
        if (n and r["log"] != self.log) or (not n and self.want_log not in (None, r["log"])):
            raise Bad(n, "log")
        if n and r["prev"] != self.hashes[-1].hex():
            raise Bad(n, "prev")
        h = hashlib.sha256(b"storelink-journal-hash/v1\n" + raw).digest()
        if obj["hash"] != h.hex():
            raise Bad(n, "hash")
        b = r["body"]
        if n == 0:
            if not is_hex(b.get("pubkey"), 64):
                raise Bad(0, "genesis")
            pub = bytes.fromhex(b["pubkey"])
        else:
            if r["key"] != self.current:
                raise Bad(n, "key")
            pub = self.keys[r["key"]]
        if not ok_sig(pub, bytes.fromhex(obj["sig"]), statement(r, h)):
            raise Bad(n, "signature")
        if n == 0:
            self.genesis(r, pub)
        else:
            self.rules(r, n)
        self.n += 1
        self.hashes.append(h)
        self.types.append(r["type"])
        self.time = r["time"]

    def genesis(self, r: dict[str, Any], pub: bytes) -> None:
        if r["type"] != "genesis" or r["prev"] != "0" * 64 or r["key"] != key_id(pub):
            raise Bad(0, "genesis")
        want = {"absolute": 0, "counts": {"genesis": 1}, "methods": {}, "net": 0}
        if r["totals"] != want:
            raise Bad(0, "totals")
        self.log, self.current, self.totals = r["log"], r["key"], want
        self.keys[r["key"]] = pub
        self.close = (0, 0, want)

    def rules(self, r: dict[str, Any], n: int) -> None:
        t, b = r["type"], r["body"]
        if t == "genesis" or (t in ("sale", "refund", "void") and not lines_ok(b)):
            raise Bad(n, "body")
        if not strings_ok(b):
            raise Bad(n, "body")
        if any(b.get(k, -1) >= n for k in ("sale_seq", "approval_seq", "ref_seq", "handover_seq")):
            raise Bad(n, "body")
        if t == "day_close" and b["to_seq"] != n - 1:
            raise Bad(n, "body")
        if t == "split":
            first = b["of"] - len(b["parts"]) + 1
            if ([p["part"] for p in b["parts"]] != list(range(first, b["of"] + 1)) or first < 1
                    or ("replaces" in b) != (first > 1) or b.get("replaces", 0) >= first):
                raise Bad(n, "body")
        if (r["time"] != b["to"]) if t == "clock_set" else (r["time"] < self.time):
            raise Bad(n, "time")
        if "approval_seq" in b and self.types[b["approval_seq"]] != "approval":
            raise Bad(n, "reference")
        if t in ("refund", "void"):
            s = self.sales.get(b["sale_seq"])
            if s is None or s["voided"]:
                raise Bad(n, "reference")
            if t == "refund" and s["refunded"] + b["total"] > s["total"]:
                raise Bad(n, "reference")
            if t == "void" and (b["sale_seq"] <= self.close[0] or s["refunded"]
                                or b["total"] != s["total"] or b["payments"] != s["payments"]):
                raise Bad(n, "reference")
        totals = effect(self.totals, r)
        if r["totals"] != totals:
            raise Bad(n, "totals")
        if t == "day_close":
            want = {"z": self.close[1] + 1, "from_seq": self.close[0] + 1, "to_seq": n - 1,
                    "period": minus(self.totals, self.close[2])}
            if any(b[k] != v for k, v in want.items()):
                raise Bad(n, "totals")
            self.close = (n, b["z"], totals)
        if t == "key_rotate":
            new = bytes.fromhex(b["new_pubkey"])
            msg = (f"storelink-journal-key-rotate/v1\nlog {r['log']}\nseq {n}\nprev {r['prev']}\n"
                   f"old {r['key']}\nnew {b['new_key']}\n").encode()
            if (key_id(new) != b["new_key"] or b["new_key"] == r["key"]
                    or not ok_sig(new, bytes.fromhex(b["proof"]), msg)):
                raise Bad(n, "rotation")
            self.keys[b["new_key"]], self.current = new, b["new_key"]
        if t == "cosign":
            self.cosign(b, n)
        if t == "sale":
            self.sales[n] = {"total": b["total"], "refunded": 0, "voided": False,
                             "payments": b["payments"]}
        elif t == "refund":
            self.sales[b["sale_seq"]]["refunded"] += b["total"]
        elif t == "void":
            self.sales[b["sale_seq"]]["voided"] = True
        self.totals = totals

    def body_of(self, size: int, head: bytes) -> bytes:  # §10
        return (f"storelink.journal/{self.log}\n{size}\n"
                f"{base64.b64encode(head).decode()}\n").encode()

    def cosign(self, b: dict[str, Any], n: int) -> None:
        size = b["size"]
        if size < self.cosigned or self.hashes[size - 1].hex() != b["head"]:
            raise Bad(n, "cosign")
        if self.hq is not None:
            name, pub = self.hq
            kh = hashlib.sha256(name.encode() + b"\n\x04" + pub).digest()[:4]
            msg = (f"cosignature/v1\ntime {b['time']}\n".encode()
                   + self.body_of(size, bytes.fromhex(b["head"])))
            if (b["cosigner"], b["key_hash"]) != (name, kh.hex()) or not ok_sig(
                    pub, bytes.fromhex(b["sig"]), msg):
                raise Bad(n, "cosign")
        self.cosigned = size

    def checkpoint(self, text: str) -> None:  # §9.4, §10
        body, _, sigs = text.partition("\n\n")
        origin, size_s, head_b64 = body.split("\n")
        size, head = int(size_s), base64.b64decode(head_b64)
        assert origin == f"storelink.journal/{self.log}"
        signed = False
        for line in sigs.splitlines():
            _, name, blob_b64 = line.split(" ")
            blob = base64.b64decode(blob_b64)
            for pub in self.keys.values():
                if name == origin and blob[:4] == hashlib.sha256(
                        name.encode() + b"\n\x01" + pub).digest()[:4]:
                    signed = signed or ok_sig(pub, blob[4:], self.body_of(size, head))
        assert signed, "checkpoint not signed by this journal's keys"
        if size > self.n:
            raise Bad(self.n, "truncated")
        if self.hashes[size - 1] != head:
            raise Bad(size - 1, "fork")


def run(file: str, checkpoint: str | None, hq: tuple[str, bytes] | None,
        log: str | None = None) -> tuple[Any, ...]:
    v = Minimal(hq, log)
    try:
        for line in export_lines((VECTORS / file).read_bytes().decode("utf-8")):
            v.feed(line)
        if v.n == 0:
            raise Bad(0, "genesis")  # §9.2: no entry at all
        if checkpoint:
            v.checkpoint((VECTORS / checkpoint).read_text(encoding="utf-8"))
    except Bad as b:
        return ("invalid", b.seq, b.code)
    return ("valid",)


MANIFEST = json.loads((VECTORS / "manifest.json").read_text(encoding="utf-8"))
KEYS = json.loads((VECTORS / "keys.json").read_text(encoding="utf-8"))
HQ = (KEYS["hq"]["name"], bytes.fromhex(KEYS["hq"]["pubkey"]))


@pytest.mark.parametrize("case", MANIFEST["cases"], ids=[c["name"] for c in MANIFEST["cases"]])
@pytest.mark.parametrize("with_hq", [False, True])
def test_the_minimal_verifier_agrees_with_the_manifest(case: dict[str, Any], with_hq: bool
                                                       ) -> None:
    want = (("valid",) if case["verdict"] == "valid"
            else ("invalid", case["seq"], case["code"]))
    assert run(case["file"], case.get("checkpoint"), HQ if with_hq else None,
               case.get("log")) == want


TEXT_RULES = json.loads((VECTORS / "text-rules.json").read_text(encoding="utf-8"))["values"]


@pytest.mark.parametrize("case", TEXT_RULES, ids=[c["why"] for c in TEXT_RULES])
def test_the_text_rules_of_the_vectors(case: dict[str, Any]) -> None:
    name = "order" if case["kind"] == "id" else "detail"
    assert strings_ok({name: case["value"]}) == case["valid"]


def test_a_wrong_hq_key_fails_the_cosign_record() -> None:
    other = bytes.fromhex(KEYS["attacker"]["pubkey"])
    assert run("journal.jsonl", None, (HQ[0], other)) == ("invalid", 16, "cosign")


@pytest.mark.parametrize("receipt", MANIFEST["receipts"])
def test_receipts_check_offline_from_the_spec(receipt: dict[str, Any]) -> None:
    parts = receipt["qr"].split(":")  # §11
    assert parts[0] == "SLJ1" and len(parts) == 9
    _, log, seq, time, type_, amt, key, h, sig = parts
    msg = (f"storelink-journal-record/v1\nlog {log.lower()}\nseq {seq}\ntime {time}\n"
           f"type {type_.lower().replace('-', '_')}\namount {amt}\nkey {key.lower()}\n"
           f"hash {h.lower()}\n").encode()
    pubs = [bytes.fromhex(KEYS[k]["pubkey"]) for k in ("box1", "box2")
            if KEYS[k]["key_id"] == key.lower()]
    valid = any(ok_sig(p, bytes.fromhex(sig), msg) for p in pubs)
    assert valid == (receipt["verdict"] == "valid")
