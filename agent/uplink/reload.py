"""`reload_config`: a new configuration from HQ (TOML text in a signed command), checked by the
same validation as the file before anything changes, kept in the state directory, and the one
the daemon runs with from then on (docs/protocol.md §10, docs/deploy.md).

The configuration file given to `storelink agent run --config FILE` stays as the technician
wrote it; `{state_dir}/config-from-hq.toml` (0600: it may hold tokens) overrides it while it
exists and is valid for the same box. Deleting it returns the box to FILE at the next start.
"""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path

from agent.config import Config, ConfigError, load_config, parse_config
from agent.health.keyfiles import loose_key_files

log = logging.getLogger(__name__)
FROM_HQ = "config-from-hq.toml"


def saved_path(state_dir: Path) -> Path:
    """Where the configuration HQ sent is kept."""
    return state_dir / FROM_HQ


def check_new_config(text: str, current: Config) -> Config:
    """The configuration `text` if this box may run it; ConfigError listing every problem as
    `dotted.key: reason` otherwise. Blocking (profiles, key file modes)."""
    try:
        raw = tomllib.loads(text)
    except ValueError as e:
        raise ConfigError([f"toml: not valid TOML: {e}"]) from None
    path = saved_path(current.box.state_dir)
    try:
        new = parse_config(raw, path)
    except ConfigError as e:
        errors = list(e.errors)
        new = None
    else:
        errors = []
    box = raw.get("box")
    given = box if isinstance(box, dict) else {}
    if given.get("id") != current.box.id:
        errors.append(f"box.id: must stay {current.box.id!r} (a box is renamed by replacing "
                      "it, not by a configuration)")
    if Path(str(given.get("state_dir", "/var/lib/storelink"))) != current.box.state_dir:
        errors.append(f"box.state_dir: must stay {str(current.box.state_dir)!r} (the journal "
                      "and the print queue live there)")
    if "sync" not in raw and current.sync is not None:
        errors.append("sync: required: without it the box could not hear HQ again")
    if new is not None:
        errors += [f"sync.tls_key: {p} is readable by others (mode {m:04o}); chmod 600 it"
                   for p, m in loose_key_files(new)]
    if errors or new is None:
        raise ConfigError(errors)
    return new


def save(text: str, state_dir: Path) -> Path:
    """Write `text` as the configuration from HQ: 0600, fsynced, renamed into place."""
    path = saved_path(state_dir)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(state_dir, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def from_hq(config: Config) -> tuple[Config | None, str | None]:
    """The configuration HQ sent for this box, if one is kept: (it, None) when valid for this
    box, (None, why not) otherwise; (None, None) when there is none. Blocking."""
    path = saved_path(config.box.state_dir)
    if not path.is_file():
        return None, None
    try:
        sent = load_config(path)
    except ConfigError as e:
        return None, "; ".join(e.errors)
    if sent.box.id != config.box.id or sent.box.state_dir != config.box.state_dir:
        return None, f"it is for box {sent.box.id} ({sent.box.state_dir}), not {config.box.id}"
    return sent, None


def effective(config: Config) -> Config:
    """`config` (from the file), or the configuration HQ sent when one is kept for this box and
    still valid (else the file's, with the reason logged)."""
    sent, problem = from_hq(config)
    path = saved_path(config.box.state_dir)
    if problem is not None:
        log.error("HQ 下发的配置无效，使用配置文件 / the configuration HQ sent (%s) cannot be run, "
                  "running %s: %s", path, config.source, problem)
        return config
    if sent is None:
        return config
    log.info("使用 HQ 下发的配置 / running the configuration HQ sent (%s) instead of %s; "
             "delete it to go back", path, config.source)
    return sent
