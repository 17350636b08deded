"""The metric families and their text rendering, read back with prometheus-client's parser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from sync.metrics_text import Family, Histogram, counter, exposition, gauge


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), max_size=50))
def test_histogram_buckets_are_cumulative_and_count_every_observation(values: list[float]
                                                                      ) -> None:
    h = Histogram.of((0.5, 1.0, 10.0))
    for v in values:
        h.observe(v)
    fam = h.family("x_seconds", "x")
    counts = [n for _, n in fam.buckets]
    assert counts == sorted(counts)
    assert counts[-1] == len(values)
    assert counts[0] == sum(v <= 0.5 for v in values)


def test_rendered_text_parses_back_with_chinese_label_values() -> None:
    h = Histogram.of((1.0,))
    h.observe(0.25)
    fams = [gauge("storelink_a", "A.", 3), counter("storelink_b", "B.", 2),
            Family("storelink_c", "gauge", "C.", ("device",), ((("前台打印机",), 1.0),)),
            h.family("storelink_d_seconds", "D.")]
    text = exposition().render(fams).decode()
    got = {(s.name, tuple(sorted(s.labels.items()))): s.value
           for f in text_string_to_metric_families(text) for s in f.samples}
    assert got[("storelink_a", ())] == 3.0
    assert got[("storelink_b_total", ())] == 2.0
    assert got[("storelink_c", (("device", "前台打印机"),))] == 1.0
    assert got[("storelink_d_seconds_bucket", (("le", "1.0"),))] == 1.0
    assert got[("storelink_d_seconds_count", ())] == 1.0
    assert exposition() is exposition()
