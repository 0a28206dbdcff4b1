"""Where an alert is: the host only for alerts about a machine, the scrape target otherwise, and the subject."""

from __future__ import annotations

import pytest

from bridge import where
from bridge.notification import Alert

EXPORTER = {"job": "allim-exporter", "instance": "exporter:8877"}


def alert(**labels: str) -> Alert:
    return Alert(status="firing", labels={"alertname": "Test", "severity": "warning", **labels}, annotations={})


def test_where_node_exporter_alert_keeps_instance_as_host() -> None:
    disk = alert(job="node", instance="web-1:9100", mountpoint="/var", device="/dev/sdb1")
    assert where.host(disk) == "web-1:9100" and where.scrape_target(disk) == ""
    assert where.details(disk) == [("mountpoint", "/var"), ("host", "web-1:9100")]
    assert where.subject(disk) == "web-1:9100 /var"


@pytest.mark.parametrize(
    ("labels", "subject"),
    [
        ({"project": "api"}, "api"),
        ({"monitor_id": "m1", "monitor_name": "Shop", "target": "https://shop.example.com/"}, "Shop"),
        ({"property": "123456789"}, "123456789"),
        ({"monitor_name": "Shop", "location": "singapore"}, "Shop"),
    ],
)
def test_where_project_monitor_or_property_alert_shows_instance_as_scrape_target(
    labels: dict[str, str], subject: str
) -> None:
    about = alert(**EXPORTER, **labels)
    assert where.host(about) == ""
    assert where.scrape_target(about) == "exporter:8877"
    assert ("host", "exporter:8877") not in where.details(about)
    assert where.details(about)[-1] == ("scrape_target", "exporter:8877")
    assert where.subject(about) == subject


def test_where_exporter_and_bridge_alerts_keep_their_instance_as_host() -> None:
    """AllimExporterDown, AllimSourceDown: a process on that machine is the subject; its logs are there."""
    source = alert(**EXPORTER, source="sentry")
    assert where.host(source) == "exporter:8877" and where.subject(source) == "sentry"
    assert where.subject(alert(**EXPORTER)) == "exporter:8877"


def test_where_host_label_wins_and_instance_stays_as_scrape_target() -> None:
    pushed = alert(host="db-1", instance="pushgateway:9091")
    assert where.host(pushed) == "db-1" and where.scrape_target(pushed) == "pushgateway:9091"
    assert where.subject(pushed) == "db-1"


def test_where_url_instance_is_not_a_host() -> None:
    probe = alert(job="blackbox", instance="https://shop.example.com/")
    assert where.host(probe) == "" and where.scrape_target(probe) == "https://shop.example.com/"


def test_where_mountpoint_and_check_location_have_their_own_names() -> None:
    assert dict(where.details(alert(mountpoint="/", location="tokyo"))) == {"mountpoint": "/", "location": "tokyo"}


def test_where_alert_without_labels_names_nothing() -> None:
    assert where.subject(alert()) == "" and where.details(alert()) == []


def test_alert_text_picks_the_language_per_key() -> None:
    annotations = {"summary": "Shop is down", "summary_ko": "Shop 모니터 오프라인", "description": "English only"}
    down = Alert(status="firing", labels={}, annotations={**annotations, "value": "offline", "value_ko": ""})
    assert down.text("summary", "ko") == "Shop 모니터 오프라인"
    assert down.text("description", "ko") == "English only"  # a rule without Korean still reads
    assert down.text("value", "ko") == "offline"  # an empty translation falls back too
    assert down.text("summary", "en") == "Shop is down"
    assert down.text("runbook_url", "ko") == ""
    assert down.texts("ko") == {"description": "English only", "summary": "Shop 모니터 오프라인", "value": "offline"}
