"""HQ's rooms import only the rooms below them: store at the bottom, web and service on top."""

from __future__ import annotations

import ast
from pathlib import Path

HQ = Path(__file__).resolve().parents[2] / "hq"
BELOW: dict[str, set[str]] = {
    "config": {"alert_config"},
    "alert_config": set(),
    "store": set(),
    "ingest": {"store", "config"},
    "fleet": {"store", "config"},
    "dispatch": {"store", "config"},
    "settlement": {"store", "config"},
    "alerts": {"store", "config", "alert_config", "fleet", "settlement"},
    "workshop": {"store", "config"},
    "clearing": {"store", "config", "settlement"},
    "people": {"store", "config"},
    "orders": {"store", "config", "people"},
    "catalog": {"store", "config"},
    "reports": {"store", "config"},
    "web": {"store", "config", "ingest", "fleet", "dispatch", "settlement", "workshop",
            "people", "pairing", "orders", "clearing", "alerts", "alert_config", "catalog",
            "reports"},
    "service": {"store", "config", "ingest", "fleet", "dispatch", "settlement", "workshop", "web",
                "people", "pairing", "clearing", "alerts", "alert_config"},
    "doctor": {"config", "pki"},
    "pki": set(),
    "pairing": {"config", "pki", "store"},
    "releases": {"config"},
    "cli": {"config", "service", "store", "doctor", "people", "pki", "pairing", "releases",
            "orders", "catalog"},
}
"""Each room of hq/ and the rooms it may import (besides itself and the package root)."""


def room_of(module: str) -> str | None:
    """The hq room a dotted module name belongs to (None for the package root)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "hq" and len(parts) > 1 else None


def hq_imports(path: Path) -> set[str]:
    """The hq modules one source file imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "hq")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "hq":
            found.add(node.module)
    return found


def test_every_room_is_known() -> None:
    rooms = {p.stem if p.is_file() else p.name for p in HQ.iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert rooms == set(BELOW)


def test_rooms_import_only_the_rooms_below_them() -> None:
    bad = []
    for f in sorted(HQ.rglob("*.py")):
        rel = f.relative_to(HQ)
        room = rel.parts[0].removesuffix(".py")
        if room == "__init__":
            continue
        for module in hq_imports(f):
            target = room_of(module)
            if target is not None and target != room and target not in BELOW[room]:
                bad.append(f"hq/{rel.as_posix()} imports {module}")
    assert bad == []


def test_the_checker_sees_a_room_import(tmp_path: Path) -> None:
    f = tmp_path / "x.py"
    f.write_text("import hq.web.api\nfrom hq.store import HqStore\nfrom hq import HqError\n")
    assert hq_imports(f) == {"hq.web.api", "hq.store", "hq"}
    assert [room_of(m) for m in sorted(hq_imports(f))] == [None, "store", "web"]
