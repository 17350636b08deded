"""Fixtures shared by the e2e tests: a plain world (broker, HQ, box) and a plain journal box;
a module needing another setup defines its own fixture of the same name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.journal_box import JournalBox
from tests.e2e.world import World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with World(tmp_path) as w:
        yield w


@pytest.fixture
def journal_box(tmp_path: Path) -> Iterator[JournalBox]:
    with JournalBox(tmp_path) as b:
        yield b
