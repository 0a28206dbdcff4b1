"""Collects uptime monitor status, uptime and response times from the HetrixTools API v3.

    # HELP hetrixtools_monitor_up 1 when the monitor is up, 0 when down; active monitors only (cached, ...)
    # TYPE hetrixtools_monitor_up gauge
    hetrixtools_monitor_up{monitor_id="e343...",monitor_name="Shop",target="https://shop.example",...} 1.0
    hetrixtools_monitor_uptime_ratio{...} 0.999588
    hetrixtools_monitor_response_time_seconds{...,location="new_york"} 0.074
    hetrixtools_monitor_last_check_timestamp_seconds{...} 1.64183265e+09
    hetrixtools_monitor_status{...,status="active"} 1.0

One poll reads every page of `GET /v3/uptime-monitors` (API facts: shared/upstream/apis.md §2). A monitor that is
paused, disabled or in maintenance has no `hetrixtools_monitor_up` series, so it never shows as down; its state is
in `hetrixtools_monitor_status`. Webhooks (exporter/sources/hetrixtools_webhook.py) override `up` for a monitor until
a poll that started after the webhook replaces it.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from allim.secret import Secret
from allim.settings import Settings
from exporter.sources.base import SourceConfig, read_common
from exporter.sources.upstream import RateLimitGate, SourceError, parse_json, raise_for_status

DEFAULT_API_BASE = "https://api.hetrixtools.com"
MAX_PER_PAGE = 200
LABELS = ["monitor_id", "monitor_name", "target", "monitor_type"]
# `monitor_status` values the API documents; anything else is exported as "unknown" to keep the label bounded.
MONITOR_STATUSES = ("active", "paused", "disabled", "maint", "maint_dnd")
# A 429 without a usable reset header defers the next call by this much; a reset further away is capped.
DEFAULT_BACKOFF = 60.0
MAX_BACKOFF = 3600.0

log = logging.getLogger("exporter.sources.hetrixtools")


@dataclass(frozen=True, kw_only=True)
class HetrixToolsConfig(SourceConfig):
    api_key: Secret | None
    api_base: str
    webhook_token: Secret | None
    per_page: int
    max_pages: int
    max_unknown_monitors: int


def load_hetrixtools_config(settings: Settings) -> HetrixToolsConfig:
    api_key = settings.secret("api_key", env="HETRIXTOOLS_API_KEY")
    common = read_common(settings, enabled=api_key is not None, interval=60)
    if common["enabled"] and api_key is None:
        settings.problem("api_key", "required when the source is enabled, or api_key_file (or HETRIXTOOLS_API_KEY)")
    api_base = settings.url("api_base", DEFAULT_API_BASE, env="HETRIXTOOLS_API_BASE", base=True) or DEFAULT_API_BASE
    return HetrixToolsConfig(
        **common,
        api_key=api_key,
        api_base=api_base,
        webhook_token=settings.secret("webhook_token", env="HETRIXTOOLS_WEBHOOK_TOKEN"),
        per_page=settings.integer("per_page", MAX_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE),
        max_pages=settings.integer("max_pages", 50, minimum=1),
        max_unknown_monitors=settings.integer("max_unknown_monitors", 100, minimum=0),
    )


# -- pure parsing and mapping --------------------------------------------------------------------


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


def as_float(value: object) -> float | None:
    """A number given as a number or a string ("99.9588"); None when absent or not numeric."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        return None


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
    uptime = as_float(item.get("uptime"))
    response_times = {}
    for location, details in location_items(item.get("locations")):
        ms = as_float(details.get("response_time"))
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
        last_check=as_float(item.get("last_check")),
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


def rate_limit_from_headers(headers: Mapping[str, str]) -> tuple[float | None, float | None]:
    """(requests remaining, when an exhausted window resets) from the `ratelimit-*` headers; None where absent.

    The API counts per user and per endpoint; the smaller remainder is what is really left. The reset is
    reported only for windows at 0, since only those stop the next call.
    """
    remaining: float | None = None
    reset: float | None = None
    for scope in ("user", "endpoint"):
        left = as_float(headers.get(f"ratelimit-remaining-{scope}"))
        if left is None:
            continue
        remaining = left if remaining is None else min(remaining, left)
        at = as_float(headers.get(f"ratelimit-reset-{scope}"))
        if left <= 0 and at is not None:
            reset = at if reset is None else max(reset, at)
    return remaining, reset


# -- the source ----------------------------------------------------------------------------------


class HetrixToolsSource:
    """Polls every page of uptime monitors; keeps them, plus webhook overrides, to build families from."""

    name = "hetrixtools"

    def __init__(
        self, config: HetrixToolsConfig, client: httpx.AsyncClient, clock: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.client = client
        self.clock = clock
        self.gate = RateLimitGate(clock)
        self.monitors: dict[str, Monitor] = {}
        self.overrides: dict[str, Override] = {}
        # Logical time: a poll clears only the overrides applied before it started.
        self._marks = itertools.count()

    async def collect(self) -> list[Metric]:
        started = next(self._marks)
        monitors = await self.fetch_uptime_monitors()
        self.monitors = {m.id: m for m in monitors}
        self.overrides = {k: o for k, o in self.overrides.items() if o.mark > started}
        # Built after the last await, so the scheduler publishes exactly the state at this moment.
        return self.build_families()

    def build_families(self) -> list[Metric]:
        """Families from the last poll and the webhook overrides still in force."""
        return families_from_monitors(self.monitors.values(), self.overrides)

    def apply_webhook(self, monitor_id: str, up: bool, timestamp: float, labels: list[str]) -> bool:
        """Hold `up` for the monitor until a later poll; False when an already applied webhook is newer."""
        current = self.overrides.get(monitor_id)
        if current is not None and current.timestamp > timestamp:
            return False
        known = self.monitors.get(monitor_id)
        if known is not None:
            labels = known.labels
        elif current is None:
            if self.config.max_unknown_monitors == 0:
                return False
            self._evict_unknown()
        self.overrides[monitor_id] = Override(up, next(self._marks), timestamp, labels)
        return True

    def _evict_unknown(self) -> None:
        """Keep at most max_unknown_monitors overrides for monitors no poll has listed: the oldest goes first."""
        unknown = [k for k in self.overrides if k not in self.monitors]
        while unknown and len(unknown) >= self.config.max_unknown_monitors:
            oldest = min(unknown, key=lambda k: self.overrides[k].mark)
            del self.overrides[oldest]
            unknown.remove(oldest)
            log.warning("too many webhook-only monitors, dropped the oldest", extra={"source": self.name})

    # -- I/O ---------------------------------------------------------------------------------
    async def fetch_uptime_monitors(self) -> list[Monitor]:
        """Every page, `per_page` at a time, until `meta.pagination.next` is null (or the page cap)."""
        monitors: list[Monitor] = []
        page = 1
        for _ in range(self.config.max_pages):
            what = f"GET /v3/uptime-monitors page {page}"
            data = await self.fetch_page(page, what)
            found, next_page = monitors_from_page(data, what)
            monitors += found
            if next_page is None:
                return monitors
            if next_page <= page:
                raise SourceError("parse", f"{what}: pagination does not advance (next={next_page})")
            page = next_page
        log.warning(
            "page cap reached, later monitors are not exported",
            extra={"source": self.name, "max_pages": self.config.max_pages, "monitors": len(monitors)},
        )
        return monitors

    async def fetch_page(self, page: int, what: str) -> Any:
        self.gate.check()
        key = self.config.api_key.reveal() if self.config.api_key else ""
        response = await self.client.get(
            f"{self.config.api_base}/v3/uptime-monitors",
            params={"page": page, "per_page": self.config.per_page},
            headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
            timeout=self.config.timeout,
        )
        self.note_rate_limit(response)
        raise_for_status(response, what)
        return parse_json(response, what)

    def note_rate_limit(self, response: httpx.Response) -> None:
        """Export what is left, and defer the next call until the reset when nothing is (always after a 429)."""
        remaining, reset = rate_limit_from_headers(response.headers)
        if remaining is not None:
            self.gate.remaining = remaining
        if response.status_code == 429:
            retry_after = as_float(response.headers.get("retry-after"))
            if reset is None and retry_after is not None:
                reset = self.clock() + retry_after
            self._defer(reset if reset is not None else self.clock() + DEFAULT_BACKOFF)
        elif reset is not None:
            self._defer(reset)

    def _defer(self, reset: float) -> None:
        now = self.clock()
        if reset < 1e9:  # a delta in seconds rather than a unix time
            reset += now
        self.gate.defer_until(min(reset, now + MAX_BACKOFF))
