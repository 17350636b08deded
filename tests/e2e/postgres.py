"""A real, throwaway PostgreSQL cluster for tests: Debian's initdb/pg_ctl in a temp dir, on a
free port of 127.0.0.1, run as a non-root user; one fresh database per test."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
import pytest

from tests.e2e.broker import free_port

SERVICE_USER = "postgres"
"""initdb refuses root: as root the cluster runs as this user (made by Debian's package)."""


def pg_bin(name: str) -> str:
    """The newest installed PostgreSQL's `name` binary (Debian keeps them off PATH)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(Path(p).parts[4]) if Path(p).parts[4].isdigit() else 0)
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise RuntimeError(f"{name} not found: install Debian's postgresql (scripts/bootstrap)")
    return on_path


class PgCluster:
    """initdb + pg_ctl in `workdir`, trust authentication on 127.0.0.1:`port` only."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data = workdir / "data"
        self.port = free_port()
        self._names = itertools.count(1)
        self._as: list[str] = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam(SERVICE_USER)
            except KeyError:
                raise RuntimeError(f"running as root needs the system user {SERVICE_USER!r} "
                                   "(Debian's postgresql package creates it)") from None
            os.chown(workdir, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", SERVICE_USER, "--"]

    def _run(self, *argv: str) -> None:
        subprocess.run([*self._as, *argv], check=True, capture_output=True, cwd=self.workdir)

    def start(self) -> PgCluster:
        """initdb (UTF-8, C locale) the first time, and start; returns when it accepts
        connections."""
        if not self.data.exists():
            self._run(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync")
        # A throwaway cluster: PostgreSQL's own crash durability is not what these tests test.
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.workdir} -c fsync=off "
                "-c shared_buffers=16MB -c max_connections=200")
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.workdir / "pg.log"),
                  "-o", opts, "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        """Stop the cluster (fast shutdown)."""
        self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, dbname: str = "postgres") -> str:
        """A connection URL for one database of the cluster."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self) -> str:
        """Create an empty database; its URL."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"'.encode())
        return self.url(name)


@contextmanager
def throwaway_cluster() -> Iterator[PgCluster]:
    """A started cluster in a new directory of /tmp (one its user can reach), removed after."""
    workdir = Path(tempfile.mkdtemp(prefix="storelink-pg-"))
    cluster = PgCluster(workdir)
    try:
        yield cluster.start()
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One PostgreSQL cluster for the whole session."""
    with throwaway_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """A fresh, empty database for one test."""
    return pg_cluster.new_database()
