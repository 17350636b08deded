"""`[[stations]]` in the box's configuration: every problem named by its key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.config import ConfigError
from tests.agent.station.conftest import station_config

SCANNER = {"id": "s10", "kind": "serial", "device": "/dev/ttyACM0"}


def config(tmp_path: Path, *stations: dict[str, Any]) -> Any:
    return station_config(tmp_path, 9100, scanners=[SCANNER], stations=list(stations))


def test_a_station_names_its_scanner_steps_and_devices(tmp_path: Path) -> None:
    cfg = config(tmp_path, {"id": "ws-10", "name": "下料工位", "scanner": "s10", "steps": [10, 20],
                            "label_printer": "workshop", "window_s": 20})
    (st,) = cfg.stations
    assert (st.id, st.name, st.scanner, st.steps, st.label_printer, st.window_s,
            st.undo_window_s) == ("ws-10", "下料工位", "s10", (10, 20), "workshop", 20.0, 120.0)


@pytest.mark.parametrize(("station", "says"), [
    ({"scanner": "s10", "steps": [10]}, "stations[0].id: is required"),
    ({"id": "ws 10", "scanner": "s10", "steps": [10]}, "stations[0].id: only letters"),
    ({"id": "ws", "scanner": "s99", "steps": [10]}, "stations[0].scanner: no scanner 's99'"),
    ({"id": "ws", "scanner": "s10", "steps": []}, "stations[0].steps: must not be empty"),
    ({"id": "ws", "scanner": "s10", "steps": [10, 10]}, "stations[0].steps: must be distinct"),
    ({"id": "ws", "scanner": "s10", "steps": [10], "label_printer": "x"},
     "stations[0].label_printer: no printer 'x'"),
    ({"id": "ws", "scanner": "s10", "steps": [10], "display": "d"},
     "stations[0].display: no display 'd'"),
    ({"id": "ws", "scanner": "s10", "steps": [10], "window_s": 0}, "stations[0].window_s"),
    ({"id": "ws", "scanner": "s10", "steps": [10], "beep": True}, "stations[0].beep: unknown"),
    ({"id": "ws", "scanner": "s10", "steps": [10], "defect_reasons": ["划伤", ""]},
     "stations[0].defect_reasons[1]: must be 1-64 characters"),
])
def test_bad_stations_are_named(tmp_path: Path, station: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError) as e:
        config(tmp_path, station)
    assert any(says in m for m in e.value.errors), e.value.errors


def test_one_scanner_drives_one_station(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        config(tmp_path, {"id": "a", "scanner": "s10", "steps": [10]},
               {"id": "b", "scanner": "s10", "steps": [20]})
    assert any("stations[1].scanner: 's10' already drives" in m for m in e.value.errors)
