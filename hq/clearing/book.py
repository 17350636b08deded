"""The clearing shell (blocking: call from a thread): every box's ledger kept current from HQ's
store, the checkpoints and alarms it rests on, previews, and recorded runs."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hq import HqError
from hq.clearing.clear import ALARM_KINDS, BoxInput, Checkpoint, LineSpec, clear, lines_for
from hq.clearing.ledger import BoxLedger
from hq.config import StoreEntry
from hq.store import HqStore, JournalHead
from hq.store.clearing import ClearingRun
from sync.journal import RecordError
from sync.journal.checkpoint import parse_note

CHUNK = 5000
MAX_ALARMS = 1000
TRIES = 5


class ClearingError(HqError):
    """A run could not be recorded (its day is already cleared)."""


def cosigned_ms(head: JournalHead) -> int | None:
    """When HQ cosigned the checkpoint it holds (from its own note), in ms."""
    cos = head.cosignature or {}
    try:
        signed = parse_note(str(cos.get("note", "")))
    except RecordError:
        return None
    for s in signed.signatures:
        if s.name == cos.get("cosigner") and len(s.sig) == 72:
            return int.from_bytes(s.sig[:8], "big") * 1000
    return None


def reported_size(state: Mapping[str, Any] | None, log: str) -> int | None:
    """How many records the box last said it holds of journal `log` (telemetry, else birth)."""
    if state is None:
        return None
    for part in ("telemetry", "birth"):
        j = (state.get(part) or {}).get("journal") or {}
        if j.get("log_id") == log and isinstance(j.get("head"), int):
            return int(j["head"])
    return None


class ClearingBook:
    """Clearing over HQ's store and configured stores (blocking)."""

    def __init__(self, store: HqStore, stores: Mapping[str, StoreEntry],
                 boxes: Callable[[], Iterable[str]], chunk: int = CHUNK) -> None:
        self.store = store
        self.stores = stores
        self.boxes = boxes
        self.chunk = chunk
        self._ledgers: dict[str, tuple[str, BoxLedger]] = {}
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()

    def specs(self) -> list[LineSpec]:
        """The lines: configured stores, then boxes in no store."""
        ids = [*self.boxes(), *(b for s in self.stores.values() for b in s.boxes)]
        return lines_for(((s.id, s.name, s.region, s.boxes) for s in self.stores.values()),
                         [b for b in ids if self.store.journal_head(b) is not None])

    def box(self, box: str) -> BoxInput | None:
        """One box brought up to what HQ holds, with the checkpoint it rests on."""
        with self._lock:
            head = self.store.journal_head(box)
            if head is None:
                return None
            log, ledger = self._ledgers.get(box, (head.log, BoxLedger(box)))
            if log != head.log or ledger.size > head.size:
                ledger = BoxLedger(box)
            while ledger.size < head.size:
                entries = self.store.journal_entries(box, ledger.size,
                                                     min(head.size, ledger.size + self.chunk))
                if not entries:
                    break
                for e in entries:
                    ledger.feed(json.loads(e.raw))
            self._ledgers[box] = (head.log, ledger)
            book = ledger.book()
        # The checkpoint is what the ledger read; its hash is the head's only when sizes agree.
        cp = Checkpoint(book.size, head.head.hex() if book.size == head.size else "",
                        cosigned_ms(head) if book.size == head.size else None)
        alarms = tuple((a["kind"], int(a["seq"])) for a in self.store.alarms(box, MAX_ALARMS)
                       if a["kind"] in ALARM_KINDS)
        return BoxInput(book, cp, alarms, reported_size(self.store.box_state(box), head.log))

    def inputs(self, specs: Iterable[LineSpec]) -> dict[str, BoxInput]:
        """Every box of the lines that HQ holds a journal of."""
        out = {}
        for b in sorted({b for s in specs for b in s.boxes}):
            got = self.box(b)
            if got is not None:
                out[b] = got
        return out

    def _compute(self, day: str) -> tuple[int, dict[str, Any]]:
        """The clearing of `day` against the newest run: (its number, the result)."""
        newest = self.store.clearing_runs(1)
        last_n, last = newest[0] if newest else (0, None)
        since = ({b: int(cp["size"]) for b, cp in last.body.get("checkpoints", {}).items()}
                 if last is not None else {})
        cleared = frozenset(d for _, d in self.store.clearing_days())
        specs = self.specs()
        boxes = self.inputs(specs)
        result = clear(day, specs, boxes, since, cleared)
        result["checkpoints"] = {b: x.checkpoint.to_json() for b, x in boxes.items()}
        result["cleared"] = day in cleared
        return last_n, result

    def preview(self, day: str) -> dict[str, Any]:
        """What a run of `day` would record now."""
        return self._compute(day)[1]

    def run(self, run_id: str, day: str, by: str, now_ms: int) -> ClearingRun:
        """Record the clearing of `day`; ClearingError if the day is already cleared."""
        with self._run_lock:
            for _ in range(TRIES):
                if any(d == day for _, d in self.store.clearing_days()):
                    break
                after, result = self._compute(day)
                result.pop("cleared", None)
                run = ClearingRun(run_id, day, by, now_ms,
                                  {**result, "id": run_id, "by": by, "at_ms": now_ms})
                if self.store.clearing_run_add(run, after):
                    return run
        raise ClearingError(f"{day} is already cleared")
