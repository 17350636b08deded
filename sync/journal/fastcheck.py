"""Schema checks compiled into one boolean function per shape: the fast path for valid values.

A compiled predicate only answers "valid?"; when it says no, the precise check of
sync.journal.schema runs and names the field. Every form here accepts exactly what its check
accepts (the tests compare both on valid and mutated values), and a check without a form is
called as it is, so a predicate is never more lenient than its check. The generated source is
made at import from the schema's own constants, never from a record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Predicate = Callable[[Any], bool]


class Names:
    """The constants and helper functions that generated code refers to, by unique name."""

    def __init__(self) -> None:
        self.env: dict[str, Any] = {"_passes": _passes}
        self._count = 0

    def const(self, value: Any, hint: str = "c") -> str:
        """A fresh global name bound to `value`."""
        self._count += 1
        name = f"_{hint}{self._count}"
        self.env[name] = value
        return name

    def function(self, body: list[str], hint: str = "f") -> str:
        """Define `def <name>(v):` with `body` (lines, unindented) and return its name."""
        name = self.const(None, hint)
        source = f"def {name}(v):\n" + "".join(f"    {line}\n" for line in body)
        exec(compile(source, f"<fastcheck {name}>", "exec"), self.env)
        return name


Form = Callable[[str, Names], str]
"""Turns the source text of a value into the source text of a boolean expression about it."""

_FORMS: dict[Callable[[Any], None], Form] = {}


def _passes(check: Callable[[Any], None], value: Any) -> bool:
    # Any exception means "not on the fast path": the precise check then runs and decides.
    try:
        check(value)
    except Exception:
        return False
    return True


def register(check: Callable[[Any], None], form: Form) -> None:
    """Give `check` a fast form (used when a shape containing it is compiled)."""
    _FORMS[check] = form


def expression(check: Callable[[Any], None], value: str, names: Names) -> str:
    """Source of a boolean expression that is true iff `check` accepts the value `value`."""
    form = _FORMS.get(check)
    if form is None:
        return f"_passes({names.const(check, 'check')}, {value})"
    return form(value, names)


def compile_check(check: Callable[[Any], None]) -> Predicate:
    """A function returning True iff `check` accepts its argument (without building errors)."""
    names = Names()
    expr = expression(check, "v", names)
    if expr.endswith("(v)") and callable(names.env.get(expr[:-3])):
        fn: Predicate = names.env[expr[:-3]]  # a generated function already: no wrapper
        return fn
    fn = names.env[names.function([f"return {expr}"])]
    return fn


def int_form(lo: int, hi: int) -> Form:
    """An int (not bool) in [lo, hi]."""
    return lambda x, _: f"(type({x}) is int and {lo} <= {x} <= {hi})"


def text_form(lo: int, hi: int, control: re.Pattern[str]) -> Form:
    """A str of lo..hi characters in which `control` finds nothing."""
    return lambda x, n: (f"(type({x}) is str and {lo} <= len({x}) <= {hi} and "
                         f"({x}.isprintable() or {n.const(control, 'rx')}.search({x}) is None))")


def ident_form(control_or_space: re.Pattern[str]) -> Form:
    """A str of 1..64 characters in which `control_or_space` finds nothing."""
    return lambda x, n: (f"(type({x}) is str and 1 <= len({x}) <= 64 and ((' ' not in {x} and "
                         f"{x}.isprintable()) or {n.const(control_or_space, 'rx')}.search({x}) "
                         "is None))")


def pattern_form(rx: re.Pattern[str]) -> Form:
    """A str that `rx` matches entirely."""
    return lambda x, n: f"(type({x}) is str and {n.const(rx, 'rx')}.fullmatch({x}) is not None)"


def one_of_form(allowed: frozenset[str]) -> Form:
    """One of the strings in `allowed`."""
    return lambda x, n: f"(type({x}) is str and {x} in {n.const(allowed, 'set')})"


def dict_form(x: str, _: Names) -> str:
    """Any dict."""
    return f"(type({x}) is dict)"


def list_form(item: Callable[[Any], None], lo: int, hi: int) -> Form:
    """A list of lo..hi items, each accepted by `item`."""

    def form(x: str, names: Names) -> str:
        fn = names.function([
            f"if type(v) is not list or not {lo} <= len(v) <= {hi}:",
            "    return False",
            "for x in v:",
            f"    if not {expression(item, 'x', names)}:",
            "        return False",
            "return True",
        ], "list")
        return f"{fn}({x})"

    return form


def object_form(required: dict[str, Callable[[Any], None]],
                optional: dict[str, Callable[[Any], None]]) -> Form:
    """A dict with every required key, no unknown key, each value accepted by its check."""

    def form(x: str, names: Names) -> str:
        req = names.const(frozenset(required), "req")
        known = names.const(frozenset(required) | frozenset(optional), "known")
        body = [f"if type(v) is not dict or not v.keys() >= {req}:", "    return False"]
        for k, c in required.items():
            body += [f"x = v[{k!r}]", f"if not {expression(c, 'x', names)}:", "    return False"]
        body += [f"if len(v) == {len(required)}:", "    return True",
                 f"if not v.keys() <= {known}:", "    return False"]
        for k, c in optional.items():
            body += [f"if {k!r} in v:", f"    x = v[{k!r}]",
                     f"    if not {expression(c, 'x', names)}:", "        return False"]
        return f"{names.function([*body, 'return True'], 'obj')}({x})"

    return form


def map_form(keys: frozenset[str], value: Callable[[Any], None], nonzero: bool) -> Form:
    """A dict whose keys come from `keys` and whose values `value` accepts (and are not 0)."""

    def form(x: str, names: Names) -> str:
        allowed = names.const(keys, "keys")
        test = expression(value, "x", names) + (" and x != 0" if nonzero else "")
        fn = names.function([
            "if type(v) is not dict:",
            "    return False",
            "for k, x in v.items():",
            f"    if k not in {allowed} or not ({test}):",
            "        return False",
            "return True",
        ], "map")
        return f"{fn}({x})"

    return form
