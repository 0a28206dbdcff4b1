"""deploy/'s Prometheus and Alertmanager configs, rewritten for one machine: what `make run` and the e2e test use.

The compose hostnames (`exporter:8877`, `bridge:8000`, ...) become loopback addresses; the e2e test also shortens
intervals and `for:` durations. Every function takes the file it rewrites, so nothing here assumes a checkout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

# The scrape job names in deploy/prometheus/prometheus.yml and which local service each one scrapes.
JOBS = {
    "allim-exporter": "exporter",
    "allim-bridge": "bridge",
    "prometheus": "prometheus",
    "alertmanager": "alertmanager",
}


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    return data


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def prometheus_config(
    addresses: Mapping[str, str],
    *,
    source: Path,
    rule_files: Sequence[Path] | None = None,
    interval: str | None = None,
    host_name: str | None = None,
) -> dict[str, Any]:
    """`source` (deploy's prometheus.yml) with loopback targets; `interval` shortens scrape and evaluation
    (tests use 1s). Rule files default to the ones `source` names, resolved next to it. `host_name` becomes the
    exporter's `instance`, as deploy's config sets one: host alerts name the machine by it, and a loopback
    address names none."""
    config = load_yaml(source)
    if interval:
        config.setdefault("global", {}).update({"scrape_interval": interval, "evaluation_interval": interval})
    if rule_files is None:
        rule_files = sorted(p for pattern in config.get("rule_files", []) for p in source.parent.glob(pattern))
    config["rule_files"] = [str(p) for p in rule_files]
    for job in config.get("scrape_configs", []):
        service = JOBS.get(job.get("job_name", ""))
        if service and service in addresses:
            job["static_configs"] = [{"targets": [addresses[service]]}]
            if host_name and service == "exporter":
                job["static_configs"][0]["labels"] = {"instance": host_name}
            if interval:
                job.pop("scrape_interval", None)
    config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [addresses["alertmanager"]]}]}]}
    return config


def rules_with_short_for(source_dir: Path, target_dir: Path, for_duration: str) -> list[Path]:
    """Copies of the rule files with every `for:` set to `for_duration`, so an end-to-end run fires in
    seconds. The real durations are covered by the promtool unit tests."""
    written = []
    for path in sorted(source_dir.glob("*.yml")):
        data = load_yaml(path)
        for group in data.get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule and "for" in rule:
                    rule["for"] = for_duration
        written.append(write_yaml(target_dir / path.name, data))
    return written


def alertmanager_config(bridge_address: str, token_file: Path, *, source: Path, fast: bool = False) -> dict[str, Any]:
    """`source` (deploy's alertmanager.yml) sending to a loopback bridge, the bearer token read from `token_file`;
    `fast` makes group_wait and group_interval 1s."""
    config = load_yaml(source)
    for receiver in config.get("receivers", []):
        for hook in receiver.get("webhook_configs", []):
            parts = urlsplit(hook["url"])
            hook["url"] = urlunsplit((parts.scheme, bridge_address, parts.path, parts.query, ""))
            auth = hook.setdefault("http_config", {}).setdefault("authorization", {})
            auth.pop("credentials", None)
            auth["credentials_file"] = str(token_file)
    if fast:
        _speed_up_routes(config.get("route", {}))
    return config


def _speed_up_routes(route: dict[str, Any], top: bool = True) -> None:
    """group_wait and group_interval of 1s on the root route and wherever a child route sets its own."""
    for key in ("group_wait", "group_interval"):
        if top or key in route:
            route[key] = "1s"
    for child in route.get("routes", []):
        _speed_up_routes(child, top=False)
