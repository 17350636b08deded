"""Print the part of requirements.lock a box needs at run time: the project's own dependencies
and everything they pull in, with the lock's pins and hashes; the [test] extra's tools left out.

Usage: python3 scripts/runtime_requirements.py [requirements.lock [pyproject.toml]]
Standard library only: the installer runs it with the system's python3.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one -."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> dict[str, tuple[list[str], set[str]]]:
    """{name: (the entry's requirement lines, the names it is required `via`)}."""
    entries: dict[str, tuple[list[str], set[str]]] = {}
    current: str | None = None
    in_via = False
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            m = _NAME.match(line)
            if m is None:
                continue
            current = normalise(m.group(1))
            entries[current] = ([line], set())
            in_via = False
        elif current is None:
            continue
        elif line.strip().startswith("--hash"):
            entries[current][0].append(line)
        elif line.strip().startswith("# via"):
            rest = line.strip()[len("# via"):].strip()
            in_via = not rest
            if rest:
                entries[current][1].add(rest)
        elif in_via and line.strip().startswith("#   "):
            entries[current][1].add(line.strip()[4:].strip())
        else:
            in_via = False
    return entries


def runtime_names(entries: dict[str, tuple[list[str], set[str]]],
                  direct: list[str]) -> set[str]:
    """The direct run-time dependencies and every entry required via one of them."""
    keep = {normalise(_NAME.match(d).group(1)) for d in direct if _NAME.match(d)}  # type: ignore[union-attr]
    changed = True
    while changed:
        changed = False
        for name, (_, via) in entries.items():
            if name not in keep and any(normalise(v.split(" ")[0]) in keep for v in via):
                keep.add(name)
                changed = True
    return keep & set(entries)


def main(argv: list[str]) -> int:
    """Write the run-time requirement lines (with hashes) to stdout."""
    lock = Path(argv[1]) if len(argv) > 1 else ROOT / "requirements.lock"
    pyproject = Path(argv[2]) if len(argv) > 2 else ROOT / "pyproject.toml"
    direct = tomllib.loads(pyproject.read_text("utf-8"))["project"]["dependencies"]
    entries = parse_lock(lock.read_text("utf-8"))
    missing = [d for d in direct if normalise(_NAME.match(d).group(1)) not in entries]  # type: ignore[union-attr]
    if missing:
        print(f"{lock}: not pinned: {', '.join(missing)}; run `make lock`", file=sys.stderr)
        return 1
    for name in sorted(runtime_names(entries, direct)):
        lines = entries[name][0]
        print(" \\\n".join(line.rstrip(" \\") for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
