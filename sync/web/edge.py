"""The HTTP edge against browsers: Host and Origin allowlists, JSON-only writes, no CORS.

A web page in the shop's browser can send requests to the box or HQ (cross-site POSTs, a DNS name
rebound to 127.0.0.1, a WebSocket from any origin). The policy here refuses them before any
handler runs, so they are neither answered nor audited. The box's local API and HQ's API both
use it.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class EdgePolicy:
    """Names the API may be reached by (besides IP literals and loopback names), and the
    origins of other sites allowed to call it."""

    hosts: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()

    @classmethod
    def of(cls, hosts: Iterable[str], origins: Iterable[str]) -> EdgePolicy:
        """A policy from configured names and origins (compared case-insensitively)."""
        return cls(frozenset(h.lower().rstrip(".") for h in hosts),
                   frozenset(o.lower().rstrip("/") for o in origins))


def split_host(value: str) -> str | None:
    """The host name of a `Host` header value (no port, no brackets, lowercase); None if bad."""
    value = value.strip().lower()
    if not value:
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or (value[end + 1:] and not value[end + 1:].startswith(":")):
            return None
        return value[1:end]
    name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    return name.rstrip(".")


def _ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(host_header: str | None, policy: EdgePolicy) -> bool:
    """A rebinding attack needs a DNS name of the attacker's: IP literals, loopback names and
    configured names pass; any other name is refused."""
    name = split_host(host_header or "")
    if name is None:
        return False
    return (_ip_literal(name) or name in LOOPBACK_NAMES or name.endswith(".localhost")
            or name in policy.hosts)


def origin_allowed(origin: str | None, host_header: str | None, policy: EdgePolicy) -> bool:
    """No Origin (not a browser) passes; a browser's Origin must be this very site (same
    host and port as the allowed `Host`) or a configured origin."""
    if origin is None:
        return True
    origin = origin.strip().lower().rstrip("/")
    if origin in policy.origins:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return (host_header is not None and parts.netloc == host_header.strip().lower()
            and host_allowed(host_header, policy))


def refusal(status: int, field: str, reason: str) -> web.Response:
    """The API's error shape."""
    body = json.dumps({"error": {"field": field, "reason": reason}}, ensure_ascii=False)
    return web.Response(text=body, status=status, content_type=JSON_TYPE, charset="utf-8")


def check(request: web.Request, policy: EdgePolicy) -> web.Response | None:
    """The refusal for a request the policy does not allow, else None."""
    host = request.headers.get("Host")
    if not host_allowed(host, policy):
        return refusal(403, "Host", f"this API is not served under the name {host!r}; "
                       "add it to api.allowed_hosts if it is yours")
    if not origin_allowed(request.headers.get("Origin"), host, policy):
        return refusal(403, "Origin", "requests from another site are refused; add the "
                       "origin to api.allowed_origins if it is yours")
    if request.method in WRITE_METHODS and request.content_type != JSON_TYPE:
        return refusal(415, "Content-Type", f"must be {JSON_TYPE}")
    return None


_CORS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
         "Access-Control-Allow-Methods", "Access-Control-Allow-Headers")


def edge_middleware(policy: EdgePolicy) -> Middleware:
    """Refuse what `check` refuses; never send CORS permissions."""

    @web.middleware
    async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
        refused = check(request, policy)
        if refused is not None:
            return refused
        response = await handler(request)
        if not response.prepared:
            for name in _CORS:
                response.headers.popall(name, None)
        return response

    return edge
