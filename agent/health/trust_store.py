"""OpenSSL's CA certificates looked up on demand in the hashed directory instead of the whole
bundle parsed at start-up: aiohttp builds a verifying SSL context when it is imported, and the
parsed bundle stays resident (about 2 MiB) in a daemon that may never make a TLS connection
with it. The trust is the same: Debian's update-ca-certificates writes the bundle into the
directory of the hashed links it makes for the same certificates."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping, MutableMapping
from pathlib import Path

BUNDLE_NAME = "ca-certificates.crt"
"""The bundle update-ca-certificates writes beside its hashed links (/etc/ssl/certs)."""
NO_BUNDLE = ".storelink-no-bundle"
"""A file name that never exists: OpenSSL ignores a missing default CA file."""


def on_demand(environ: Mapping[str, str], default_file: str, default_dir: str,
              hashed: bool) -> dict[str, str]:
    """The environment changes that make OpenSSL read the hashed directory on demand instead
    of its bundle; {} unless the bundle it would load is that directory's own
    `ca-certificates.crt` and the directory has hashed links (`hashed`)."""
    cafile = environ.get("SSL_CERT_FILE") or default_file
    capath = environ.get("SSL_CERT_DIR") or default_dir
    if not cafile or not capath or os.pathsep in capath or not hashed:
        return {}
    if Path(cafile).name != BUNDLE_NAME or Path(cafile).parent != Path(capath):
        return {}
    return {"SSL_CERT_FILE": str(Path(capath) / NO_BUNDLE), "SSL_CERT_DIR": capath}


def _resolved(path: str) -> str:
    try:
        return str(Path(path).resolve()) if path else ""
    except OSError:
        return path


def _has_hash_links(directory: str) -> bool:
    try:
        with os.scandir(directory) as entries:
            return any(len(e.name) == 10 and e.name[8] == "." and e.name[9].isdigit()
                       for e in entries)
    except OSError:
        return False


def read_trust_on_demand(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Point OpenSSL at the hashed CA directory (call before aiohttp is imported); True when
    the environment was changed."""
    paths = ssl.get_default_verify_paths()
    cafile = _resolved(environ.get("SSL_CERT_FILE") or paths.openssl_cafile)
    capath = _resolved(environ.get("SSL_CERT_DIR") or paths.openssl_capath)
    change = on_demand({}, cafile, capath, _has_hash_links(capath))
    environ.update(change)
    return bool(change)
