"""An installed release (scripts/install.sh into a temporary root, once per session) that the
trial tests copy into trees of their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.install.releases import installed


@pytest.fixture(scope="session")
def installed_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with the box's release 0.1.0 installed by the installer."""
    return installed(tmp_path_factory.getbasetemp())
