"""Test vectors of docs/vectors/: fixed keys, a short valid journal, tampered variants, receipts.

`python -m sync.journal.vectors docs/vectors` writes them; a test checks the committed files match.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.journal.chain import MemoryChain, cosign_body
from sync.journal.checkpoint import cosign, origin, vkey
from sync.journal.receipt_qr import from_entry
from sync.journal.record import (
    Entry,
    encode_record,
    key_id,
    public_bytes,
    record_hash,
    record_statement,
    rotation_statement,
    sign_record,
)
from sync.journal.totals import Totals, apply
from sync.journal.vectors_edge import add_cases, text_rules

BASE = 1795914000000
"""2026-11-29 09:00 in Chongqing (01:00 UTC), in ms."""
LOG = "5e1f0c2a9b7d4e6f8a1b2c3d4e5f6a7b"
BOOT = "3f9a1c2e-7b4d-4e8f-9a0b-1c2d3e4f5a6b"
HQ_NAME = "hq.storelink.example/witness"
MIN = 60_000
CATALOG = {
    "JC-1001": ("不锈钢合页 4寸", 850), "JC-1002": ("静音抽屉滑轨 三节", 3600),
    "JC-1003": ("十字沉头自攻螺丝", 1800), "JC-2001": ("E0级生态板", 16800),
    "JC-3001": ("净味全效墙面漆 白色", 39800), "JC-4001": ("PPR冷热水管 4分", 2350),
    "JC-4002": ("PPR等径弯头", 120), "JC-5001": ("BV铜芯电线 2.5平方", 21800),
    "JC-5002": ("86型五孔插座 雅白", 1250),
}


def test_key(label: str) -> Ed25519PrivateKey:
    """A fixed, public test key (never use it for anything real)."""
    seed = hashlib.sha256(b"storelink journal test vector: " + label.encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


BOX1, BOX2, HQ, ATTACKER = (test_key(n) for n in ("box key 1", "box key 2", "hq key", "attacker"))


def lines(*items: tuple[str, int]) -> list[dict[str, Any]]:
    """Sale lines from (sku, qty) pairs at catalog prices."""
    return [{"sku": sku, "name": CATALOG[sku][0], "qty": qty, "unit_price": CATALOG[sku][1],
             "amount": qty * CATALOG[sku][1]} for sku, qty in items]


def sale(order: str, items: list[dict[str, Any]], *pay: tuple[str, int],
         **extra: str) -> dict[str, Any]:
    """A sale body paid by (method, amount) pairs."""
    return {"order": order, "lines": items, "total": sum(x["amount"] for x in items),
            "payments": [{"method": m, "amount": a} for m, a in pay], "till": "T1",
            "cashier": "C001", **extra}


def build(rewrite: int | None = None) -> tuple[MemoryChain, dict[str, Any]]:
    """The valid journal (20 records); with `rewrite`=k the sale at k is altered (a fork)."""
    c = MemoryChain(log=LOG, key=BOX1, time=BASE, boot=BOOT,
                    extra={"store": "CQ-JB-001", "device": "box-cq-jb-001",
                           "name": "重庆江北建材旗舰店"})
    t = BASE
    c.append("audit", {"event": "user.login", "actor": "C001", "detail": "李晓燕 登录收银台 T1"},
             t + 1 * MIN)
    c.append("sale", sale("XS-20261129-0041", lines(("JC-1001", 40), ("JC-1003", 6),
                                                    ("JC-4002", 120)), ("wechat", 59200),
                          customer="K002", salesperson="S101"), t + 5 * MIN)
    c.append("sale", sale("XS-20261129-0042", lines(("JC-2001", 12), ("JC-3001", 4),
                                                    ("JC-1001", 16), ("JC-5002", 30)),
                          ("alipay", 400000), ("cash", 11900), customer="K003"), t + 9 * MIN)
    c.append("payment", {"purpose": "credit_settlement", "method": "card", "amount": 50000,
                         "customer": "K003", "note": "永盛家装 十一月挂账还款"}, t + 15 * MIN)
    c.append("approval", {"action": "refund", "approver": "M001", "via": "badge",
                          "subject": "XS-20261129-0041 退 2 盒螺丝", "amount": 3600}, t + 20 * MIN)
    c.append("refund", {"sale_seq": 2, "order": "XS-20261129-0041",
                        "lines": lines(("JC-1003", 2)), "total": 3600,
                        "payments": [{"method": "wechat", "amount": 3600}], "reason": "规格不符",
                        "approval_seq": 5, "till": "T1", "cashier": "C001"}, t + 21 * MIN)
    c.append("sale", sale("XS-20261129-0043", lines(("JC-5001", 8), ("JC-4001", 60),
                                                    ("JC-4002", 200), ("JC-1002", 10)),
                          ("member", 75400), ("credit", 300000), customer="K001"), t + 30 * MIN)
    c.append("device_fault", {"device": "printer-T1-receipt", "fault": "paper_out",
                              "state": "raised", "detail": "收银小票打印机缺纸"}, t + 31 * MIN)
    c.append("device_fault", {"device": "printer-T1-receipt", "fault": "paper_out",
                              "state": "cleared"}, t + 33 * MIN)
    c.append("clock_set", {"from": t + 34 * MIN, "to": t + 32 * MIN, "reason": "backward_jump"},
             t + 32 * MIN)
    qty = 2 if rewrite == 11 else 1
    c.append("sale", sale("XS-20261129-0044", lines(("JC-1002", qty)), ("cash", 3600 * qty)),
             t + 40 * MIN)
    c.append("approval", {"action": "void", "approver": "M001", "via": "badge",
                          "subject": "XS-20261129-0044 收银员录错"}, t + 41 * MIN)
    c.append("void", {"sale_seq": 11, "total": 3600 * qty,
                      "payments": [{"method": "cash", "amount": 3600 * qty}],
                      "reason": "收银员录错", "approval_seq": 12, "till": "T1", "cashier": "C001"},
             t + 42 * MIN)
    c.append("handover", {"task": "SC-20261129-001", "step": 20, "step_name": "冲压",
                          "from_worker": "W001", "to_worker": "W002", "qty": 78,
                          "defects": [{"reason": "划伤", "qty": 2}],
                          "batch": "SC-20261129-001-03", "piece_rate": 8}, t + 50 * MIN)
    c.day_close("2026-11-29", t + 600 * MIN, till="T1", cashier="C001", cash_counted=15500)
    closed = c.checkpoint()
    cosigned = cosign(closed, HQ_NAME, HQ, (t + 601 * MIN) // 1000)
    c.append("cosign", cosign_body(cosigned, HQ_NAME), t + 602 * MIN)
    c.rotate(BOX2, "年度密钥轮换", t + 603 * MIN)
    qty = 3 if rewrite == 18 else 2
    c.append("sale", sale("XS-20261130-0001", lines(("JC-5002", qty)), ("wechat", 1250 * qty)),
             t + 1440 * MIN)
    c.append("audit", {"event": "receipt.reprint", "actor": "C002", "ref_seq": 18,
                       "detail": "顾客要求补打小票"}, t + 1441 * MIN)
    return c, {"day_close_checkpoint": cosigned.text()}


WORKSHOP_LOG = "7c2e9a4b1d3f5e6a8b0c1d2e3f4a5b6c"
ROUTE = [{"step": 10, "name": "下料", "piece_rate": 5},
         {"step": 20, "name": "冲压", "piece_rate": 8},
         {"step": 30, "name": "焊接", "piece_rate": 12, "outsource": "allowed"},
         {"step": 40, "name": "抛光", "piece_rate": 6, "outsource": "allowed", "optional": "yes"}]


def build_workshop() -> MemoryChain:
    """A workshop journal: a production task, its split into containers, a re-split of one
    part, a handover, a flow card reprint and the handover undone (docs/journal.md §5)."""
    c = MemoryChain(log=WORKSHOP_LOG, key=BOX1, time=BASE, boot=BOOT,
                    extra={"store": "CQ-WS-001", "device": "box-cq-ws-001",
                           "name": "重庆五金加工车间"})
    t = BASE
    c.append("production_task", {"task": "SC-20261129-001", "product": "CP-8801",
                                 "product_name": "不锈钢门铰链 组件", "spec": "4寸 304", "qty": 250,
                                 "route": ROUTE, "due": "2026-12-05", "source": "hq"}, t + MIN)
    c.append("split", {"task": "SC-20261129-001", "of": 4,
                       "parts": [{"part": n, "qty": q} for n, q in ((1, 80), (2, 80), (3, 80),
                                                                      (4, 10))]}, t + 2 * MIN)
    c.append("split", {"task": "SC-20261129-001", "of": 6, "replaces": 3,
                       "parts": [{"part": 5, "qty": 40}, {"part": 6, "qty": 40}]}, t + 3 * MIN)
    c.append("handover", {"task": "SC-20261129-001", "step": 10, "step_name": "下料",
                          "from_worker": "W001", "to_worker": "-", "qty": 78,
                          "defects": [{"reason": "尺寸超差", "qty": 2}],
                          "batch": "SC-20261129-001#1/4", "piece_rate": 5}, t + 30 * MIN)
    c.append("audit", {"event": "flow_card.reprint", "actor": "M001",
                       "detail": "SC-20261129-001 2/4 流转卡补打"}, t + 31 * MIN)
    c.append("handover_undo", {"handover_seq": 4, "reason": "扫错工牌", "station": "ws-10",
                               "actor": "W001"}, t + 32 * MIN)
    return c


def forge(c: MemoryChain, type_: str, body: dict[str, Any], time: int,
          totals: Totals | None = None) -> Entry:
    """A record after `c`'s head signed by its current key without any rule checked."""
    h = c.head
    record, raw = encode_record(log=h.log, seq=h.size, time=time, boot=BOOT, type_=type_,
                                body=body, prev=h.hash,
                                totals=totals or apply(h.totals, type_, body), key=h.key)
    return sign_record(record, raw, c.signer)


def resigned(entry: Entry, edit: Callable[[dict[str, Any]], None], key: Ed25519PrivateKey,
             keep_sig: bool = False) -> Entry:
    """`entry` with its record edited, rehashed and (unless keep_sig) re-signed by `key`."""
    record = entry.record()
    edit(record)
    record, raw = encode_record(log=record["log"], seq=record["seq"], time=record["time"],
                                boot=record["boot"], type_=record["type"], body=record["body"],
                                prev=bytes.fromhex(record["prev"]),
                                totals=Totals.from_json(record["totals"]), key=record["key"])
    if keep_sig:
        return Entry(raw, record_hash(raw), entry.sig)
    return sign_record(record, raw, key)


def _jsonl(entries: Sequence[Entry]) -> str:
    return "".join(e.export_line() for e in entries)


def generate() -> dict[str, str]:
    """Every vector file: relative path → content."""
    c, extra = build()
    good = list(c.entries)
    checkpoint = cosign(c.checkpoint(), HQ_NAME, HQ, (BASE + 1442 * MIN) // 1000).text()
    files: dict[str, str] = {"journal.jsonl": _jsonl(good), "checkpoint.txt": checkpoint,
                             "day-close-checkpoint.txt": extra["day_close_checkpoint"]}
    cases: list[dict[str, Any]] = [
        {"name": "valid", "file": "journal.jsonl", "verdict": "valid"},
        {"name": "valid_against_checkpoint", "file": "journal.jsonl",
         "checkpoint": "checkpoint.txt", "verdict": "valid"},
    ]

    def case(name: str, entries: Sequence[Entry], seq: int, code: str, what: str,
             checkpoint: bool = False) -> None:
        files[f"tampered/{name}.jsonl"] = _jsonl(entries)
        cases.append({"name": name, "file": f"tampered/{name}.jsonl",
                      **({"checkpoint": "checkpoint.txt"} if checkpoint else {}),
                      "verdict": "invalid", "seq": seq, "code": code, "what": what})

    def raw_edit(i: int, old: str, new: str) -> list[Entry]:
        out = list(good)
        text = out[i].raw.decode()
        assert old in text
        out[i] = Entry(text.replace(old, new, 1).encode(), out[i].hash, out[i].sig)
        return out

    case("amount_changed", raw_edit(3, '"total":411900', '"total":41190'), 3, "hash",
         "a sale's total edited in place")
    case("record_deleted", good[:4] + good[5:], 4, "seq", "a middle record removed")
    case("records_swapped", [*good[:8], good[9], good[8], *good[10:]], 8, "seq",
         "two records exchanged")
    case("record_inserted", [*good[:8], _forged_at(good, 8, ATTACKER), *good[8:]], 8,
         "signature", "a record made without the box key slipped in")
    case("truncated", good[:18], 18, "truncated", "the last records cut off", checkpoint=True)
    cases.append({"name": "truncated_alone", "file": "tampered/truncated.jsonl",
                  "verdict": "valid", "what": "a truncated tail is invisible without a checkpoint"})
    other = list(good)
    other[7] = Entry(good[7].raw, good[7].hash,
                     ATTACKER.sign(record_statement(good[7].record(), good[7].hash)))
    case("resigned_other_key", other, 7, "signature", "a record re-signed with another key")
    case("forked", build(rewrite=18)[0].entries, 19, "fork",
         "history rewritten from seq 18 with the stolen box key", checkpoint=True)
    cases.append({"name": "forked_alone", "file": "tampered/forked.jsonl", "verdict": "valid",
                  "what": "a rewrite above the last cosigned size needs a checkpoint or receipt"})
    case("forked_below_cosign", _fork_below_cosign(good), 16, "cosign",
         "history rewritten from seq 11 with the stolen keys: HQ's cosignature no longer fits")

    case("totals_edited", _totals_edited(good), 7, "signature",
         "a sale and every later total edited consistently, hashes relinked, not re-signed")
    tip = build()[0]

    def tail(entry: Entry) -> list[Entry]:
        return [*good, entry]

    case("sale_lines_mismatch", tail(forge(tip, "sale", _bad_sale(), BASE + 1442 * MIN)), 20,
         "body", "a box-signed sale whose lines do not add up to its total")
    case("totals_wrong", tail(forge(tip, "sale", sale("XS-20261130-0002", lines(
        ("JC-1001", 1)), ("cash", 850)), BASE + 1442 * MIN, Totals(1, 1, {}, {}))), 20, "totals",
         "a box-signed record whose totals do not follow from the previous ones")
    case("time_backwards", tail(forge(tip, "audit", {"event": "user.logout", "actor": "C002"},
                                      BASE + 1000 * MIN)), 20, "time",
         "time goes back without a clock_set record")
    case("refund_exceeds_sale", tail(forge(tip, "refund", {
        "sale_seq": 2, "order": "XS-20261129-0041",
        "lines": lines(("JC-1001", 40), ("JC-1003", 6), ("JC-4002", 120)),
        "total": 59200, "payments": [{"method": "wechat", "amount": 59200}],
        "reason": "整单退货"}, BASE + 1442 * MIN)), 20, "reference",
         "refunds of a sale exceeding what it was sold for")
    case("float_amount", raw_edit(3, '"total":411900', '"total":411900.0'), 3, "canonical",
         "a number with a fraction (only integers are allowed)")

    def bad_proof(r: dict[str, Any]) -> None:
        r["body"]["proof"] = ATTACKER.sign(b"not a rotation").hex()

    case("bad_rotation_proof", [*good[:17], resigned(good[17], bad_proof, BOX1), *good[18:]], 17,
         "rotation", "a key rotation whose proof is not signed by the new key")
    add_cases(files, cases, good, tip, case, forge, BASE + 1442 * MIN)
    files["text-rules.json"] = text_rules()
    workshop = list(build_workshop().entries)
    files["workshop.jsonl"] = _jsonl(workshop)
    cases.append({"name": "workshop_valid", "file": "workshop.jsonl", "verdict": "valid",
                  "what": "a production task, its split, a re-split, a handover, a reprint"})
    w_tip = build_workshop()
    case("split_misnumbered", [*workshop, forge(w_tip, "split", {
        "task": "SC-20261129-001", "of": 8, "replaces": 7,
        "parts": [{"part": 7, "qty": 5}, {"part": 8, "qty": 5}]}, BASE + 40 * MIN)], 7, "body",
         "a re-split that replaces one of the parts it makes")
    receipts = [from_entry(good[2]), from_entry(good[18]), from_entry(good[6])]
    tampered = receipts[0].text().replace(":59200:", ":5920:")
    files["manifest.json"] = json.dumps({
        "format": 1, "log": LOG, "origin": origin(LOG), "journal": "journal.jsonl",
        "checkpoint": "checkpoint.txt", "keys": "keys.json", "cases": cases,
        "receipts": [{"qr": r.text(), "verdict": "valid", "seq": r.seq} for r in receipts]
        + [{"qr": tampered, "verdict": "invalid", "seq": 2}],
    }, ensure_ascii=False, indent=1) + "\n"
    files["keys.json"] = json.dumps({
        "warning": "public test keys: never use them for anything real",
        "box1": _key_json(BOX1), "box2": _key_json(BOX2), "attacker": _key_json(ATTACKER),
        "hq": {**_key_json(HQ), "name": HQ_NAME, "vkey": vkey(HQ_NAME, public_bytes(HQ), 0x04)},
    }, indent=1) + "\n"
    return files


def _forged_at(good: list[Entry], seq: int, key: Ed25519PrivateKey) -> Entry:
    """A record at `seq` linked after good[seq-1], claiming the box's key id, signed by `key`."""
    before = good[seq - 1].record()
    body = {"event": "drawer.open", "actor": "C001", "detail": "无单开钱箱"}
    record, raw = encode_record(log=LOG, seq=seq, time=before["time"], boot=BOOT, type_="audit",
                                body=body, prev=good[seq - 1].hash,
                                totals=apply(Totals.from_json(before["totals"]), "audit", body),
                                key=before["key"])
    return sign_record(record, raw, key)


def _fork_below_cosign(good: list[Entry]) -> list[Entry]:
    """Sale 11 rewritten with the stolen box keys; HQ's cosignature (seq 16) is copied over."""
    forked = build(rewrite=11)[0].entries
    out = forked[:16]
    for i in range(16, len(good)):
        def edit(r: dict[str, Any], i: int = i) -> None:
            r["prev"] = out[i - 1].hash.hex()
            r["totals"] = forked[i].record()["totals"]
            if i == 16:
                r["body"] = good[16].record()["body"]
            if r["type"] == "key_rotate":
                r["body"]["proof"] = BOX2.sign(rotation_statement(
                    LOG, i, r["prev"], r["key"], r["body"]["new_key"])).hex()
        out.append(resigned(good[i], edit, BOX1 if i <= 17 else BOX2))
    return out


def _totals_edited(good: list[Entry]) -> list[Entry]:
    """Sale 7 gets one more roll of wire on credit; its totals and all later ones follow."""
    extra = 21800
    out = list(good[:7])
    for i in range(7, len(good)):
        def edit(r: dict[str, Any], i: int = i) -> None:
            if i == 7:
                r["body"]["lines"][0]["qty"] += 1
                r["body"]["lines"][0]["amount"] += extra
                r["body"]["total"] += extra
                r["body"]["payments"][1]["amount"] += extra
            if r["type"] == "day_close":
                r["body"]["period"]["net"] += extra
                r["body"]["period"]["absolute"] += extra
                r["body"]["period"]["methods"]["credit"] += extra
            r["totals"]["net"] += extra
            r["totals"]["absolute"] += extra
            r["totals"]["methods"]["credit"] += extra
            r["prev"] = out[i - 1].hash.hex()
        out.append(resigned(good[i], edit, BOX1, keep_sig=True))
    return out


def _bad_sale() -> dict[str, Any]:
    body = sale("XS-20261130-0002", lines(("JC-1001", 1)), ("cash", 8500))
    body["total"] = 8500
    return body


def _key_json(key: Ed25519PrivateKey) -> dict[str, str]:
    pub = public_bytes(key)
    seed = key.private_bytes_raw()
    return {"seed": seed.hex(), "pubkey": pub.hex(), "key_id": key_id(pub)}


def write(directory: Path) -> list[Path]:
    """Write every vector file under `directory`; return the paths written."""
    written = []
    for name, content in generate().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8", newline="")  # CR LF vectors stay CR LF
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m sync.journal.vectors [DIR]` (default docs/vectors)."""
    args = list(sys.argv[1:] if argv is None else argv)
    for path in write(Path(args[0] if args else "docs/vectors")):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
