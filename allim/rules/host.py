"""deploy/prometheus/rules/host.yml: the host the exporter runs on (CPU, memory, disks, network)."""

from __future__ import annotations

from allim.rules.config import DiskFilling, HostObjectives, Sustained, ko_duration, prom_duration
from allim.rules.model import Group, Rule, RuleFile, Text, alert, record

AVAIL_5M = "mountpoint:host_filesystem_avail_bytes:avg_5m"
PERCENT = Text("{{ $value | humanizePercentage }}", "{{ $value | humanizePercentage }}")


def _sustained(name: str, metric: str, what: tuple[str, str], limits: Sustained, severity: str) -> Rule:
    percent = f"{limits.threshold * 100:g}%"
    window, hold = prom_duration(limits.window_s), prom_duration(limits.for_s)
    en, ko = what
    return alert(
        name,
        f"avg_over_time({metric}[{window}]) > {limits.threshold:g}",
        severity=severity,
        for_s=limits.for_s,
        summary=Text(
            f"{en[0].upper()}{en[1:]} usage above {percent} on {{{{ $labels.instance }}}}",
            f"{{{{ $labels.instance }}}}의 {ko} 사용률 {percent} 초과",
        ),
        description=Text(
            f"{{{{ $labels.instance }}}} has been using {{{{ $value | humanizePercentage }}}} of its {en} on average "
            f"over {window}, above {percent} for {hold}.",
            f"{{{{ $labels.instance }}}}의 {ko} 사용률이 {ko_duration(limits.window_s)} 평균 "
            f"{{{{ $value | humanizePercentage }}}}로, {ko_duration(limits.for_s)} 동안 {percent}를 넘었습니다.",
        ),
        value=PERCENT,
        condition=Text(
            f"{window} average of `{metric}` > {limits.threshold:g}",
            f"`{metric}`의 {ko_duration(limits.window_s)} 평균 > {limits.threshold:g}",
        ),
        comment=(
            f"Only after a sustained period: the {window} average stays above {percent} for {hold}, so a burst (a\n"
            "deploy, a backup, a cron job) does not alert, and neither does a busy hour with short dips."
        ),
    )


def _filling(limits: HostObjectives, level: DiskFilling, severity: str) -> Rule:
    horizon, lookback = prom_duration(level.horizon_s), prom_duration(limits.filling_lookback_s)
    free = f"{level.free_below * 100:g}%"
    return alert(
        "HostDiskFillingUp",
        f"host_filesystem_avail_bytes / host_filesystem_size_bytes < {level.free_below:g}\n"
        f"  and predict_linear({AVAIL_5M}[{lookback}], {level.horizon_s}) < 0",
        severity=severity,
        for_s=limits.filling_for_s,
        summary=Text(
            f"Filesystem {{{{ $labels.mountpoint }}}} on {{{{ $labels.instance }}}} fills up within {horizon}",
            f"{{{{ $labels.instance }}}}의 파일 시스템 {{{{ $labels.mountpoint }}}}의 공간이 "
            f"{ko_duration(level.horizon_s)} 안에 바닥날 예정",
        ),
        description=Text(
            f"At the rate of the last {lookback}, {{{{ $labels.mountpoint }}}} ({{{{ $labels.device }}}}) on "
            f"{{{{ $labels.instance }}}} runs out of space within {horizon}; {{{{ $value | humanizePercentage }}}} "
            f"is free now (alerts below {free}).",
            f"최근 {ko_duration(limits.filling_lookback_s)}의 증가 속도라면 {{{{ $labels.instance }}}}의 "
            f"{{{{ $labels.mountpoint }}}}({{{{ $labels.device }}}}) 공간이 {ko_duration(level.horizon_s)} 안에 "
            f"바닥납니다. 현재 여유 공간은 {{{{ $value | humanizePercentage }}}}입니다 (기준 {free} 미만).",
        ),
        value=PERCENT,
        condition=Text(
            f"free space runs out within {horizon} at the pace of the last {lookback}, with less than {free} free now",
            f"최근 {ko_duration(limits.filling_lookback_s)}의 속도라면 {ko_duration(level.horizon_s)} 안에 여유 공간이 "
            f"바닥나고, 지금 여유 공간이 {free} 미만",
        ),
        comment="node-mixin's NodeFilesystemSpaceFillingUp: a linear trend of free space (over 5-minute averages) and\n"
        "a current level, for an hour.",
    )


def rule_file(limits: HostObjectives) -> RuleFile:
    disk_percent = f"{limits.disk_threshold * 100:g}%"
    network = f"{limits.network_errors:g}"
    rules = [
        _sustained("HostCpuUsageHigh", "host_cpu_usage_ratio", ("CPU", "CPU"), limits.cpu, "warning"),
        _sustained("HostMemoryUsageHigh", "host_memory_usage_ratio", ("memory", "메모리"), limits.memory, "high"),
        alert(
            "HostDiskAlmostFull",
            f"host_filesystem_usage_ratio > {limits.disk_threshold:g}",
            severity="high",
            for_s=limits.disk_for_s,
            summary=Text(
                f"Filesystem {{{{ $labels.mountpoint }}}} above {disk_percent} on {{{{ $labels.instance }}}}",
                f"{{{{ $labels.instance }}}}의 파일 시스템 {{{{ $labels.mountpoint }}}} 사용률 {disk_percent} 초과",
            ),
            description=Text(
                "{{ $labels.mountpoint }} ({{ $labels.device }}, {{ $labels.fstype }}) on {{ $labels.instance }} is "
                "{{ $value | humanizePercentage }} full.",
                "{{ $labels.instance }}의 {{ $labels.mountpoint }}({{ $labels.device }}, {{ $labels.fstype }}) "
                "사용률이 {{ $value | humanizePercentage }}입니다.",
            ),
            value=PERCENT,
            condition=Text(
                f"`host_filesystem_usage_ratio` > {limits.disk_threshold:g}",
                f"`host_filesystem_usage_ratio` > {limits.disk_threshold:g}",
            ),
        ),
        record(
            AVAIL_5M,
            "avg_over_time(host_filesystem_avail_bytes[5m])",
            comment="Free bytes averaged over 5 minutes: the trend HostDiskFillingUp extrapolates, 72 points over 6 h\n"
            "instead of 1,440 raw samples at a 15 s scrape.",
        ),
        _filling(limits, limits.filling_warning, "warning"),
        _filling(limits, limits.filling_critical, "critical"),
        alert(
            "HostNetworkErrors",
            "increase(host_network_receive_errors_total[5m]) + increase(host_network_transmit_errors_total[5m]) "
            f"> {network}",
            severity="warning",
            for_s=limits.network_errors_for_s,
            summary=Text(
                "Network errors on {{ $labels.interface }} of {{ $labels.instance }}",
                "{{ $labels.instance }}의 {{ $labels.interface }} 네트워크 오류",
            ),
            description=Text(
                "{{ $labels.interface }} on {{ $labels.instance }} had {{ $value | humanize }} receive and transmit "
                f"errors in 5 minutes (threshold {network}).",
                "{{ $labels.instance }}의 {{ $labels.interface }} 인터페이스에서 5분 동안 수신·송신 오류가 "
                f"{{{{ $value | humanize }}}}건 발생했습니다 (기준 {network}건).",
            ),
            value=Text("{{ $value | humanize }}", "{{ $value | humanize }}건"),
            condition=Text(
                f"receive + transmit errors > {network} in 5 min (per interface)",
                f"5분 동안 수신 + 송신 오류 > {network}건 (인터페이스별)",
            ),
        ),
    ]
    return RuleFile("host", [Group("host", rules)])
