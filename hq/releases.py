"""`storelink hq release --config hq.toml --bundle FILE --url URL`: the `upgrade` command's
arguments for a release bundle HQ serves at URL — its version, SHA-256 and HQ's release
signature — as the JSON body of `POST /v1/boxes/{box}/commands` (docs/deploy.md, "Upgrades")."""

from __future__ import annotations

import hashlib
import json
import sys
import tarfile
from pathlib import Path

from hq.config import HqConfigError, load_hq_config, load_or_create_key
from sync.protocol.releases import VERSION, sign_release

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def bundle_version(path: Path) -> str:
    """The VERSION inside a release bundle (.tar.gz); ValueError when there is none."""
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.count("/") == 1 \
                    and member.name.endswith("/VERSION"):
                f = tar.extractfile(member)
                if f is not None:
                    return f.read().decode("utf-8").strip()
    raise ValueError(f"{path}: not a release bundle (no VERSION)")


def release_command(config: str, bundle: str, url: str) -> int:
    """Print {"name": "upgrade", "args": {…}} for `bundle` served at `url`."""
    try:
        cfg = load_hq_config(Path(config))
        key = load_or_create_key(cfg.key_file)
    except HqConfigError as e:
        for line in e.errors:
            print(line, file=sys.stderr)
        return EXIT_USAGE
    try:
        version = bundle_version(Path(bundle))
        sha = hashlib.sha256(Path(bundle).read_bytes()).hexdigest()
    except (OSError, ValueError, tarfile.TarError) as e:
        print(f"bundle: {e}", file=sys.stderr)
        return EXIT_USAGE
    if not VERSION.fullmatch(version):
        print(f"bundle: VERSION {version!r} is not a release name", file=sys.stderr)
        return EXIT_USAGE
    if not url.startswith(("http://", "https://")):
        print("url: must be an http:// or https:// URL", file=sys.stderr)
        return EXIT_USAGE
    args = {"version": version, "url": url, "sha256": sha,
            "sig": sign_release(version, sha, key)}
    print(json.dumps({"name": "upgrade", "args": args}, ensure_ascii=False))
    return EXIT_OK
