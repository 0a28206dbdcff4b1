"""What happened during the corpus's twelve weeks: the things watched, and the events that befell them.

A small Korean online shop: the shop, its API, a payments callback, a nightly backup (HetrixTools); a Django backend,
the browser front end, a batch worker and, from week 4, a mobile app (Sentry); one GA4 property; one web server
(host). Week 1 starts Monday 5 January 2026; Seollal falls in week 7, Samiljeol's substitute holiday opens week 9.

`incident=True` events are written to incidents.yml: things an on-call engineer wants to hear about. The rest are the
everyday shapes that fool alert rules (a holiday, a surge, a burst, a blip); they stay unlabelled, so an alert on one
counts as false. Random everyday events (single-minute blips, deploy bursts, error clusters) are drawn by each
source's module from its own seeded stream and kept away from the incidents listed here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from tests.corpus import clock

JOB = "allim-exporter"
INSTANCE = "web-1:8877"
PROPERTY = "498765432"


@dataclass(frozen=True)
class Monitor:
    """A HetrixTools uptime monitor as the exporter labels it."""

    key: str
    name: str
    type: str
    target: str  # empty for heartbeat monitors: Prometheus drops an empty label, so the series has none
    locations: tuple[str, ...]
    added: str | None = None  # KST; None: it existed before the corpus

    @property
    def id(self) -> str:
        return hashlib.md5(self.key.encode()).hexdigest()  # 32 hex digits, the shape of HetrixTools' ids

    def labels(self) -> dict[str, str]:
        labels = {"monitor_id": self.id, "monitor_name": self.name, "monitor_type": self.type}
        if self.target:
            labels["target"] = self.target
        return labels


@dataclass(frozen=True)
class Project:
    """A Sentry project: its hourly errors at the busiest normal hour (before the hour-aligned window doubles them)."""

    slug: str
    base_per_hour: float  # errors per hour that do not follow traffic (cron jobs, health checks)
    traffic_per_hour: float  # errors per hour at activity 1.0 (a normal weekday morning)
    added: str | None = None


@dataclass(frozen=True)
class Mount:
    mountpoint: str
    device: str
    fstype: str
    size_bytes: int


MONITORS = (
    Monitor("shop", "Shop", "website", "https://shop.example.kr/", ("tokyo", "singapore", "frankfurt")),
    Monitor("api", "API", "website", "https://api.example.kr/health", ("tokyo", "singapore", "san_francisco")),
    Monitor("payments", "Payments callback", "website", "https://pay.example.kr/callback", ("tokyo", "singapore")),
    Monitor("backup", "Nightly backup", "heartbeat", "", ()),
    Monitor("status", "Status page", "website", "https://status.example.kr/", ("tokyo", "london"), "2026-02-04 15:00"),
)
PROJECTS = (
    Project("backend", base_per_hour=14, traffic_per_hour=80),
    Project("web", base_per_hour=0.5, traffic_per_hour=16),
    Project("batch", base_per_hour=0.08, traffic_per_hour=0),
    Project("mobile", base_per_hour=0.3, traffic_per_hour=7, added="2026-01-28 11:00"),
)
MOUNTS = (
    Mount("/", "/dev/vda1", "ext4", 84_278_861_824),
    Mount("/var/lib/postgresql", "/dev/vdb", "ext4", 214_643_507_200),
)
SOURCES = ("ga4", "hetrixtools", "host", "sentry")


@dataclass(frozen=True)
class Event:
    """Something that happened to one watched thing, from `start` to `end` (KST)."""

    name: str
    kind: str
    family: str
    target: str  # the monitor key, project slug, mountpoint, "cpu", "memory", "exporter" or source name
    start: str
    end: str
    incident: bool
    why: str
    labels: dict[str, str] = field(default_factory=dict)  # ties an incident to its series in incidents.yml
    size: float = 0.0  # how big, in the kind's unit: storm errors a minute, disk filling % an hour, GA4 share kept

    @property
    def first(self) -> int:
        return clock.at(self.start)

    @property
    def last(self) -> int:
        """The first minute after the event."""
        return clock.at(self.end)


def _monitor(key: str) -> dict[str, str]:
    return {"monitor_id": next(m.id for m in MONITORS if m.key == key)}


HOST = {"instance": INSTANCE}

# fmt: off
EVENTS = (
    # HetrixTools. Outages are the service failing from every location; HetrixTools confirms from two locations
    # before it says "down", so what the exporter shows lags the truth by up to a check interval.
    Event("shop-outage-failover", "outage", "HetrixTools", "shop", "2026-01-14 14:07", "2026-01-14 14:45", True,
          "A database failover that did not complete: the shop answered 502 everywhere for 38 minutes.",
          _monitor("shop")),
    Event("status-firewall", "outage", "HetrixTools", "status", "2026-02-04 15:00", "2026-02-04 15:04", False,
          "The new status-page monitor, added before HetrixTools' probe addresses were let through the firewall: "
          "down for its first 4 minutes while the page itself was fine (the issue's 'new monitor, 4 down minutes')."),
    Event("api-outage-gateway", "outage", "HetrixTools", "api", "2026-02-05 10:21", "2026-02-05 10:53", True,
          "A bad configuration push to the API gateway, rolled back after 32 minutes.", _monitor("api")),
    Event("backup-missed", "outage", "HetrixTools", "backup", "2026-02-08 04:30", "2026-02-08 10:15", True,
          "The Sunday backup hung on a lock and never sent its heartbeat; someone re-ran it at 10:15.",
          _monitor("backup")),
    Event("shop-outage-maintenance", "outage", "HetrixTools", "shop", "2026-02-10 03:12", "2026-02-10 03:40", True,
          "Night maintenance that took the shop down for 28 minutes instead of none.", _monitor("shop")),
    Event("payments-flapping", "flapping", "HetrixTools", "payments", "2026-02-13 13:00", "2026-02-13 18:20", True,
          "A settlement job held a table lock for about a minute every ~10 minutes; the callback timed out each "
          "time. Never down for long, yet a tenth of the afternoon's checks failed.", _monitor("payments")),
    Event("status-outage-oom", "outage", "HetrixTools", "status", "2026-02-19 21:40", "2026-02-19 21:58", True,
          "The status page's small VM ran out of memory.", _monitor("status")),
    Event("api-outage-deploy", "outage", "HetrixTools", "api", "2026-02-25 16:02", "2026-02-25 16:16", True,
          "A deploy whose health check failed; the rollback took 14 minutes.", _monitor("api")),
    # Sentry. Error counts follow traffic; these are the departures from it.
    Event("backend-storm-redis", "storm", "Sentry", "backend", "2026-01-21 11:05", "2026-01-21 11:50", True,
          "A Redis failover: every request touching the cache raised, ~55 errors a minute for 45 minutes.",
          {"project": "backend"}, size=55),
    Event("mobile-storm-crash", "storm", "Sentry", "mobile", "2026-01-30 19:30", "2026-01-30 20:15", True,
          "The new app's first release crashed on one Android version: ~6 errors a minute, two days after the "
          "project was created (no history of its own yet).", {"project": "mobile"}, size=6),
    Event("backend-release-doubling", "release", "Sentry", "backend", "2026-02-11 16:30", "2026-02-12 19:10", True,
          "Release 2.14 doubled the backend's errors (a serializer bug on one endpoint) until the fix a day later.",
          {"project": "backend"}),
    Event("web-storm-widget", "storm", "Sentry", "web", "2026-02-26 20:12", "2026-02-26 21:05", True,
          "A third-party chat widget's CDN served a broken script: ~8 errors a minute from browsers.",
          {"project": "web"}, size=8),
    # GA4 realtime users.
    Event("ga4-tracking-outage", "tracking-outage", "Ga4", "ga4", "2026-02-03 14:10", "2026-02-03 16:40", True,
          "A front-end deploy dropped the gtag snippet: realtime users fell to zero over 30 minutes and stayed "
          "there until the rollback. Shoppers kept shopping (Sentry and the host saw them).", {"property": PROPERTY},
          size=0.0),
    Event("ga4-seollal", "holiday", "Ga4", "ga4", "2026-02-14 00:00", "2026-02-19 00:00", False,
          "Seollal: the weekend before and the three holidays, traffic at half a normal day or less."),
    Event("ga4-marketing-push", "spike", "Ga4", "ga4", "2026-02-24 19:00", "2026-02-24 21:30", True,
          "Marketing sent an app push nobody told the ops team about: 3-4x the usual evening traffic.",
          {"property": PROPERTY}),
    # Host web-1.
    Event("cpu-reindex", "cpu-busy", "Host", "cpu", "2026-01-16 22:10", "2026-01-16 23:55", True,
          "A full-text reindex started by hand pinned the CPU for 1 h 45 min and slowed the shop.", HOST),
    Event("cpu-runaway-worker", "cpu-busy", "Host", "cpu", "2026-02-04 13:20", "2026-02-04 16:05", True,
          "A worker stuck in a retry loop kept every core busy until it was killed.", HOST),
    Event("memory-leak", "memory-leak", "Host", "memory", "2026-02-20 09:00", "2026-02-21 02:40", True,
          "A release leaked memory from 62% to 97% over 17 hours; the kernel's OOM killer ended it.", HOST),
    Event("disk-debug-logging", "disk-filling", "Host", "/", "2026-02-23 10:00", "2026-02-26 16:00", True,
          "Debug logging left on after an investigation filled / at ~0.5% an hour for three days.",
          {"mountpoint": "/"}, size=0.5),
    # Weeks 9-12: the scored stretch goes on.
    Event("shop-outage-cdn", "outage", "HetrixTools", "shop", "2026-03-11 19:42", "2026-03-11 20:05", True,
          "A certificate rotation broke the CDN's pull from the origin: 23 minutes of 525 errors.",
          _monitor("shop")),
    Event("ga4-consent-banner", "tracking-outage", "Ga4", "ga4", "2026-03-17 11:20", "2026-03-18 10:05", True,
          "A new cookie-consent banner kept GA4 from loading until a visitor chose: 60% of users vanished from "
          "GA4 (not from the shop) for most of a day. A drop, not a zero.", {"property": PROPERTY}, size=0.4),
    Event("backend-storm-pool", "storm", "Sentry", "backend", "2026-03-24 21:10", "2026-03-24 21:40", True,
          "A configuration change halved the database connection pool: ~30 errors a minute at the evening peak.",
          {"project": "backend"}, size=30),
    Event("db-disk-wal", "disk-filling", "Host", "/var/lib/postgresql", "2026-03-25 09:00", "2026-03-26 03:00",
          True, "WAL archiving failed after the backup bucket's credentials expired: WAL piled up at ~0.6% an hour "
          "on the database disk until the archive command was fixed overnight.",
          {"mountpoint": "/var/lib/postgresql"}, size=0.6),
    # The exporter itself.
    Event("exporter-crash", "exporter-down", "Allim", "exporter", "2026-01-22 03:10", "2026-01-22 03:36", True,
          "The exporter's container was OOM-killed and did not come back until the restart policy's backoff "
          "ran out: 26 minutes with no data at all.", HOST),
    Event("ga4-api-failing", "source-failing", "Allim", "ga4", "2026-02-12 11:03", "2026-02-12 11:17", True,
          "Google's Data API answered 503 for 14 minutes; the GA4 series went stale, then absent.",
          {"source": "ga4"}),
)
# fmt: on

# Upgrading the exporter itself: one scrape with nothing to read each time, never an incident.
EXPORTER_RESTARTS = ("2026-01-13 15:02", "2026-02-09 11:31", "2026-02-25 14:47")


def events(kind: str | None = None, target: str | None = None) -> list[Event]:
    return [e for e in EVENTS if (kind is None or e.kind == kind) and (target is None or e.target == target)]


def incidents() -> list[Event]:
    return [e for e in EVENTS if e.incident]


def near_incident(family: str, minute: int, targets: tuple[str, ...] = (), margin: int = 180) -> bool:
    """Whether `minute` is within `margin` minutes of an incident of `family` (of one of `targets`, if given):
    random everyday events keep away, so each labelled window holds its incident and nothing else."""
    return any(
        e.first - margin <= minute < e.last + margin
        for e in incidents()
        if e.family == family and (not targets or e.target in targets)
    )


def added_minute(added: str | None) -> int:
    return 0 if added is None else clock.at(added)


def series_weeks(family: str) -> float:
    """Weeks of watching summed over the things a family's alerts watch (monitors, projects, the property, the
    host's CPU, memory and each filesystem, the exporter and its sources): the denominator of 'false alerts per
    series per 4 weeks'."""
    total = clock.MINUTES
    minutes = {
        "HetrixTools": [total - added_minute(m.added) for m in MONITORS],
        "Sentry": [total - added_minute(p.added) for p in PROJECTS],
        "Ga4": [total],
        "Host": [total] * (2 + len(MOUNTS)),
        "Allim": [total] * (1 + len(SOURCES)),
    }[family]
    return sum(minutes) / (7 * 1440)


FAMILIES = ("HetrixTools", "Sentry", "Ga4", "Host", "Allim")
