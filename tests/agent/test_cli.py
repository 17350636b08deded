"""The `storelink` command: every part's subcommands, hq's found through an entry point."""

from __future__ import annotations

import subprocess
import sys

import pytest

from agent.cli import build_parser, main


def test_help_lists_every_subcommand() -> None:
    text = build_parser().format_help()
    for name in ("config", "print", "sim", "agent", "demo", "journal", "devices", "hq"):
        assert f"    {name}" in text


def test_python_dash_m_agent_is_the_same_command() -> None:
    out = subprocess.run([sys.executable, "-m", "agent", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "journal" in out and "hq" in out


def test_a_missing_subcommand_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as e:
        main(["print"])
    assert e.value.code == 2
