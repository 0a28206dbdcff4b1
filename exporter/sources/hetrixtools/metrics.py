"""Pure mapping from `GET /v3/uptime-monitors` pages to monitors, and from monitors to the hetrixtools_* families.

    # HELP hetrixtools_monitor_up 1 when the monitor is up, 0 when down; active monitors only (cached, ...)
    # TYPE hetrixtools_monitor_up gauge
    hetrixtools_monitor_up{monitor_id="e343...",monitor_name="Shop",target="https://shop.example",...} 1.0
    hetrixtools_monitor_uptime_ratio{...} 0.999588
    hetrixtools_monitor_response_time_seconds{...,location="new_york"} 0.074
    hetrixtools_monitor_last_check_timestamp_seconds{...} 1.64183265e+09
    hetrixtools_monitor_status{...,status="active"} 1.0

A monitor that is paused, disabled or in maintenance has no `hetrixtools_monitor_up` series, so it never shows as
down; its state is in `hetrixtools_monitor_status`. API facts: shared/upstream/apis.md §2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from allim.numbers import as_number
from exporter.sources.upstream import SourceError

LABELS = ["monitor_id", "monitor_name", "target", "monitor_type"]
# `monitor_status` values the API documents; anything else is exported as "unknown" to keep the label bounded.
MONITOR_STATUSES = ("active", "paused", "disabled", "maint", "maint_dnd")


@dataclass(frozen=True)
class Monitor:
    """One uptime monitor as the API lists it, with the quirks already resolved."""

    id: str
    name: str
    target: str  # "" for heartbeat monitors (the API sends null)
    type: str
    status: str  # one of MONITOR_STATUSES or "unknown"
    up: bool | None  # None when uptime_status is neither "up" nor "down"
    uptime_ratio: float | None
    last_check: float | None
    response_times: dict[str, float] = field(default_factory=dict)  # location -> seconds

    @property
    def labels(self) -> list[str]:
        return [self.id, self.name, self.target, self.type]


def location_items(locations: object) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """(location, details) from the object form keyed by location, or the array form the schema describes."""
    if isinstance(locations, Mapping):
        yield from ((str(k), v) for k, v in locations.items() if isinstance(v, Mapping))
    elif isinstance(locations, list):
        for item in locations:
            if not isinstance(item, Mapping):
                continue
            name = next((item[k] for k in ("location", "name", "id") if isinstance(item.get(k), str)), None)
            if name:
                yield name, item


def monitor_from_json(item: Mapping[str, Any]) -> Monitor | None:
    """A Monitor from one entry of `monitors`; None when it has no id (it could not be labelled)."""
    monitor_id = item.get("id")
    if not isinstance(monitor_id, str | int) or str(monitor_id) == "":
        return None
    status = str(item.get("monitor_status") or "unknown")
    uptime_status = item.get("uptime_status")
    uptime = as_number(item.get("uptime"))
    response_times = {}
    for location, details in location_items(item.get("locations")):
        ms = as_number(details.get("response_time"))
        if ms is not None:
            response_times[location] = ms / 1000
    return Monitor(
        id=str(monitor_id),
        name=str(item.get("name") or ""),
        target=str(item.get("target") or ""),
        type=str(item.get("type") or ""),
        status=status if status in MONITOR_STATUSES else "unknown",
        up={"up": True, "down": False}.get(str(uptime_status)),
        uptime_ratio=None if uptime is None else round(uptime / 100, 8),  # 99.9588 -> 0.999588, not ...79999
        last_check=as_number(item.get("last_check")),
        response_times=response_times,
    )


def monitors_from_page(data: object, what: str = "uptime-monitors") -> tuple[list[Monitor], int | None]:
    """The monitors of one page of `GET /v3/uptime-monitors` and the next page number (None on the last)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("monitors"), list):
        raise SourceError("parse", f"{what}: expected an object with a 'monitors' list")
    monitors = [m for m in (monitor_from_json(i) for i in data["monitors"] if isinstance(i, Mapping)) if m]
    meta = data.get("meta")
    pagination = meta.get("pagination") if isinstance(meta, Mapping) else None
    next_page = pagination.get("next") if isinstance(pagination, Mapping) else None
    if next_page is None:
        return monitors, None
    try:
        return monitors, int(next_page)
    except (TypeError, ValueError):
        raise SourceError("parse", f"{what}: meta.pagination.next is not a page number: {next_page!r}") from None


@dataclass
class Override:
    """What a webhook said about a monitor, kept until a poll started after it (`mark`) replaces it."""

    up: bool
    mark: int
    timestamp: float  # the webhook's own `timestamp`, to ignore a late delivery of an older event
    labels: list[str]  # for monitors no poll has listed yet


def families_from_monitors(
    monitors: Iterable[Monitor], overrides: Mapping[str, Override] | None = None
) -> list[Metric]:
    """The hetrixtools_monitor_* families; `overrides` (by monitor id) replace `up` and add unlisted monitors."""
    overrides = overrides or {}
    up = GaugeMetricFamily(
        "hetrixtools_monitor_up", "1 when the monitor is up, 0 when down; active monitors only", labels=LABELS
    )
    uptime = GaugeMetricFamily(
        "hetrixtools_monitor_uptime_ratio",
        "Uptime as HetrixTools reports it (0-1, maintenance excluded)",
        labels=LABELS,
    )
    response = GaugeMetricFamily(
        "hetrixtools_monitor_response_time_seconds",
        "Last response time measured from each location",
        labels=[*LABELS, "location"],
    )
    last_check = GaugeMetricFamily(
        "hetrixtools_monitor_last_check_timestamp_seconds", "Unix time of the monitor's last check", labels=LABELS
    )
    status = GaugeMetricFamily(
        "hetrixtools_monitor_status",
        "Always 1; the monitor's state (active, paused, disabled, maint, maint_dnd, unknown)",
        labels=[*LABELS, "status"],
    )
    seen: set[str] = set()
    for monitor in monitors:
        seen.add(monitor.id)
        labels = monitor.labels
        override = overrides.get(monitor.id)
        value = override.up if override is not None else monitor.up
        if monitor.status == "active" and value is not None:
            up.add_metric(labels, 1.0 if value else 0.0)
        if monitor.uptime_ratio is not None:
            uptime.add_metric(labels, monitor.uptime_ratio)
        for location, seconds in sorted(monitor.response_times.items()):
            response.add_metric([*labels, location], seconds)
        if monitor.last_check is not None:
            last_check.add_metric(labels, monitor.last_check)
        status.add_metric([*labels, monitor.status], 1.0)
    for monitor_id, override in overrides.items():
        if monitor_id not in seen:
            up.add_metric(override.labels, 1.0 if override.up else 0.0)
    return [up, uptime, response, last_check, status]
