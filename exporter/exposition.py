"""Text exposition (format 0.0.4) of gauge and counter families, byte for byte what `generate_latest` writes.

Why not just `generate_latest`: at 17,500 series it spends most of its time re-validating and re-escaping the same
few label names for every sample, builds one str per line, joins them all into one str and then encodes that, so
the lines, the str and the bytes are all alive at once (~3x the body). Here the per-label-set work (sorting, name
checks, the line's fixed text) is done once per distinct label set of a family, and the lines are encoded in
batches into one growing buffer, so the peak is about the size of the body itself.

Only what is certainly identical is done here: gauges and counters whose metric and label names are plain
(legacy) Prometheus names. Anything else (histograms, summaries, info, stateset, unknown, UTF-8 names) is handed
to `generate_latest` family by family, so the output never depends on this module knowing those rules.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.utils import floatToGoString

# The legacy character sets: names matching these are written verbatim by every prometheus_client version.
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# Samples generate_latest moves out of the family into a gauge of their own at its end (OpenMetrics-only samples).
_MOVED_SUFFIXES = ("_created", "_gsum", "_gcount")
# prometheus_client's own float formatting (unannotated there), for the values outside repr's safe range.
_float_to_go_string: Callable[[float], str] = floatToGoString
# Lines encoded per batch: big enough that the join/encode calls cost nothing, small enough to stay out of the peak.
_BATCH = 2048


class Families:
    """Adapts a list of families to the `collect()` interface generate_latest and registries expect."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def _plain_label_name(name: str) -> bool:
    return _LABEL_NAME.fullmatch(name) is not None and not name.startswith("__")


def _help(documentation: str) -> str:
    return documentation.replace("\\", r"\\").replace("\n", r"\n")


class _EscapedValues(dict[str, str]):
    """Label values escaped as generate_latest does, each computed once per render: values repeat across families."""

    def __missing__(self, value: str) -> str:
        escaped = self[value] = value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
        return escaped


def _value_text(value: Any) -> str:
    """floatToGoString(value); repr is what it returns for every finite float strictly between -1e6 and 1e6."""
    number = float(value)
    if -1e6 < number < 1e6:
        return repr(number)
    return _float_to_go_string(number)


class _Writer:
    """Collects lines and encodes them in batches into one buffer, so no full-size str ever exists."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.lines: list[str] = []

    def flush(self) -> None:
        if self.lines:
            self.buffer.write("".join(self.lines).encode("utf-8"))
            self.lines.clear()

    def mark(self) -> int:
        """A point to roll back to if a family turns out not to be ours halfway through."""
        self.flush()
        return self.buffer.tell()

    def rollback(self, mark: int) -> None:
        self.lines.clear()
        self.buffer.seek(mark)
        self.buffer.truncate()

    def getvalue(self) -> bytes:
        """The bytes; BytesIO hands over its own buffer (trimmed in place) rather than copying it."""
        self.flush()
        return self.buffer.getvalue()


Layout = tuple[Callable[[dict[str, str]], tuple[str, ...]], str]


def _layout(sample_name: str, label_names: tuple[str, ...]) -> Layout | None:
    """How to write a sample with these names; None when a name is outside the plain set.

    The getter returns the label values in generate_latest's order (sorted by name); the template is the line with
    a %s for each of them and one for the value. Plain names cannot contain "%", so those are its only conversions.
    """
    if _METRIC_NAME.fullmatch(sample_name) is None or not all(map(_plain_label_name, label_names)):
        return None
    ordered = tuple(sorted(label_names))
    if not ordered:
        return (lambda labels: ()), sample_name + " %s\n"
    template = sample_name + "{" + ",".join(f'{name}="%s"' for name in ordered) + "} %s\n"
    if len(ordered) == 1:
        only = ordered[0]
        return (lambda labels: (labels[only],)), template
    return itemgetter(*ordered), template


def _write_family(writer: _Writer, family: Metric, escaped: _EscapedValues) -> bool:
    """Write one gauge or counter family; False (and nothing written) when a name is outside the plain set."""
    name = family.name
    exposed = f"{name}_total" if family.type == "counter" else name
    documentation = _help(family.documentation)
    moved_names = {name + suffix: suffix for suffix in _MOVED_SUFFIXES}
    moved: dict[str, list[str]] = {}
    layouts: dict[tuple[str, tuple[str, ...]], Layout] = {}
    escape = escaped.__getitem__
    start = writer.mark()
    lines = writer.lines  # appended to directly: this loop runs once per series
    lines += (f"# HELP {exposed} {documentation}\n", f"# TYPE {exposed} {family.type}\n")
    for sample in family.samples:
        labels = sample.labels
        key = (sample.name, tuple(labels))
        layout = layouts.get(key)
        if layout is None:
            layout = _layout(*key)
            if layout is None:
                writer.rollback(start)
                return False
            layouts[key] = layout
        values, template = layout
        value = _value_text(sample.value)
        if sample.timestamp is not None:
            value += f" {int(float(sample.timestamp) * 1000):d}"
        line = template % (*map(escape, values(labels)), value)
        suffix = moved_names.get(sample.name)
        if suffix is not None:
            moved.setdefault(suffix, []).append(line)
            continue
        lines.append(line)
        if len(lines) >= _BATCH:
            writer.flush()
    for suffix, suffix_lines in sorted(moved.items()):
        lines += (f"# HELP {name}{suffix} {documentation}\n", f"# TYPE {name}{suffix} gauge\n", *suffix_lines)
    return True


def _supported(family: Metric) -> bool:
    return family.type in ("gauge", "counter") and _METRIC_NAME.fullmatch(family.name) is not None


def text_exposition(families: Iterable[Metric]) -> bytes:
    """The families in text format 0.0.4, identical to `generate_latest` over a collector yielding them."""
    writer = _Writer()
    escaped = _EscapedValues()
    for family in families:
        try:
            if _supported(family) and _write_family(writer, family, escaped):
                continue
        except Exception as exception:  # as generate_latest does: name the family that could not be written
            exception.args = (exception.args or ("",)) + (family,)
            raise
        writer.flush()
        writer.buffer.write(generate_latest(Families([family])))
    return writer.getvalue()
