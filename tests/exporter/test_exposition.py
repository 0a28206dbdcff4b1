"""exporter.exposition must write exactly the bytes generate_latest writes, for anything a source may return."""

from __future__ import annotations

import math
import random

import pytest
from prometheus_client import generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    StateSetMetricFamily,
    SummaryMetricFamily,
    UnknownMetricFamily,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.samples import Timestamp

from exporter.exposition import text_exposition
from exporter.snapshot import render

VALUES: list[float | int] = [
    0, 0.0, -0.0, 1, -1, 1.0, 0.5, 1e-7, -1e-7, 1e-300, 5e-324, 0.1 + 0.2, 123456.789, 999999.9999999, 1e6, -1e6,
    1000000.5, 1234567.0, 1641832650.0, 1.64183265e9, 1e15, 1e16, 1e21, -1e21, 1.7976931348623157e308,
    12345678901234567890, -12345678901234567890, 2**63, 10**30, 7, -42, math.inf, -math.inf, math.nan,
]  # fmt: skip
# Label values and help texts: the escaped characters, their neighbours, unicode and format-string look-alikes.
TEXTS = [
    "", "plain", 'say "hi"', "back\\slash", "new\nline", "\\n literal", '\\"', "trailing\\", "%s %d %%", "{}{0}",
    "ünïcødé ✓", "日本語", "emoji 🚀", "tab\there", "cr\rhere", "nul\0here", "a,b=c", "}{", "'single'",
]  # fmt: skip
LABEL_NAMES = ["monitor_id", "a", "Z", "_x", "location", "b1", "z_last", "aa", "A_b"]


def reference(families: list[Metric]) -> bytes:
    class Collector:
        def collect(self) -> list[Metric]:
            return families

    return generate_latest(Collector())  # type: ignore[arg-type]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(TEXTS) for _ in range(rng.randint(0, 3)))


def random_family(rng: random.Random, index: int) -> Metric:
    names = rng.sample(LABEL_NAMES, rng.randint(0, 5))
    documentation = random_text(rng)
    if rng.random() < 0.5:
        family: Metric = GaugeMetricFamily(f"test_gauge_{index}", documentation, labels=names)
        for _ in range(rng.randint(0, 30)):
            timestamp = rng.choice([None, None, 1641832650.123, Timestamp(1641832650, 5)])
            family.add_metric([random_text(rng) for _ in names], rng.choice(VALUES), timestamp)  # type: ignore[attr-defined]
    else:
        family = CounterMetricFamily(f"test_counter_{index}", documentation, labels=names)
        for _ in range(rng.randint(0, 30)):
            created = rng.choice([None, 1641832650.0, 1.5])
            family.add_metric([random_text(rng) for _ in names], abs(rng.choice(VALUES)), created=created)  # type: ignore[attr-defined]
    return family


@pytest.mark.parametrize("seed", range(40))
def test_random_gauges_and_counters_render_like_generate_latest(seed: int) -> None:
    rng = random.Random(seed)
    families = [random_family(rng, i) for i in range(rng.randint(1, 12))]
    assert text_exposition(families) == reference(families)


def test_every_value_renders_like_generate_latest() -> None:
    family = GaugeMetricFamily("values", "every value", labels=["i"])
    for i, value in enumerate(VALUES):
        family.add_metric([str(i)], value)
    counter = CounterMetricFamily("values", "every value", labels=["i"])
    for i, value in enumerate(VALUES):
        counter.add_metric([str(i)], value)
    assert text_exposition([family, counter]) == reference([family, counter])


def test_samples_with_differently_ordered_or_varying_label_names() -> None:
    family = Metric("mixed", "label sets differ per sample", "gauge")
    family.add_sample("mixed", {"b": "1", "a": "2"}, 1.0)
    family.add_sample("mixed", {"a": "3", "b": "4"}, 2.0)
    family.add_sample("mixed", {"c": "5"}, 3.0)
    family.add_sample("mixed", {}, 4.0)
    family.add_sample("mixed_created", {"a": "x"}, 5.0)  # moved to a gauge section at the end, as for counters
    family.add_sample("mixed_gsum", {}, 6.0)
    assert text_exposition([family]) == reference([family])


def test_other_types_and_unusual_names_fall_back_to_generate_latest() -> None:
    histogram = HistogramMetricFamily("latency_seconds", "h", labels=["path"])
    histogram.add_metric(["/"], buckets=[("0.1", 1), ("1.0", 3), ("+Inf", 4)], sum_value=2.5)
    summary = SummaryMetricFamily("size_bytes", "s", count_value=3, sum_value=12.0)
    info = InfoMetricFamily("build", "i", value={"version": "1.2", "commit": 'a"b'})
    stateset = StateSetMetricFamily("state", "st", value={"on": True, "off": False})
    unknown = UnknownMetricFamily("mystery", "u", value=1.5)
    reserved = GaugeMetricFamily("reserved", "a reserved label name", labels=["__meta"])
    reserved.add_metric(["x"], 1.0)
    dotted = GaugeMetricFamily("dotted.name", "a UTF-8 metric name", labels=["label.with.dots"])
    dotted.add_metric(["x"], 1.0)
    late = Metric("late", "a non-plain name only on the last sample", "gauge")
    late.add_sample("late", {"ok": "1"}, 1.0)
    late.add_sample("late", {"not ok": "2"}, 2.0)
    plain = GaugeMetricFamily("plain", "between the others", 3.0)
    families = [histogram, plain, summary, info, stateset, unknown, reserved, plain, dotted, late, plain]
    assert text_exposition(families) == reference(families)


def test_large_family_spanning_several_batches() -> None:
    family = GaugeMetricFamily("big", "many series", labels=["id", "name"])
    for i in range(10_000):
        family.add_metric([str(i), f'name "{i}"\\'], i / 7)
    assert text_exposition([family]) == reference([family])


def test_errors_name_the_family_as_generate_latest_does() -> None:
    family = GaugeMetricFamily("broken", "a label value that is not a string", labels=["n"])
    family.add_metric([3], 1.0)  # type: ignore[list-item]
    with pytest.raises(AttributeError) as ours:
        text_exposition([family])
    assert ours.value.args[-1] is family


def test_render_is_the_fast_path() -> None:
    family = GaugeMetricFamily("g", "h", labels=["a"])
    family.add_metric(['x"y'], 1e21)
    assert render([family]) == reference([family]) == b'# HELP g h\n# TYPE g gauge\ng{a="x\\"y"} 1e+21\n'


def test_empty() -> None:
    assert text_exposition([]) == reference([]) == b""
