"""The chaos suite's fixtures: its own PostgreSQL cluster (the suite stops and starts it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.postgres import PgCluster, throwaway_cluster


@pytest.fixture
def own_pg() -> Iterator[PgCluster]:
    """A PostgreSQL cluster for one test alone."""
    with throwaway_cluster() as cluster:
        yield cluster
