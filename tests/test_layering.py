"""The layering rule: validation/ imports nothing of ours, drivers/ and sync/ only validation/;
hq/ imports no agent code."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = {"agent", "drivers", "sync", "hq", "validation"}
ALLOWED = {"validation": {"validation"}, "drivers": {"drivers", "validation"},
           "sync": {"sync", "validation"}, "hq": {"hq", "sync", "drivers", "validation"},
           "agent": {"agent", "drivers", "sync", "validation"}}


def imported_roots(path: Path) -> set[str]:
    """Top-level package names imported by one source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_packages_import_only_what_their_layer_allows() -> None:
    bad = []
    for pkg, allowed in ALLOWED.items():
        files = sorted((ROOT / pkg).rglob("*.py"))
        assert files, f"{pkg}/ has no sources"
        for f in files:
            for root in imported_roots(f) & OURS - allowed:
                bad.append(f"{f.relative_to(ROOT)} imports {root}")
    assert bad == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    f = tmp_path / "x.py"
    f.write_text("import os\nfrom agent.config import load\nimport sync.journal as j\n")
    assert imported_roots(f) == {"os", "agent", "sync"}
