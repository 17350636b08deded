"""A full disk under the real daemon (issue 11, point 10): JSON 507, and a print job is never
accepted without its audit record.

The journal lives on its own small tmpfs (state/journal.db is a symlink onto it), filled up
while the daemon runs; the job queue stays on the ordinary disk. Mounting needs root.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.edge_proc import job, journal_records, post_json, raw_http, sale, start_box
from tests.e2e.procs import Proc


@contextlib.contextmanager
def small_disk(where: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `where`."""
    where.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk has no block left; the file."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 512, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def box_on_small_journal_disk(tmp_path: Path) -> Iterator[tuple[Proc, Path]]:
    with small_disk(tmp_path / "journal-disk") as disk:
        state = tmp_path / "state"
        state.mkdir()
        os.symlink(disk / "journal.db", state / "journal.db")
        proc = start_box(tmp_path, state=state)
        try:
            yield proc, disk
        finally:
            proc.stop()


def audited_paths(tmp_path: Path) -> list[str]:
    return [r["body"]["detail"].split(" → ")[0]
            for r in journal_records(tmp_path / "state" / "journal.db", "audit")]


def test_a_full_disk_answers_json_507_and_loses_no_audit_record(
        box_on_small_journal_disk: tuple[Proc, Path], tmp_path: Path) -> None:
    box, disk = box_on_small_journal_disk
    assert (disk / "journal.db").exists() and (disk / "journal.db-wal").exists()
    filler = fill(disk)
    a = post_json(box.port, "/v1/sales", sale("XS-FULL-1"))
    assert a.status == 507, a
    assert "disk is full" in a.json()["error"]["reason"]
    # The queue's disk has room: the job is accepted, and its audit record with it.
    a = post_json(box.port, "/v1/print-jobs", job("full-1"))
    assert a.status == 202, a
    filler.unlink()
    # The next request (or housekeeping) moves the waiting audit record into the journal.
    for _ in range(200):
        if "POST /v1/print-jobs" in audited_paths(tmp_path):
            break
        time.sleep(0.1)
    assert audited_paths(tmp_path).count("POST /v1/print-jobs") == 1
    # The refused sale's audit record waited in the outbox too.
    assert audited_paths(tmp_path).count("POST /v1/sales") == 1
    assert not [r for r in journal_records(tmp_path / "state" / "journal.db", "sale")]
    assert post_json(box.port, "/v1/sales", sale("XS-FULL-2")).status == 201
    assert raw_http(box.port, "GET", "/v1/print-jobs/full-1").status == 200
