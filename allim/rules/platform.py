"""deploy/prometheus/rules/allim.yml: allim itself (exporter, sources, bridge) and the Watchdog."""

from __future__ import annotations

from allim.rules.config import PlatformObjectives, ko_duration, prom_duration
from allim.rules.model import Group, Rule, RuleFile, Text, alert

STATE = Text("{{ $value | humanize }}", "{{ $value | humanize }}")
# `humanizeDuration` writes Go's units ("16m 0s"); Korean text gets Korean units ("16분 0초"), written after the number
# as everywhere else (GLOSSARY.md). `${1}`, not `$1`: Go would read `$1분` as a group named "1분".
_KO_UNITS = "".join(
    f' | reReplaceAll "([0-9]+){unit}" "${{1}}{word}"'
    for unit, word in (("d", "일"), ("h", "시간"), ("m", "분"), ("s", "초"))
)
AGE = Text("{{ $value | humanizeDuration }}", "{{ $value | humanizeDuration" + _KO_UNITS + " }}")


def _delivery_failing(limits: PlatformObjectives) -> Rule:
    percent = f"{limits.delivery_failed_ratio * 100:g}%"
    return alert(
        "AllimBridgeDeliveryFailing",
        "sum by (job, instance, channel) "
        '(rate(allim_bridge_notification_requests_failed_total{reason!="rate_limited"}[15m]))\n'
        "  / sum by (job, instance, channel) (rate(allim_bridge_notification_requests_total[15m]))\n"
        f"  > {limits.delivery_failed_ratio:g}",
        severity="critical",
        for_s=limits.delivery_failing_for_s,
        summary=Text(
            "allim bridge fails to deliver to {{ $labels.channel }}", "allim 브리지의 {{ $labels.channel }} 전송 실패"
        ),
        description=Text(
            "{{ $value | humanizePercentage }} of the delivery attempts to {{ $labels.channel }} from "
            f"{{{{ $labels.instance }}}} failed over 15 minutes (threshold {percent}, retries included).",
            "최근 15분 동안 {{ $labels.instance }}에서 {{ $labels.channel }} 채널로 보낸 전송 시도의 "
            f"{{{{ $value | humanizePercentage }}}}가 실패했습니다 (기준 {percent}, 재시도 포함).",
        ),
        value=Text("{{ $value | humanizePercentage }}", "{{ $value | humanizePercentage }}"),
        condition=Text(
            "failed share of a channel's delivery attempts (retries included, Discord 429s not counted) > "
            f"{percent} over 15 min",
            f"채널별 전송 시도(재시도 포함, Discord 429 제외) 중 실패 비율 > {percent} (15분 기준)",
        ),
        comment=(
            "Failed share of delivery attempts (retries included) per channel. Attempts, not dead letters: a\n"
            "retryable failure only becomes dead after the bridge's 24 h deadline, so a channel that fails every\n"
            "attempt would otherwise stay silent for a day. With backoff capped at 5 min there are always attempts\n"
            "in a 15 min window, so such a channel reads 100% throughout. Discord 429s are left out: the bridge\n"
            "waits as told and retries. The bridge exports the attempts counter from 0 for every channel at start,\n"
            "so the ratio is always defined."
        ),
    )


def rule_file(limits: PlatformObjectives) -> RuleFile:
    stale = prom_duration(limits.source_stale_after_s)
    rules = [
        alert(
            "AllimExporterDown",
            'up{job="allim-exporter"} == 0',
            severity="critical",
            for_s=limits.exporter_down_for_s,
            summary=Text(
                "allim exporter {{ $labels.instance }} is down",
                "allim 익스포터 {{ $labels.instance }}에 접속할 수 없습니다",
            ),
            description=Text(
                "Prometheus cannot scrape {{ $labels.instance }}; no Sentry, HetrixTools, GA4 or host alert can fire "
                "while it is down.",
                "Prometheus가 {{ $labels.instance }}에서 스크레이프하지 못합니다. 익스포터가 멈춘 동안에는 Sentry, "
                "HetrixTools, GA4, 호스트 알림이 하나도 발생할 수 없습니다.",
            ),
            value=STATE,
            condition=Text('`up{job="allim-exporter"}` == 0', '`up{job="allim-exporter"}` == 0'),
        ),
        alert(
            "AllimSourceDown",
            "allim_source_up == 0",
            severity="high",
            for_s=limits.source_down_for_s,
            summary=Text("allim source {{ $labels.source }} is failing", "allim 소스 {{ $labels.source }} 폴링 실패"),
            description=Text(
                "The last polls of {{ $labels.source }} on {{ $labels.instance }} failed; its alerts are blind until "
                "it recovers.",
                "{{ $labels.instance }}에서 {{ $labels.source }} 소스의 최근 폴링이 실패했습니다. 복구될 때까지 이 "
                "소스의 알림은 동작하지 않습니다.",
            ),
            value=STATE,
            condition=Text("`allim_source_up` == 0", "`allim_source_up` == 0"),
        ),
        alert(
            "AllimSourceStale",
            f"time() - allim_source_last_success_timestamp_seconds > {limits.source_stale_after_s}",
            severity="warning",
            for_s=limits.source_stale_for_s,
            summary=Text(
                "allim source {{ $labels.source }} has no fresh data",
                "allim 소스 {{ $labels.source }}의 데이터가 오래됨",
            ),
            description=Text(
                "The last successful poll of {{ $labels.source }} on {{ $labels.instance }} was "
                f"{AGE.en} ago (threshold {stale}).",
                f"{{{{ $labels.instance }}}}에서 {{{{ $labels.source }}}} 소스의 마지막 폴링 성공은 {AGE.ko} 전입니다 "
                f"(기준 {ko_duration(limits.source_stale_after_s)}).",
            ),
            value=AGE,
            condition=Text(
                f"last successful poll older than {stale}",
                f"마지막 폴링 성공이 {ko_duration(limits.source_stale_after_s)} 전보다 오래됨",
            ),
            comment=f"{stale} is {limits.source_stale_after_s // 60} x the 60 s default interval of the API sources.",
        ),
        _delivery_failing(limits),
        alert(
            "Watchdog",
            "vector(1)",
            severity="info",
            for_s=None,
            summary=Text("Alerting pipeline heartbeat", "알림 파이프라인 하트비트"),
            description=Text(
                "Always firing: proves Prometheus, Alertmanager and the bridge are connected. Worry when it stops "
                "arriving.",
                "항상 발생 중인 알림입니다. Prometheus, Alertmanager, 브리지가 연결되어 있다는 증거이므로, 이 알림 "
                "메시지가 오지 않을 때 확인하세요.",
            ),
            value=STATE,
            condition=Text("always firing", "항상 발생 중"),
        ),
    ]
    return RuleFile("allim", [Group("allim", rules)])
