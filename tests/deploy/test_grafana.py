"""The Grafana provisioning and dashboard: structure, data source by variable only, and queries promtool can parse.

`dashboard_queries()` gives every panel query with Grafana's interval variables replaced, ready to send to
a live Prometheus (the end-to-end test checks that each returns data).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.support import DEPLOY, binary, rule_groups, run, seconds

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "allim.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
ROWS = ["Sentry", "HetrixTools", "GA4", "Host", "Exporter health", "Bridge deliveries"]
# Grafana's built-in interval variables, replaced by a window Prometheus accepts.
INTERVAL_VARIABLES = ("$__rate_interval", "${__rate_interval}", "$__interval", "${__interval}", "$__range")
WINDOW = "5m"


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(dash: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in (dash or dashboard())["panels"]:
        yield panel
        yield from panel.get("panels", [])


def query_panels() -> list[dict[str, Any]]:
    return [p for p in panels() if p["type"] != "row"]


def substitute(expr: str) -> str:
    for variable in INTERVAL_VARIABLES:
        expr = expr.replace(variable, WINDOW)
    return expr


def dashboard_targets() -> list[tuple[str, str]]:
    """(panel title, query) for every target of every panel, interval variables replaced by 5m."""
    return [(p["title"], substitute(t["expr"])) for p in query_panels() for t in p["targets"]]


def dashboard_queries() -> list[str]:
    """Every panel query of deploy/grafana/dashboards/allim.json, interval variables replaced by 5m."""
    return [expr for _, expr in dashboard_targets()]


def datasource_refs(node: Any) -> Iterator[Any]:
    """Every value of a `datasource` key anywhere in the JSON."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            yield from datasource_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from datasource_refs(item)


def test_dashboard_structure() -> None:
    dash = dashboard()
    assert dash["uid"] == "allim" and dash["title"]
    assert "__inputs" not in dash
    assert [p["title"] for p in dash["panels"] if p["type"] == "row"] == ROWS
    ids = [p["id"] for p in panels(dash)]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels(dash):
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]


def test_datasource_is_a_variable() -> None:
    (variable,) = [v for v in dashboard()["templating"]["list"] if v["name"] == "datasource"]
    assert variable["type"] == "datasource" and variable["query"] == "prometheus"


def test_no_hard_coded_datasource_uid() -> None:
    refs = list(datasource_refs(dashboard()))
    assert refs and all(ref == DATASOURCE for ref in refs), [r for r in refs if r != DATASOURCE]
    for panel in query_panels():
        assert panel["datasource"] == DATASOURCE, panel["title"]


def test_every_panel_has_queries() -> None:
    for panel in query_panels():
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"] == DATASOURCE, panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_every_query_parses() -> None:
    queries = dashboard_queries()
    assert queries and not any("$" in q for q in queries), [q for q in queries if "$" in q]
    # One recording rule per query: `promtool check rules` parses every expression.
    records = [{"record": f"dashboard:query_{i}", "expr": q} for i, q in enumerate(queries)]
    rules = {"groups": [{"name": "dashboard", "rules": records}]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "dashboard.yml"
        path.write_text(yaml.safe_dump(rules))
        result = run(binary("promtool"), "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_provisioning() -> None:
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "allim.yml").read_text())
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"


def _shipped_rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"]]


def reads_any(expr: str, names: set[str]) -> bool:
    """Whether `expr` reads any of the series `names` (whole names, not a prefix of a longer one)."""
    return any(re.search(rf"\b{re.escape(name)}\b", expr) for name in names)


def hourly_records() -> set[str]:
    """Recorded series that a fresh Prometheus holds only after up to an hour: those of groups evaluated hourly (or
    less often), and every record computed from one. A panel that reads only these is empty until then."""
    slow = {
        rule["record"]
        for group in rule_groups()
        if seconds(group.get("interval", "1m")) >= 3600
        for rule in group["rules"]
        if "record" in rule
    }
    records = [rule for rule in _shipped_rules() if "record" in rule]
    while grown := {r["record"] for r in records if r["record"] not in slow and reads_any(r["expr"], slow)}:
        slow |= grown
    return slow


def test_hourly_panels_say_they_wait_for_the_hourly_evaluation() -> None:
    hourly = hourly_records()
    waiting = [p for p in query_panels() if all(reads_any(t["expr"], hourly) for t in p["targets"])]
    assert waiting, "no panel reads an hourly record"
    for panel in waiting:
        assert "up to an hour after Prometheus starts" in panel["description"], panel["title"]


def test_panel_descriptions_name_only_shipped_alerts_and_show_each_one() -> None:
    """A panel's description names the alerts it shows: a renamed or removed alert must not linger there, and
    every alert a page can come from has a panel to look at (Watchdog has no signal to plot)."""
    shipped = {rule["alert"] for rule in _shipped_rules() if "alert" in rule}
    described = " ".join(p.get("description", "") for p in query_panels())
    named = set(re.findall(r"\b(?:Sentry|HetrixTools|Ga4|Host|Allim)[A-Z][A-Za-z0-9]+\b", described))
    assert named <= shipped, f"descriptions name alerts that are not shipped: {sorted(named - shipped)}"
    assert shipped - named == {"Watchdog"}, f"alerts no panel describes: {sorted(shipped - named - {'Watchdog'})}"


def test_every_recorded_series_a_panel_reads_is_recorded() -> None:
    """promtool parses a query with an unknown name; here a panel's `level:metric:operation` must be a shipped
    recording rule."""
    recorded = {rule["record"] for rule in _shipped_rules() if "record" in rule}
    read = {name for expr in dashboard_queries() for name in re.findall(r"\b[a-z0-9_]+:[a-z0-9_]+:[a-z0-9_]+\b", expr)}
    assert read, "the dashboard reads no recording rule"
    assert read <= recorded, sorted(read - recorded)
