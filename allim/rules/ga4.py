"""deploy/prometheus/rules/ga4.yml: traffic against its seasonal band, traffic gone to zero, error pages rising.

`ga4_active_users` is GA4's realtime count of the last 30 minutes, polled every 60 s. Spikes and drops are context
(warning): a campaign, a holiday, a bot. Traffic at zero is broken tracking or a broken site (`high`); a site that is
down pages through HetrixTools.
"""

from __future__ import annotations

from allim.rules.config import Baseline, Ga4Objectives, ko_duration, prom_duration
from allim.rules.model import Group, Rule, RuleFile, Text, alert
from allim.rules.seasonal import Seasonal, band_text, baseline_group, history_text

USERS = "ga4_active_users"
SEASONAL = Seasonal(USERS, "property")
RATIO = Text("{{ $value | humanize }}x", "{{ $value | humanize }}배")


def spike_alert(objectives: Ga4Objectives, baseline: Baseline) -> Rule:
    spike = objectives.spike
    floor = f"{spike.floor:g}"
    return alert(
        "Ga4TrafficSpike",
        f"{USERS} / clamp_min({SEASONAL.latest(SEASONAL.baseline)}, 1)\n"
        f"  and {USERS} > {SEASONAL.latest(SEASONAL.upper)}\n"
        f"  and {USERS} >= {floor}",
        severity="warning",
        for_s=spike.for_s,
        summary=Text(
            "Traffic spike on GA4 property {{ $labels.property }}", "GA4 속성 {{ $labels.property }}의 트래픽 급증"
        ),
        description=Text(
            "Active users on property {{ $labels.property }} are {{ $value | humanize }}x their usual level for this "
            f"hour of the week (the median of the same hour over the last {baseline.weeks} weeks), above its band, "
            f"with at least {floor} users.",
            "GA4 속성 {{ $labels.property }}의 활성 사용자가 이 요일·시각의 평소 수준(지난 "
            f"{baseline.weeks}주 같은 시각의 중앙값)의 {{{{ $value | humanize }}}}배로, 허용 범위를 넘었습니다 "
            f"(최소 {floor}명).",
        ),
        value=RATIO,
        condition=Text(
            f"active users above the seasonal band ({band_text(spike.band, baseline, ko=False)}), and ≥ {floor} now",
            f"활성 사용자가 계절 허용 범위({band_text(spike.band, baseline, ko=True)})를 넘고 지금 {floor}명 이상",
        ),
        history=history_text(baseline),
        comment=(
            f"Context: active users above the property's seasonal band for {prom_duration(spike.for_s)}, "
            f"with at least {floor} users now.\nA Monday-morning surge is in the baseline; "
            f"no history (a new property, a fresh Prometheus) means no alert."
        ),
    )


def drop_alert(objectives: Ga4Objectives, baseline: Baseline) -> Rule:
    drop = objectives.drop
    floor = f"{drop.floor:g}"
    below = f"{drop.band.min_ratio * 100:g}%"
    return alert(
        "Ga4TrafficDrop",
        f"{USERS} / clamp_min({SEASONAL.latest(SEASONAL.baseline)}, 1)\n"
        f"  and {USERS} < {SEASONAL.latest(SEASONAL.lower)}\n"
        f"  and {SEASONAL.latest(SEASONAL.baseline)} >= {floor}",
        severity="warning",
        for_s=drop.for_s,
        summary=Text(
            "Traffic drop on GA4 property {{ $labels.property }}", "GA4 속성 {{ $labels.property }}의 트래픽 급감"
        ),
        description=Text(
            "Active users on property {{ $labels.property }} are {{ $value | humanizePercentage }} of their usual "
            f"level for this hour of the week, and more than {below} below the quietest usual day at this hour (the "
            f"second-lowest of the last 7 days), where the usual is at least {floor} users.",
            "GA4 속성 {{ $labels.property }}의 활성 사용자가 이 요일·시각의 평소 수준의 "
            "{{ $value | humanizePercentage }}"
            f"로, 최근 7일 중 이 시각에 가장 한산했던 날(두 번째로 낮은 날)보다도 {below} 넘게 적습니다 (평소 "
            f"사용자가 {floor}명 이상일 때).",
        ),
        value=Text("{{ $value | humanizePercentage }}", "{{ $value | humanizePercentage }}"),
        condition=Text(
            f"active users below {band_text(drop.band, baseline, ko=False, lower=True)}, where the usual is ≥ {floor}",
            f"활성 사용자가 {band_text(drop.band, baseline, ko=True, lower=True)}보다 적음 (평소 {floor}명 이상일 때)",
        ),
        history=history_text(baseline, days=True),
        comment=(
            f"Context: active users under the property's lower band for {prom_duration(drop.for_s)}, where the "
            f"usual (the weekly\nbaseline) is at least {floor}. The lower band hangs under the quietest usual day at "
            "this hour, not under the\nweekly median: a weekend, and a holiday that looks like one, is no incident. "
            "It needs 3 weeks (the baseline)\nand 7 days (the quietest day) of history: no history, no alert."
        ),
    )


def zero_alert(objectives: Ga4Objectives) -> Rule:
    floor = f"{objectives.zero_floor:g}"
    yesterday = f'{SEASONAL.days_ago}{{days_ago="1"}}'
    return alert(
        "Ga4TrafficZero",
        f"{USERS} == 0\n"
        f"  and on (job, instance, property) (\n"
        f"    {SEASONAL.latest(SEASONAL.baseline)} >= {floor}\n"
        f"    or max without (days_ago) ({SEASONAL.latest(yesterday)}) >= {floor}\n"
        f"    or max_over_time({USERS}[1h]) >= {floor}\n"
        f"  )",
        severity="high",
        for_s=objectives.zero_for_s,
        summary=Text(
            "No traffic at all on GA4 property {{ $labels.property }}",
            "GA4 속성 {{ $labels.property }}의 트래픽 없음",
        ),
        description=Text(
            "Property {{ $labels.property }} has had no active user for "
            f"{prom_duration(objectives.zero_for_s)} where it usually has at least {floor} at this hour (or had "
            "that many yesterday, or within the last hour): tracking or the site is broken.",
            f"GA4 속성 {{{{ $labels.property }}}}에 {ko_duration(objectives.zero_for_s)} 동안 활성 사용자가 "
            f"없습니다. 평소 이 시각에 {floor}명 이상이거나 (어제 이 시각, 또는 최근 1시간 안에 그만큼 있었으므로) "
            "추적 코드나 사이트가 고장 났을 수 있습니다.",
        ),
        value=Text("{{ $value | humanize }}", "{{ $value | humanize }}명"),
        condition=Text(
            f"no active user where there usually are ≥ {floor} at this hour, or were yesterday or within the last hour",
            f"평소 이 시각(또는 어제 이 시각, 최근 1시간)에 {floor}명 이상이던 속성에 활성 사용자가 0명",
        ),
        comment=(
            "Broken tracking or a broken site: not one active user where there usually are at least the floor at\n"
            "this hour (the seasonal baseline), or were yesterday, or, without any history, within the last hour\n"
            "(realtime users of the last 30 minutes fade over hours, not to zero within one). Without any history\n"
            "it clears an hour after the fall. A site that is down pages through HetrixTools."
        ),
    )


def error_pages_alert(objectives: Ga4Objectives) -> Rule:
    ratio = f"{objectives.error_page_ratio:g}"
    floor = f"{objectives.error_page_floor:g}"
    return alert(
        "Ga4ErrorPageViewsRising",
        "ga4_error_page_views / clamp_min(avg_over_time(ga4_error_page_views[6h] offset 30m), 1) "
        f"> {ratio} and ga4_error_page_views >= {floor}",
        severity="warning",
        for_s=objectives.error_page_for_s,
        summary=Text(
            "Error-page views rising on GA4 property {{ $labels.property }}",
            "GA4 속성 {{ $labels.property }}의 오류 페이지 조회 증가",
        ),
        description=Text(
            "Error-page views on property {{ $labels.property }} are {{ $value | humanize }}x their 6-hour average "
            f"(threshold {ratio}x, at least {floor} views).",
            "GA4 속성 {{ $labels.property }}의 오류 페이지 조회 수가 직전 6시간 평균의 {{ $value | humanize }}배"
            f"입니다 (기준 {ratio}배, 최소 {floor}회).",
        ),
        value=RATIO,
        condition=Text(
            f"error-page views > {ratio} × their 6 h average, and ≥ {floor} now",
            f"오류 페이지 조회 수 > 직전 6시간 평균의 {ratio}배, 지금 {floor}회 이상",
        ),
        comment="Error-page views (last 30 min) against their average over the 6 hours before that window.",
    )


def rule_file(objectives: Ga4Objectives, baseline: Baseline) -> RuleFile:
    alerts = Group(
        "ga4",
        [
            spike_alert(objectives, baseline),
            drop_alert(objectives, baseline),
            zero_alert(objectives),
            error_pages_alert(objectives),
        ],
    )
    seasonal = baseline_group(
        "ga4-baseline", SEASONAL, baseline, upper=objectives.spike.band, lower=objectives.drop.band
    )
    return RuleFile("ga4", [seasonal, alerts])  # the baseline first, as in hetrixtools.py
