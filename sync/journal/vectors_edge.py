"""Edge-case vectors of docs/vectors/ (docs/journal.md §2, §5, §8, §9.2): record shapes,
integers beyond 2⁵³, the characters texts and ids refuse, lengths in code points, export
framing, an empty export and an expected log id. Made by sync.journal.vectors."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sync.journal.chain import MemoryChain
from sync.journal.record import Entry, record_hash, sign_record
from sync.journal.totals import apply

Case = Callable[..., None]
"""vectors.generate's case(name, entries, seq, code, what, checkpoint=False)."""
Forge = Callable[[MemoryChain, str, dict[str, Any], int], Entry]

TEXT_VALUES: list[tuple[str, str, bool, str]] = [
    # (kind, value, valid, why)
    ("id", "XS-20261129-0041", True, "ASCII"),
    ("id", "收银台一号", True, "Chinese"),
    ("id", "C 001", False, "U+0020 space"),
    ("id", "C\u3000001", False, "U+3000 ideographic space is a space"),
    ("id", "C\u00a0001", False, "U+00A0 no-break space"),
    ("id", "XS\u200b-1", False, "U+200B zero width space (Cf)"),
    ("id", "K\u200d002", False, "U+200D zero width joiner: allowed in texts only"),
    ("id", "x" * 64, True, "64 code points"),
    ("id", "x" * 65, False, "65 code points"),
    ("id", "合" * 64, True, "64 code points (192 UTF-8 bytes)"),
    ("id", "\U00020000" * 64, True, "64 code points outside the BMP (no UTF-16 counting)"),
    ("id", "", False, "empty"),
    ("text(0,500)", "请开发票\u3000抬头：重庆江北建材", True, "U+3000 is allowed in texts"),
    ("text(0,500)", "👨\u200d👩\u200d👧", True, "U+200D joins emoji"),
    ("text(0,500)", "\u202eabc\u200b\x9b", False, "bidi override U+202E, U+200B, C1 U+009B"),
    ("text(0,500)", "abc\x9b", False, "C1 control U+009B (Cc)"),
    ("text(0,500)", "abc\x85", False, "C1 control U+0085 next line (Cc)"),
    ("text(0,500)", "a\u2066b\u2069", False, "bidi isolates U+2066, U+2069 (Cf)"),
    ("text(0,500)", "\ufeffabc", False, "U+FEFF byte order mark (Cf)"),
    ("text(0,500)", "a\u00adb", False, "U+00AD soft hyphen (Cf)"),
    ("text(0,500)", "a\u2028b", False, "U+2028 line separator"),
    ("text(0,500)", "a\tb", False, "U+0009 tab (Cc)"),
    ("text(0,500)", "a\x7fb", False, "U+007F delete (Cc)"),
    ("text(0,500)", "a\U000e0041b", False, "U+E0041 tag character (Cf)"),
    ("text(0,500)", "a\u2065b", True, "U+2065 is unassigned, not in the list: allowed"),
    ("text(0,500)", "合" * 500, True, "500 code points"),
    ("text(0,500)", "合" * 501, False, "501 code points"),
    ("text(0,500)", "", True, "empty"),
]
"""Values for the two string kinds of §5 (the verifier's rules; checked by the tests)."""


def text_rules() -> str:
    """docs/vectors/text-rules.json: every value \\u-escaped so nothing in it is invisible."""
    return json.dumps({"values": [{"kind": k, "value": v, "valid": ok, "why": why}
                                  for k, v, ok, why in TEXT_VALUES]},
                      ensure_ascii=True, indent=1) + "\n"


def _shaped(entry: Entry, member: str, value: Any) -> Entry:
    """`entry`'s record with `member` replaced (hash recomputed, signature kept: the shape
    check comes before the signature check)."""
    record = json.loads(entry.raw)
    record[member] = value
    raw = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    return Entry(raw, record_hash(raw), entry.sig)


def _timed(tip: MemoryChain, time: int) -> Entry:
    h = tip.head
    body = {"event": "user.logout", "actor": "C002"}
    record = {"body": body, "boot": "b", "key": h.key, "log": h.log, "prev": h.hash.hex(),
              "seq": h.size, "time": time, "totals": apply(h.totals, "audit", body).to_json(),
              "type": "audit", "v": 1}
    raw = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    return sign_record(record, raw, tip.signer)


def add_cases(files: dict[str, str], cases: list[dict[str, Any]], good: Sequence[Entry],
              tip: MemoryChain, case: Case, forge: Forge, day2: int) -> None:
    """Add the edge cases to `files` and `cases` (`tip`: the vectors' chain, to append to)."""

    def after(body: dict[str, Any], type_: str = "audit") -> list[Entry]:
        return [*good, forge(tip, type_, body, day2)]

    def valid(name: str, content: str, what: str, **extra: Any) -> None:
        files[f"tampered/{name}.jsonl"] = content
        cases.append({"name": name, "file": f"tampered/{name}.jsonl", "verdict": "valid",
                      "what": what, **extra})

    def raw_case(name: str, content: str, seq: int, code: str, what: str,
                 **extra: Any) -> None:
        files[f"tampered/{name}.jsonl"] = content
        cases.append({"name": name, "file": f"tampered/{name}.jsonl", "verdict": "invalid",
                      "seq": seq, "code": code, "what": what, **extra})

    lines = [e.export_line() for e in good]
    whole = "".join(lines)
    case("type_is_an_object", [*good[:3], _shaped(good[3], "type", {"sale": 1})], 3,
         "malformed", "a record whose type is a JSON object")
    case("type_is_an_array", [*good[:3], _shaped(good[3], "type", ["sale"])], 3, "malformed",
         "a record whose type is a JSON array")
    case("time_above_2_53", [*good, _timed(tip, 2**53)], 20, "malformed",
         "time 2⁵³: integers above 2⁵³−1 are out of range (box-signed)")
    audit = {"event": "user.logout", "actor": "C002"}
    case("bidi_in_text", after({**audit, "detail": "\u202e退款已批准\u200b\x9b"}), 20, "body",
         "a box-signed text holding a bidi override, a zero width space and a C1 control")
    case("c1_control_in_text", after({**audit, "detail": "补打小票\x9b"}), 20, "body",
         "a box-signed text holding the C1 control U+009B")
    case("ideographic_space_in_id", after({**audit, "actor": "C\u3000002"}), 20, "body",
         "a box-signed id holding U+3000 (a space)")
    case("text_501_code_points", after({**audit, "detail": "合" * 501}), 20, "body",
         "a box-signed text of 501 code points where 500 are allowed")
    valid("texts_allowed", "".join(e.export_line() for e in after(
        {**audit, "detail": "合" * 499 + "\u3000"})), "500 code points with U+3000 in a text")
    raw_case("crlf_lines", whole.replace("\n", "\r\n"), 0, "canonical",
             "export lines ending in CR LF (§8: a line is canonical JSON then LF)")
    spaced = lines[3].replace('"record":{', '"record": {', 1)
    raw_case("spaced_line", "".join([*lines[:3], spaced, *lines[4:]]), 3, "canonical",
             "an export line with a space outside strings")
    raw_case("blank_line_at_end", whole + "\n", 20, "canonical", "a blank line after the last")
    valid("no_final_newline", whole[:-1], "the last line's LF may be missing")
    raw_case("empty", "", 0, "genesis", "an empty export (as an empty journal table)")
    cases.append({"name": "another_log_expected", "file": "journal.jsonl",
                  "log": "0" * 32, "verdict": "invalid", "seq": 0, "code": "log",
                  "what": "the verifier was told to expect another log id (--log)"})
