from datetime import UTC, datetime

import pytest

from bridge.legacy import notification_from_legacy
from bridge.notification import Notification, PayloadError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_legacy_maps_the_old_body_to_a_notification():
    body = {
        "rule_name": "HighErrorRate",
        "severity": "CRITICAL",
        "metric_data": {
            "metric_value": 42.5,
            "additional_info": "errors in the last 5 minutes",
            "sentry_data": {"project": "web", "issue_url": "https://sentry.example/issues/1", "count": 42},
        },
    }
    n = notification_from_legacy(body, "default", NOW)
    alert = n.alerts[0]
    assert (n.receiver, n.status, alert.status, alert.starts_at) == ("default", "firing", "firing", NOW)
    assert alert.labels == {
        "alertname": "HighErrorRate",
        "severity": "critical",
        "source": "sentry",
        "project": "web",
        "issue_url": "https://sentry.example/issues/1",
        "count": "42",
    }
    assert alert.annotations == {"value": "42.5", "summary": "errors in the last 5 minutes"}
    assert alert.severity == "critical" and alert.fingerprint and n.group_key.startswith("legacy:")
    assert Notification.from_json(n.to_json()) == n


def test_legacy_puts_long_nested_or_reserved_details_where_they_fit():
    body = {
        "rule_name": "Down",
        "metric_data": {
            "metric_value": 0,
            "hetrix_data": {"monitor": "api", "locations": {"fra": "down"}, "error": "x" * 300, "severity": "low"},
            "ga_data": {"host": "www"},
            "note": "extra",
        },
    }
    alert = notification_from_legacy(body, "default", NOW).alerts[0]
    assert alert.labels["severity"] == "warning" and alert.labels["hetrix_severity"] == "low"
    assert alert.labels["source"] == "hetrix" and alert.labels["monitor"] == "api" and alert.labels["host"] == "www"
    assert alert.annotations["locations"] == '{"fra": "down"}' and len(alert.annotations["error"]) == 300
    assert alert.annotations["note"] == "extra" and alert.annotations["summary"] == "Down: 0"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([], "JSON object"),
        ({}, "rule_name"),
        ({"rule_name": " "}, "rule_name"),
        ({"rule_name": "X", "metric_data": []}, "metric_data"),
        ({"rule_name": "X", "status": "gone"}, "status"),
    ],
)
def test_legacy_rejects_unusable_bodies(body, reason):
    with pytest.raises(PayloadError, match=reason):
        notification_from_legacy(body, "default")
