"""Per-box folds over HQ's stored journals, each caught up by reading only what was appended."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar

from hq.store import HqStore


class Fold(Protocol):
    """Something fed one box's records in seq order from 0; `size` counts those it took."""

    @property
    def size(self) -> int: ...

    def feed(self, record: Mapping[str, Any]) -> object: ...


F = TypeVar("F", bound=Fold)
R = TypeVar("R")


class JournalFolds(Generic[F]):
    """One fold per box, made by `fresh(box)`, kept current from HQ's store (blocking: call
    from a thread).

    Stored journal records are verified and never rewritten, so a fold reads only what was
    appended since the last call; a fold of another log, or longer than the head, starts again.
    """

    def __init__(self, store: HqStore, fresh: Callable[[str], F], chunk: int) -> None:
        self.store = store
        self.fresh = fresh
        self.chunk = chunk
        self._folds: dict[str, tuple[str, F]] = {}
        self._lock = threading.Lock()

    def read(self, box: str, view: Callable[[F], R]) -> R | None:
        """`view` of `box`'s fold brought up to date (under the lock); None without a journal."""
        with self._lock:
            head = self.store.journal_head(box)
            if head is None:
                return None
            log, fold = self._folds.get(box, (head.log, self.fresh(box)))
            if log != head.log or fold.size > head.size:
                fold = self.fresh(box)
            while fold.size < head.size:
                entries = self.store.journal_entries(box, fold.size,
                                                     min(head.size, fold.size + self.chunk))
                if not entries:
                    break
                for e in entries:
                    fold.feed(json.loads(e.raw))
            self._folds[box] = (head.log, fold)
            return view(fold)
