"""The shipped units give the daemons room for their connection caps (issue 11, point 6)."""

from __future__ import annotations

import re
from pathlib import Path

from agent.config import ApiConfig

UNITS = Path(__file__).resolve().parent.parent / "systemd"


def test_both_units_raise_the_descriptor_limit_above_the_connection_cap() -> None:
    for unit in ("storelink-agent.service", "storelink-hq.service"):
        text = (UNITS / unit).read_text(encoding="utf-8")
        m = re.search(r"^LimitNOFILE=(\d+)$", text, re.MULTILINE)
        assert m is not None, unit
        # Every connection is one descriptor; the rest is for databases, devices, the broker.
        assert int(m.group(1)) >= 4 * ApiConfig().max_connections, unit
