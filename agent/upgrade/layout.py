"""Where releases live and which one runs: /opt/storelink/releases/<version>, the `current`
and `good` symlinks (each switched atomically with rename), and the trial state file beside
the journal (never the journal itself)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from agent.upgrade.plan import Trial

log = logging.getLogger(__name__)
STATE_FILE = "upgrade.json"
# Resolved once, at start: started through the `current` symlink, this process stays the
# release it started as even after `current` is switched to another one.
_PREFIX = Path(sys.prefix).resolve()


@dataclass(frozen=True)
class Layout:
    """A release tree (`opt`) and the box's state directory."""

    opt: Path
    state_dir: Path

    @property
    def releases(self) -> Path:
        """One directory (a venv) per release, named by its version."""
        return self.opt / "releases"

    @property
    def state_file(self) -> Path:
        """The last upgrade's Trial, as JSON."""
        return self.state_dir / STATE_FILE

    def link(self, name: str) -> str | None:
        """The release `current` or `good` points at, or None."""
        try:
            return Path(os.readlink(self.opt / name)).name
        except OSError:
            return None

    def switch(self, name: str, release: str) -> None:
        """Point `name` at releases/`release`: a new symlink renamed over the old one."""
        if not (self.releases / release / ".complete").is_file():
            raise FileNotFoundError(f"release {release} is not installed in {self.releases}")
        tmp = self.opt / f".{name}.new"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(Path("releases") / release)
        os.replace(tmp, self.opt / name)
        _fsync_dir(self.opt)

    def read_trial(self) -> Trial | None:
        """The last upgrade's state; None when there is none (or it cannot be read: logged)."""
        try:
            return Trial.from_json(self.state_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            log.error("upgrade state %s unreadable, ignored: %s", self.state_file, e)
            return None

    def write_trial(self, trial: Trial) -> None:
        """Replace the state file atomically (written, synced, renamed)."""
        tmp = self.state_file.with_name(STATE_FILE + ".new")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(trial.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.state_file)
        _fsync_dir(self.state_dir)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def running_release(prefix: str | None = None) -> tuple[Path, str] | None:
    """(the release tree, this release's version) when this program runs from
    <tree>/releases/<version> (its venv); None in a checkout or any other install."""
    here = Path(prefix).resolve() if prefix is not None else _PREFIX
    if here.parent.name != "releases" or not (here / ".complete").is_file():
        return None
    return here.parent.parent, here.name
