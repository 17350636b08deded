"""The box and HQ keep the edge policy and the connection guard in two copies each (hq/ may not
import agent/): the same code."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _code(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text[text.index('"""', 3) + 3:]  # everything after the module docstring


def test_the_box_and_hq_edge_policies_are_the_same_code() -> None:
    assert _code(ROOT / "agent" / "api" / "edge.py") == _code(ROOT / "hq" / "edge.py")


def test_the_box_and_hq_connection_guards_are_the_same_code() -> None:
    assert _code(ROOT / "agent" / "api" / "connections.py") == _code(ROOT / "hq" / "connections.py")
