"""The Alertmanager config: amtool check-config, routing per severity, and the bridge receivers it posts to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.deploy.support import ALERTMANAGER_CONFIG, DEPLOY, README, alert_rules, binary, run

BRIDGE_CONFIG = DEPLOY / "bridge" / "bridge.yml"
# The HA pair of docker-compose.yml's `ha` profile: one config per peer, each posting to its own bridge replica.
HA_PEER_CONFIGS = {peer: DEPLOY / "alertmanager" / f"alertmanager-ha-{peer}.yml" for peer in ("a", "b")}
BRIDGE_RECEIVERS = {"critical", "default", "watchdog"}
# The labels that identify what an alert is about, one per source (plus instance for host and target alerts).
IDENTIFYING = {"alertname", "project", "monitor_id", "mountpoint", "interface", "property", "source", "channel"}


def config() -> dict:
    return yaml.safe_load(ALERTMANAGER_CONFIG.read_text())


def route(*labels: str) -> str:
    """The receivers amtool resolves for a label set, comma-separated."""
    cmd = [binary("amtool"), "config", "routes", "test", f"--config.file={ALERTMANAGER_CONFIG}", *labels]
    result = run(*cmd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("path", [ALERTMANAGER_CONFIG, *HA_PEER_CONFIGS.values()], ids=lambda p: p.name)
def test_amtool_check_config(path: Path) -> None:
    result = run(binary("amtool"), "check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
    assert "- 4 receivers" in result.stdout


@pytest.mark.parametrize("peer", sorted(HA_PEER_CONFIGS))
def test_ha_peer_config_is_alertmanager_yml_posting_to_its_own_bridge_replica(peer: str) -> None:
    """Same routes, receivers and inhibitions, so both peers compute the same group keys and receiver names:
    the cluster's notification log and the bridges' dedup key match across peers only then."""
    peer_config = yaml.safe_load(HA_PEER_CONFIGS[peer].read_text())
    hooks = [hook for receiver in peer_config["receivers"] for hook in receiver.get("webhook_configs", [])]
    assert hooks
    for hook in hooks:
        assert hook["url"].startswith(f"http://bridge-{peer}:8000/alertmanager/"), hook["url"]
        hook["url"] = hook["url"].replace(f"http://bridge-{peer}:8000/", "http://bridge:8000/", 1)
    assert peer_config == config()


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["alertname=HetrixToolsMonitorDown", "severity=critical", "monitor_id=m1"], "critical"),
        (["alertname=SentryErrorRateHigh", "severity=critical", "project=web"], "critical"),
        (["alertname=SentryErrorRateHigh", "severity=high", "project=web"], "default"),
        (["alertname=HostCpuUsageHigh", "severity=warning", "instance=a:8877"], "default"),
        (["alertname=SomethingInformational", "severity=info"], "null"),
        (["alertname=Watchdog", "severity=info"], "watchdog"),
        (["alertname=NoSeverityLabel"], "default"),
        (["alertname=OddSeverity", "severity=page"], "default"),
    ],
)
def test_routes(labels: list[str], receiver: str) -> None:
    assert route(*labels) == receiver


def test_verify_receivers_rejects_a_wrong_route() -> None:
    cmd = [binary("amtool"), "config", "routes", "test", f"--config.file={ALERTMANAGER_CONFIG}"]
    result = run(*cmd, "--verify.receivers=default", "severity=critical")
    assert result.returncode == 1, result.stdout + result.stderr


def test_every_rule_routes_by_its_severity() -> None:
    expected = {"critical": "critical", "high": "default", "warning": "default", "info": "null"}
    for rule in alert_rules():
        severity = rule["labels"]["severity"]
        want = "watchdog" if rule["alert"] == "Watchdog" else expected[severity]
        assert route(f"alertname={rule['alert']}", f"severity={severity}") == want, rule["alert"]


def test_webhooks_post_to_the_bridge_with_bearer_auth_from_a_file() -> None:
    receivers = {r["name"]: r for r in config()["receivers"]}
    assert set(receivers) == BRIDGE_RECEIVERS | {"null"}
    assert "webhook_configs" not in receivers["null"]
    for name in BRIDGE_RECEIVERS:
        (hook,) = receivers[name]["webhook_configs"]
        assert hook["url"] == f"http://bridge:8000/alertmanager/{name}"
        assert hook["send_resolved"] is True
        assert 0 < hook["max_alerts"] <= 100
        auth = hook["http_config"]["authorization"]
        assert auth == {"type": "Bearer", "credentials_file": "/run/secrets/bridge_auth_token"}
    assert "credentials:" not in ALERTMANAGER_CONFIG.read_text()


def test_grouping_and_inhibition_use_the_identifying_labels() -> None:
    cfg = config()
    assert set(cfg["route"]["group_by"]) >= IDENTIFYING | {"instance"}
    inhibit = cfg["inhibit_rules"]
    by_source = {tuple(rule["source_matchers"]): rule for rule in inhibit}
    critical = by_source[('severity="critical"',)]
    assert critical["target_matchers"] == ['severity=~"high|warning"']
    assert set(critical["equal"]) == set(cfg["route"]["group_by"])
    high = by_source[('severity="high"',)]
    assert high["target_matchers"] == ['severity="warning"']
    assert set(high["equal"]) == set(cfg["route"]["group_by"])


def test_bridge_example_config_defines_the_routed_receivers() -> None:
    bridge = yaml.safe_load(BRIDGE_CONFIG.read_text())
    assert set(bridge["receivers"]) == BRIDGE_RECEIVERS
    assert set(bridge["receivers"]["critical"]["channels"]) == {"discord", "email"}
    assert bridge["receivers"]["default"]["channels"] == ["discord"]


def test_readme_receiver_snippet_is_valid(tmp_path: Path) -> None:
    section = README.read_text().split("### Adding allim to an existing Prometheus and Alertmanager", 1)[1]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    (snippet,) = [yaml.safe_load(b) for b in blocks if "receivers:" in b]
    snippet["route"]["receiver"] = "allim-default"
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(snippet))
    result = run(binary("amtool"), "check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def _matches(matchers: list[str], labels: dict[str, str]) -> bool:
    for matcher in matchers:
        name, op, value = re.fullmatch(r'(\w+)(=~|!~|!=|=)"(.*)"', matcher).groups()
        have = labels.get(name, "")
        ok = {
            "=": have == value,
            "!=": have != value,
            "=~": re.fullmatch(value, have) is not None,
            "!~": re.fullmatch(value, have) is None,
        }[op]
        if not ok:
            return False
    return True


def inhibited(target: dict[str, str], source: dict[str, str]) -> bool:
    """Whether firing `source` hides `target` under the config's inhibit_rules (missing labels equal "")."""
    return any(
        _matches(rule["source_matchers"], source)
        and _matches(rule["target_matchers"], target)
        and all(source.get(name, "") == target.get(name, "") for name in rule.get("equal", []))
        for rule in config()["inhibit_rules"]
    )


BASE = {"job": "allim-exporter", "instance": "exporter:8877", "project": "web"}


def test_lower_severity_of_the_same_alert_is_inhibited() -> None:
    high = {**BASE, "alertname": "SentryErrorRateHigh", "severity": "high"}
    critical = {**BASE, "alertname": "SentryErrorRateHigh", "severity": "critical"}
    assert inhibited(high, critical)
    assert not inhibited(high, {**critical, "project": "api"})


@pytest.mark.parametrize("severity", ["critical", "high"])
def test_sentry_error_spike_is_not_hidden_by_error_rate_high(severity: str) -> None:
    spike = {**BASE, "alertname": "SentryErrorSpike", "severity": "warning"}
    assert not inhibited(spike, {**BASE, "alertname": "SentryErrorRateHigh", "severity": severity})


MONITOR = {"job": "allim-exporter", "instance": "exporter:8877", "monitor_id": "m1", "monitor_name": "shop"}


def _burn(tier: str) -> dict[str, str]:
    """The labels HetrixToolsErrorBudgetBurn's tier carries, as the rule file sets them."""
    (rule,) = [
        r for r in alert_rules() if r["alert"] == "HetrixToolsErrorBudgetBurn" and r["labels"]["slo_tier"] == tier
    ]
    return {**MONITOR, "alertname": "HetrixToolsErrorBudgetBurn", **rule["labels"]}


def test_the_burn_rate_page_holds_back_the_ticket_of_its_monitor_only() -> None:
    assert inhibited(_burn("ticket"), _burn("page"))
    assert not inhibited(_burn("ticket"), {**_burn("page"), "monitor_id": "m2"})
    assert not inhibited(_burn("page"), _burn("ticket"))


def test_monitor_down_holds_back_the_ticket_and_slow_responses_but_not_the_page() -> None:
    """One incident, one page: the outage's ticket arrives after it, with the budget left. The page is left alone:
    its expression already ignores an outage HetrixToolsMonitorDown pages, and an alert muted after it was sent
    would never be sent resolved."""
    down = {**MONITOR, "alertname": "HetrixToolsMonitorDown", "severity": "critical"}
    slow = {**MONITOR, "alertname": "HetrixToolsResponseTimeSlow", "severity": "high", "location": "tokyo"}
    assert inhibited(_burn("ticket"), down)
    assert inhibited(slow, down)
    assert not inhibited(_burn("page"), down)
    assert not inhibited(_burn("ticket"), {**down, "monitor_id": "m2"})


def test_traffic_at_zero_holds_back_the_drop_of_its_property() -> None:
    base = {"job": "allim-exporter", "instance": "exporter:8877", "property": "p1"}
    zero = {**base, "alertname": "Ga4TrafficZero", "severity": "high"}
    drop = {**base, "alertname": "Ga4TrafficDrop", "severity": "warning"}
    assert inhibited(drop, zero)
    assert not inhibited(drop, {**zero, "property": "p2"})
    assert not inhibited(zero, drop)


def test_a_disk_that_fills_within_hours_holds_back_almost_full() -> None:
    disk = {"job": "allim-exporter", "instance": "a:8877", "mountpoint": "/var"}
    full = {**disk, "alertname": "HostDiskAlmostFull", "severity": "high"}
    filling = {**disk, "alertname": "HostDiskFillingUp"}
    assert inhibited(full, {**filling, "severity": "critical"})
    assert not inhibited(full, {**filling, "severity": "warning"})
    assert not inhibited(full, {**filling, "severity": "critical", "mountpoint": "/"})
