"""One declarative validation layer: input decoded into frozen msgspec Structs, one error contract.

Every error is a Problem naming the bad part by dotted path (`printers[0].port`) with a reason
that says what was wanted: a wrong type names both types ("must be an integer, got a string"),
a value out of range gives the range, an unknown key suggests the nearest known one. Imports
nothing else of Storelink; every package may import it and wraps ValidationError in its own
root exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import msgspec


class Problem(NamedTuple):
    """One bad part of an input: its dotted path ("" for the whole input) and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class ValidationError(Exception):
    """The input does not fit its schema; `problems` lists each bad part (at least one)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        assert problems, "a ValidationError names at least one problem"
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = tuple(problems)

    @property
    def path(self) -> str:
        """The dotted path of the first problem."""
        return self.problems[0].path

    @property
    def reason(self) -> str:
        """The reason of the first problem."""
        return self.problems[0].reason


class Schema(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of every input schema: immutable, unknown keys refused, fields by name only."""


def join(prefix: str, key: str | int) -> str:
    """The dotted path of `key` (a name or a list index) inside `prefix`."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key
