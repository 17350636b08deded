"""Who may do what at HQ: roles, token scopes, and the one policy table (route → roles, scopes).

A route not in the table is for admins only (the `admin` role or the `admin` scope), so an
endpoint added without a line here is closed to everyone else until someone decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ROLES = ("admin", "finance", "operations", "store_manager", "salesperson")
STORE_ROLES = frozenset({"store_manager", "salesperson"})
"""Roles that see only the boxes of their stores."""
ROLE_NAMES = {"admin": "管理员", "finance": "财务", "operations": "运维",
              "store_manager": "店长", "salesperson": "业务员"}
SCOPES = ("admin", "print", "jobs:read", "boxes:read", "commands", "journal:read",
          "alarms:read", "settlements:read", "workshop:read", "production", "metrics", "orders",
          "clearing", "alerts:read", "reports:read", "catalog")
CONFIG_TOKEN = "api.token"
"""The name the configured shared token acts under (an admin-scoped API token)."""


@dataclass(frozen=True)
class Rule:
    """Who may call one route: these roles, tokens with one of these scopes; `public` needs no
    sign-in at all; `anyone` admits every signed-in user and every valid token."""

    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    public: bool = False
    anyone: bool = False


def _rule(roles: str = "", scopes: str = "", public: bool = False,
          anyone: bool = False) -> Rule:
    return Rule(frozenset(roles.split()), frozenset(scopes.split()), public, anyone)


_SHOP = "operations store_manager"
_EVERYONE = "finance operations store_manager salesperson"
POLICY: Mapping[tuple[str, str], Rule] = {
    ("GET", "/login"): _rule(public=True),
    ("POST", "/login"): _rule(public=True),
    ("POST", "/logout"): _rule(anyone=True),
    ("GET", "/v1/me"): _rule(anyone=True),
    ("GET", "/"): _rule(_EVERYONE),
    ("GET", "/workshop"): _rule("finance " + _SHOP),
    ("GET", "/stores"): _rule(_EVERYONE, "boxes:read"),
    ("GET", "/store"): _rule(_EVERYONE, "boxes:read"),
    ("GET", "/v1/stores"): _rule(_EVERYONE, "boxes:read"),
    ("GET", "/v1/stores/{id}"): _rule(_EVERYONE, "boxes:read"),
    ("POST", "/v1/print-jobs"): _rule(_SHOP + " salesperson", "print"),
    ("GET", "/v1/print-jobs"): _rule(_SHOP + " salesperson", "print jobs:read"),
    ("GET", "/v1/print-jobs/{id}"): _rule(_SHOP + " salesperson", "print jobs:read"),
    ("GET", "/v1/boxes"): _rule("finance salesperson " + _SHOP, "boxes:read"),
    ("GET", "/v1/boxes/{box}"): _rule("finance salesperson " + _SHOP, "boxes:read"),
    ("POST", "/v1/boxes/{box}/commands"): _rule("operations", "commands"),
    ("GET", "/v1/commands/{nonce}"): _rule("operations", "commands"),
    ("GET", "/v1/boxes/{box}/journal"): _rule("finance " + _SHOP, "journal:read"),
    ("GET", "/v1/alarms"): _rule(_SHOP, "alarms:read"),
    ("GET", "/v1/settlements"): _rule("finance store_manager", "settlements:read"),
    ("GET", "/v1/boxes/{box}/settlements"): _rule("finance store_manager", "settlements:read"),
    ("POST", "/v1/production-tasks"): _rule("operations", "production"),
    ("GET", "/v1/workshop/tasks"): _rule("finance " + _SHOP, "workshop:read"),
    ("GET", "/v1/workshop/pieces"): _rule("finance " + _SHOP, "workshop:read"),
    ("GET", "/v1/workshop/pieces.csv"): _rule("finance " + _SHOP, "workshop:read"),
    ("GET", "/v1/workshop/pieces.xlsx"): _rule("finance " + _SHOP, "workshop:read"),
    ("GET", "/metrics"): _rule("operations", "metrics"),
    # Customer orders (docs/hq.md, Orders): the ERP pushes, people read what they may see.
    ("PUT", "/v1/customers"): _rule(scopes="orders"),
    ("POST", "/v1/orders"): _rule(scopes="orders"),
    ("GET", "/v1/orders"): _rule(_SHOP + " salesperson", "orders"),
    ("GET", "/v1/orders/{order_no}"): _rule(_SHOP + " salesperson", "orders"),
    # Cloud print from a phone (docs/hq.md): the page signs in by itself, so it is public.
    ("GET", "/m/print"): _rule(public=True),
    ("GET", "/v1/m/printers"): _rule(_SHOP + " salesperson", "print"),
    ("POST", "/v1/m/print-jobs"): _rule(_SHOP + " salesperson", "print"),
    ("GET", "/v1/m/jobs"): _rule(_SHOP + " salesperson", "print jobs:read"),
    ("POST", "/v1/print-jobs/{id}/reprint"): _rule(_SHOP + " salesperson", "print"),
    # Clearing (docs/hq.md §Clearing): finance runs and books; a store manager reads its lines.
    ("GET", "/clearing"): _rule("finance store_manager"),
    ("GET", "/v1/clearing/preview"): _rule("finance store_manager", "clearing"),
    ("POST", "/v1/clearing/runs"): _rule("finance", "clearing"),
    ("GET", "/v1/clearing/runs"): _rule("finance store_manager", "clearing"),
    ("GET", "/v1/clearing/runs/{id}"): _rule("finance store_manager", "clearing"),
    ("GET", "/v1/clearing/runs/{id}/export.csv"): _rule("finance", "clearing"),
    ("GET", "/v1/clearing/runs/{id}/export.xlsx"): _rule("finance", "clearing"),
    ("POST", "/v1/clearing/deposits"): _rule("finance", "clearing"),
    ("GET", "/v1/clearing/deposits"): _rule("finance store_manager", "clearing"),
    # Alerts: each role sees its kinds (hq.alert_config.role_sees), store roles their stores.
    ("GET", "/v1/alerts"): _rule("finance operations store_manager", "alerts:read"),
    ("POST", "/v1/alerts/{id}/ack"): _rule("finance operations"),
    # Reports and the catalog (docs/hq.md §Reports): store managers see their stores only.
    ("GET", "/reports"): _rule("finance store_manager"),
    ("GET", "/static/echarts.min.js"): _rule("finance store_manager"),
    ("GET", "/v1/reports/{report}"): _rule("finance store_manager", "reports:read"),
    ("GET", "/v1/reports/contacts/{member}"): _rule("finance store_manager", "reports:read"),
    ("PUT", "/v1/reports/contacts/{member}"): _rule("finance"),
    ("GET", "/v1/catalog"): _rule("finance operations store_manager salesperson",
                                  "catalog reports:read"),
    ("PUT", "/v1/catalog"): _rule("finance operations", "catalog"),
    # Pairing (docs/protocol.md §12): a box has no credentials yet when it asks to be adopted.
    ("POST", "/v1/pairing/requests"): _rule(public=True),
    ("GET", "/pairing"): _rule("operations"),
    ("GET", "/v1/pairing"): _rule("operations", "boxes:read"),
    ("POST", "/v1/pairing/adoptions"): _rule("operations"),
    ("GET", "/v1/pairing/stores/{store}"): _rule("operations", "boxes:read"),
}
"""Every route's rule by (method, route pattern); HEAD is checked as GET."""

ADMIN_ONLY = Rule()


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: a signed-in user, an API token, or (no token configured, loopback
    only) the local operator. `boxes` None: every box; else only these."""

    kind: str
    name: str
    role: str | None = None
    scopes: frozenset[str] = frozenset()
    boxes: frozenset[str] | None = None
    session_key: str | None = None
    csrf: str | None = None

    @property
    def is_admin(self) -> bool:
        """Admins and admin-scoped tokens may do everything."""
        return self.role == "admin" or "admin" in self.scopes

    def label(self) -> str:
        """How the audit log names it."""
        return self.name if self.kind == "user" else f"{self.kind}:{self.name}"

    def sees(self, box: str) -> bool:
        """Whether `box` is within this principal's stores."""
        return self.boxes is None or box in self.boxes


def rule_for(method: str, route: str) -> Rule:
    """The rule of a route (admin only when it is not in the table)."""
    return POLICY.get(("GET" if method == "HEAD" else method, route), ADMIN_ONLY)


def allows(rule: Rule, who: Principal) -> bool:
    """Whether `who` may call a route with this rule."""
    if rule.public or rule.anyone or who.is_admin:
        return True
    if who.kind == "user":
        return who.role in rule.roles
    return bool(who.scopes & rule.scopes)


def store_boxes(stores: Iterable[str], boxes_of: Mapping[str, tuple[str, ...]]
                ) -> frozenset[str]:
    """The boxes of the named stores (a store not configured has none)."""
    return frozenset(b for s in stores for b in boxes_of.get(s, ()))


def scope_problem(scopes: object) -> str | None:
    """Why `scopes` is not a valid list of token scopes, or None."""
    if not isinstance(scopes, list) or not scopes:
        return "must be a non-empty array of scopes: " + ", ".join(SCOPES)
    for s in scopes:
        if s not in SCOPES:
            return f"unknown scope {s!r}; scopes are: " + ", ".join(SCOPES)
    return None
