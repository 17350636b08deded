"""Reading stored record bytes in one pass when they have the usual shape (docs/journal.md §2, §3).

A canonical record's members come in a fixed order, so everything but `body` and `totals` can
be read and range-checked by one regular expression; only those two objects are parsed and
re-encoded (split_record even leaves the totals as text, for a verifier that knows what they
must be). Anything unusual returns None and takes the general path, which gives the verdict:
what this accepts, canonical parsing plus the envelope check accept too, with an equal result.
"""

from __future__ import annotations

import re
from typing import Any

from sync.journal import RecordError
from sync.journal.canonical import MAX_SAFE, canonical_at
from sync.journal.schema import TYPES

_HEAD = '{"body":'
_MIDDLE = re.compile(
    r',"boot":"([0-9a-z-]{1,64})","key":"([0-9a-f]{16})","log":"([0-9a-f]{32})"'
    r',"prev":"([0-9a-f]{64})","seq":(0|[1-9][0-9]{0,15}),"time":(0|[1-9][0-9]{0,15})'
    r',"totals":')
_TAIL_START = ',"type":"'
_TAIL = re.compile(r',"type":"([a-z_]{1,16})","v":1}')
_TYPES = frozenset(TYPES)


def split_record(raw: bytes) -> tuple[dict[str, Any], str] | None:
    """The record in `raw` with `totals` still unread (None), and the totals' text; None to
    look closer. Everything but the totals is canonical and well-formed as in parse_record.

    The caller must then compare the text with the canonical encoding of the totals it
    expects: equal text is canonical and equal; any other text needs the general path.
    """
    try:
        text = raw.decode("utf-8")
        if not text.startswith(_HEAD):
            return None
        body, end = canonical_at(text, len(_HEAD))
    except (ValueError, RecordError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    middle = _MIDDLE.match(text, end)
    if middle is None or type(body) is not dict:
        return None
    at = text.rfind(_TAIL_START)  # the last one: the totals' text may not hold it
    tail = _TAIL.match(text, at) if at >= middle.end() else None
    if tail is None or tail.end() != len(text) or tail[1] not in _TYPES:
        return None
    boot, key, log, prev, seq_text, time_text = middle.groups()
    seq, time = int(seq_text), int(time_text)
    if seq > MAX_SAFE or time > MAX_SAFE:
        return None
    return ({"body": body, "boot": boot, "key": key, "log": log, "prev": prev, "seq": seq,
             "time": time, "totals": None, "type": tail[1], "v": 1}, text[middle.end():at])


def parse_record(raw: bytes) -> dict[str, Any] | None:
    """The record in `raw` if it is canonical with a well-formed envelope; None to look closer.

    A record returned here has exactly the ten members with their types and ranges (§9.2 step
    2); the body's and totals' insides are not checked.
    """
    split = split_record(raw)
    if split is None:
        return None
    record, text = split
    try:
        totals, end = canonical_at(text, 0)
    except (ValueError, RecordError):
        return None
    if end != len(text) or type(totals) is not dict:
        return None
    record["totals"] = totals
    return record
