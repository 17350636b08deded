"""Configured access to an HTTP API, checked the same on the box and HQ (pure): bearer-token
strength and the allowlists of host names and origins."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping

MIN_LENGTH = 16
MIN_BITS = 64.0
MIN_DISTINCT = 8
HOW_TO_MAKE = ('make one with: python3 -c "import secrets; print(secrets.token_urlsafe(32))" '
               "(or: openssl rand -base64 32)")


def estimated_bits(token: str) -> float:
    """Length × the Shannon entropy of its characters: 0 for `aaaa…`, ~5.5 per character of a
    random URL-safe token; a low estimate always means a weak token."""
    if not token:
        return 0.0
    n = len(token)
    per_char = -sum(c / n * math.log2(c / n) for c in Counter(token).values())
    return max(0.0, per_char * n)


def _sequence(token: str) -> bool:
    """Mostly runs (`abcd`, `4321`) or repeats: half the neighbours a code point apart or less."""
    close = sum(abs(ord(b) - ord(a)) <= 1 for a, b in itertools.pairwise(token))
    return close * 2 >= len(token) - 1


def token_weakness(token: str) -> str | None:
    """Why `token` is too weak to be a bearer token, with how to make one; None if it is not."""
    if len(token) < MIN_LENGTH:
        problem = f"is shorter than {MIN_LENGTH} characters"
    elif any(c.isspace() or not c.isprintable() for c in token):
        problem = "holds spaces or control characters"
    elif len(set(token)) < MIN_DISTINCT or _sequence(token) \
            or estimated_bits(token) < MIN_BITS:
        problem = (f"is too easy to guess (about {estimated_bits(token):.0f} bits; at least "
                   f"{MIN_BITS:.0f} are needed)")
    else:
        return None
    return f"{problem}; {HOW_TO_MAKE}"


HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
                       r"(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$")
ORIGIN = re.compile(r"^https?://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?$")


def allowed_names(raw: Mapping[str, object], key: str, path: str, errors: list[str], *,
                  origins: bool) -> tuple[str, ...]:
    """`raw[key]` as a list of host names (or of origins `scheme://host[:port]`), lowercase;
    each bad entry is reported as `path.key[i]`."""
    value = raw.get(key, [])
    if not isinstance(value, list):
        errors.append(f"{path}.{key}: must be an array of strings")
        return ()
    out: list[str] = []
    for i, item in enumerate(value):
        text = item.strip().lower().rstrip("/") if isinstance(item, str) else ""
        good = ORIGIN.match(text) if origins else HOST_NAME.match(text)
        if not good or (origins and text.endswith(":")):
            what = ("an origin such as https://pos.example.cn or http://192.168.1.30:8080"
                    if origins else "a host name such as box-1.shop.example.cn")
            errors.append(f"{path}.{key}[{i}]: must be {what}")
            continue
        out.append(text)
    return tuple(out)
