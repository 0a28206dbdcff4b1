"""Where an alert is: the labels that say what it is about, and whether its `instance` is a host (pure, no I/O).

`instance` is the address Prometheus scraped, not necessarily the affected machine. Our exporter's Sentry,
HetrixTools and GA4 alerts are about a project, a monitor or a GA4 property; their `instance` is the exporter's own
address (`exporter:8877`), and showing it as the host sends someone to SSH into the wrong machine. The rule, which
holds for a user's own rules as well:

- a `host` label is always the host;
- `instance` is the host, unless the alert names a subject that is not a machine (a label in NOT_A_MACHINE: a
  project, monitor, target, URL or property) or is itself a URL (a blackbox probe's target). Then it is shown under
  its own name, the scrape target. So node_exporter alerts (`job="node"`), our host alerts and the exporter's and
  bridge's own alerts (AllimExporterDown, AllimSourceDown: a process on that machine) keep it as the host.
"""

from __future__ import annotations

from bridge.notification import Alert

# Labels naming a subject that is not a machine: an alert carrying one is not about the host it was scraped from.
NOT_A_MACHINE = ("project", "monitor_name", "monitor", "monitor_id", "target", "url", "property")
# Parts of a host: shown after the host's name in a title (`web-1 /var`).
HOST_PARTS = ("mountpoint", "interface")
# What a title names, most identifying first (HOST_PARTS with their host in front; instance only when it is a host).
SUBJECT_LABELS = (
    "project",
    "monitor_name",
    "monitor",
    "monitor_id",
    "property",
    "target",
    "url",
    *HOST_PARTS,
    "host",
    "source",
    "channel",
)
# The details shown with each alert: (message key, labels tried in order); the host comes from host() below.
DETAIL_LABELS = (
    ("project", ("project",)),
    ("monitor", ("monitor_name", "monitor")),
    ("target", ("target", "url")),
    ("property", ("property",)),
    ("mountpoint", ("mountpoint",)),
    ("interface", ("interface",)),
    ("location", ("location",)),
)


def instance_is_host(alert: Alert) -> bool:
    """Whether `instance` names the machine the alert is about (see the module's docstring)."""
    instance = alert.labels.get("instance", "")
    return bool(instance) and "://" not in instance and not any(alert.labels.get(k) for k in NOT_A_MACHINE)


def host(alert: Alert) -> str:
    """The affected machine: the `host` label, else `instance` when it is a host; empty when the alert names none."""
    return alert.labels.get("host") or (alert.labels.get("instance", "") if instance_is_host(alert) else "")


def scrape_target(alert: Alert) -> str:
    """`instance` when it is not shown as the host (kept, under its own name: it is where the data came from)."""
    instance = alert.labels.get("instance", "")
    return instance if instance and instance != host(alert) else ""


def subject(alert: Alert) -> str:
    """What the alert is about, for its title: the first label of SUBJECT_LABELS set, a host part with its host in
    front; else the host. Empty when the alert names nothing."""
    machine = host(alert)
    for key in SUBJECT_LABELS:
        value = alert.labels.get(key)
        if value:
            return f"{machine} {value}" if key in HOST_PARTS and machine else value
    return machine


def details(alert: Alert) -> list[tuple[str, str]]:
    """(message key, value) of every detail the alert has: its subject's labels, then host and scrape target."""
    found = []
    for key, labels in DETAIL_LABELS:
        value = next((alert.labels[k] for k in labels if alert.labels.get(k)), "")
        if value:
            found.append((key, value))
    found += [("host", host(alert))] if host(alert) else []
    found += [("scrape_target", scrape_target(alert))] if scrape_target(alert) else []
    return found


def shown_labels() -> set[str]:
    """The labels details() may show: left out of the alert's `Labels` line."""
    return {"host", "instance", *(label for _, labels in DETAIL_LABELS for label in labels)}
