"""Issue 11 #14: requirements.lock pins every dependency (and the [test] extra) with hashes,
inside pyproject.toml's ranges, and the installer installs from it alone."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ \\]+) \\$")
HASH = re.compile(r"^ +--hash=sha256:([0-9a-f]{64})(?: \\)?$")


def locked() -> dict[str, tuple[str, list[str]]]:
    """Name → (version, hashes) of every pin in the lock."""
    out: dict[str, tuple[str, list[str]]] = {}
    name = ""
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if m := PIN.match(line):
            name = canonicalize_name(m.group(1))
            assert name not in out, f"{name} pinned twice"
            out[name] = (m.group(2), [])
        elif m := HASH.match(line):
            out[name][1].append(m.group(1))
        else:
            assert not line.strip() or line.lstrip().startswith("#"), line
    return out


def test_every_dependency_is_pinned_with_hashes_inside_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = locked()
    assert all(hashes for _, hashes in pins.values()), "a pin without a hash"
    wanted = [Requirement(r) for r in project["dependencies"]]
    wanted += [Requirement(r) for r in project["optional-dependencies"]["test"]]
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    wanted += [Requirement(r) for r in build]
    for req in wanted:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req} is not in requirements.lock (run `make lock`)"
        version = pins[name][0]
        assert req.specifier.contains(version, prereleases=True), (
            f"{name}=={version} is outside pyproject.toml's {req}")


def test_the_installer_installs_only_from_the_lock() -> None:
    script = (ROOT / "scripts" / "bootstrap").read_text(encoding="utf-8")
    installs = [line.strip() for line in script.splitlines()
                if re.search(r"\bpip install\b", line)]
    assert installs == [
        ".venv/bin/pip install -q --require-hashes -r requirements.lock",
        ".venv/bin/pip install -q --no-deps --no-build-isolation -e ."], installs
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "scripts/bootstrap" in ci and "pip install" not in ci
    assert "lock:" in (ROOT / "Makefile").read_text(encoding="utf-8")
