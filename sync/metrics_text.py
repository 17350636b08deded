"""Prometheus metrics of the box and HQ: families as plain values (pure), rendered in the text
exposition format by prometheus-client's `generate_latest` over a registry of this process.

prometheus-client is imported on the first `render`: a box that is never scraped never loads
it (docs/deploy.md, "Metrics").
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["gauge", "counter", "histogram"]
Labels = tuple[str, ...]


@dataclass(frozen=True)
class Family:
    """One metric: `samples` are (label values, value) for gauges and counters; a histogram
    has `buckets` (upper bound, cumulative count, +Inf last) and `total` (sum)."""

    name: str
    kind: Kind
    help: str
    labels: Labels = ()
    samples: tuple[tuple[Labels, float], ...] = ()
    buckets: tuple[tuple[float, int], ...] = ()
    total: float = 0.0


def gauge(name: str, help_: str, value: float) -> Family:
    """A gauge without labels."""
    return Family(name, "gauge", help_, (), (((), float(value)),))


def counter(name: str, help_: str, value: float) -> Family:
    """A counter without labels."""
    return Family(name, "counter", help_, (), (((), float(value)),))


@dataclass
class Histogram:
    """Observations counted into fixed buckets (mutable; the loop thread owns it)."""

    bounds: tuple[float, ...]
    counts: list[int]
    total: float = 0.0

    @classmethod
    def of(cls, bounds: Sequence[float]) -> Histogram:
        """Empty, with these upper bounds (ascending; +Inf is implied)."""
        b = tuple(sorted(bounds))
        return cls(b, [0] * (len(b) + 1))

    def observe(self, value: float) -> None:
        """Count one observation."""
        i = next((i for i, b in enumerate(self.bounds) if value <= b), len(self.bounds))
        self.counts[i] += 1
        self.total += value

    def family(self, name: str, help_: str) -> Family:
        """As a histogram family with cumulative buckets."""
        out: list[tuple[float, int]] = []
        running = 0
        for bound, n in zip((*self.bounds, math.inf), self.counts, strict=True):
            running += n
            out.append((bound, running))
        return Family(name, "histogram", help_, buckets=tuple(out), total=self.total)


def _bound(b: float) -> str:
    return "+Inf" if math.isinf(b) else repr(float(b))


class _Snapshot:
    """A collector yielding the families handed to it just before each render."""

    def __init__(self) -> None:
        self.families: Sequence[Family] = ()

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        for f in self.families:
            m: Any
            if f.kind == "histogram":
                m = HistogramMetricFamily(f.name, f.help, buckets=[
                    (_bound(b), n) for b, n in f.buckets], sum_value=f.total)
            elif f.kind == "counter":
                m = CounterMetricFamily(f.name, f.help, labels=list(f.labels))
                for values, v in f.samples:
                    m.add_metric(list(values), v)
            else:
                m = GaugeMetricFamily(f.name, f.help, labels=list(f.labels))
                for values, v in f.samples:
                    m.add_metric(list(values), v)
            yield m


class Exposition:
    """This process's registry (never prometheus-client's global one) and its one collector."""

    def __init__(self) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry

        self.content_type: str = CONTENT_TYPE_LATEST
        self._collector = _Snapshot()
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self._collector)
        self._lock = threading.Lock()

    def render(self, families: Sequence[Family]) -> bytes:
        """The text exposition of `families`."""
        from prometheus_client import generate_latest

        with self._lock:
            self._collector.families = families
            try:
                return generate_latest(self._registry)
            finally:
                self._collector.families = ()


_made = threading.Lock()


def exposition() -> Exposition:
    """The process's exposition, made (and prometheus-client imported) on first use."""
    with _made:
        return _one()


@functools.cache
def _one() -> Exposition:
    return Exposition()
