"""deploy/prometheus/rules/sentry.yml: errors against a fixed ceiling and against the project's own normal.

`sentry_project_errors` is the exporter's count of accepted errors for the last hour, polled every 60 s, with no
denominator: no error-ratio SLO can be built on it (that would need accepted transactions per project from the
exporter), so Sentry has no burn-rate page. The ceiling (SentryErrorRateHigh) is "this is bad whatever the history",
per project if need be; SentryErrorSpike is context: errors well above what this project usually has at this hour
of the week.

The count is not a smooth trailing hour: Sentry rounds the start of `statsPeriod=1h` down to the whole hour, so at
12:27 it covers 11:00-12:27, a sawtooth between one and two hours of errors that drops at every full hour. Comparing
the count now with an hour's average a week ago would call every hour's last minutes a spike. The baseline therefore
keeps the phase: the count at the same minute of the hour, a week (or a day) ago, averaged over three hours; the
alert compares the count now with it, so a storm shows within minutes. That also holds if the count is ever made a
true trailing hour. The ceiling is a rate: the count divided by the span it covers (`time() % 3600` past the
previous hour's start), so the same number of errors an hour trips it at any minute.
"""

from __future__ import annotations

from allim.rules.config import Baseline, Ceiling, SentryObjectives, prom_duration
from allim.rules.model import Group, Rule, RuleFile, Text, alert
from allim.rules.seasonal import Seasonal, band_text, baseline_group, history_text

ERRORS = "sentry_project_errors"
# Errors per hour: the count over the span it covers, from the start of the previous hour to now (1-2 hours).
PER_HOUR = f"{ERRORS} * 3600 / (3600 + time() % 3600)"
SEASONAL = Seasonal(ERRORS, "project", same_minute=True)
COUNT = Text("{{ $value | humanize }}", "{{ $value | humanize }}건")
PER_HOUR_VALUE = Text("{{ $value | humanize }}/h", "시간당 {{ $value | humanize }}건")


def _ceiling_rules(objectives: SentryObjectives) -> list[Rule]:
    """One rule per severity for the default ceiling and per project with its own."""
    others = ", ".join(f'project!="{name}"' for name in sorted(objectives.projects))
    scopes: list[tuple[str, Ceiling, str]] = [(f"{{{others}}}" if others else "", objectives.ceiling, "")]
    scopes += [
        (f'{{project="{name}"}}', ceiling, f"{name}'s own ceiling.")
        for name, ceiling in sorted(objectives.projects.items())
    ]
    rules = []
    for matchers, ceiling, comment in scopes:
        selector = ERRORS + matchers
        for severity, limit, word_en, word_ko, severity_ko in (
            ("high", ceiling.high, "many", "많음", "높음"),
            ("critical", ceiling.critical, "very many", "매우 많음", "긴급"),
        ):
            rules.append(
                alert(
                    "SentryErrorRateHigh",
                    f"{PER_HOUR.replace(ERRORS, selector, 1)} > {limit:g}",
                    severity=severity,
                    for_s=objectives.ceiling_for_s,
                    summary=Text(
                        f"Sentry project {{{{ $labels.project }}}} has {word_en} errors",
                        f"Sentry 프로젝트 {{{{ $labels.project }}}}의 오류 {word_ko}",
                    ),
                    description=Text(
                        "{{ $labels.project }} is logging {{ $value | humanize }} errors an hour "
                        f"({severity} above {limit:g}).",
                        "{{ $labels.project }}에서 시간당 오류가 {{ $value | humanize }}건 기록되고 있습니다 "
                        f"({severity_ko} 기준 {limit:g}건 초과).",
                    ),
                    value=PER_HOUR_VALUE,
                    comment=comment
                    or "The count covers the previous hour and this one so far: divided by that span, it is errors "
                    "an hour.",
                    condition=Text(
                        f"`sentry_project_errors` per hour (the count over the 1-2 hours it covers) > {limit:g}"
                        + (" (per project in `objectives.yml`)" if not comment else f" for {selector}"),
                        f"시간당 `sentry_project_errors`(1~2시간에 걸친 오류 수를 그 시간으로 나눈 값) > {limit:g}"
                        + (" (프로젝트별 값은 `objectives.yml`)" if not comment else f" ({selector})"),
                    ),
                )
            )
    return rules


def spike_alert(objectives: SentryObjectives, baseline: Baseline) -> Rule:
    spike = objectives.spike
    floor = f"{spike.floor:g}"
    fallback = objectives.spike_fallback_days
    return alert(
        "SentryErrorSpike",
        f"{ERRORS} / clamp_min({SEASONAL.latest(SEASONAL.baseline)}, 1)\n"
        f"  and {ERRORS} > {SEASONAL.latest(SEASONAL.upper)}\n"
        f"  and {ERRORS} - {SEASONAL.latest(SEASONAL.baseline)} >= {floor}",
        severity="warning",
        for_s=spike.for_s,
        summary=Text(
            "Sentry errors spiking in project {{ $labels.project }}",
            "Sentry 프로젝트 {{ $labels.project }}의 오류 급증",
        ),
        description=Text(
            "Errors of {{ $labels.project }} are {{ $value | humanize }}x their usual count at this moment of the "
            f"week (the median of the same moment over the last {baseline.weeks} weeks, or the busiest of the last "
            f"days for a new project), above its band, and at least {floor} errors above it.",
            "{{ $labels.project }}의 오류 수가 이 요일·시각의 평소 수준(지난 "
            f"{baseline.weeks}주 같은 시각의 중앙값, 새 프로젝트는 최근 며칠 중 가장 많은 값)의 "
            f"{{{{ $value | humanize }}}}배로, 허용 범위를 넘었고 평소보다 {floor}건 이상 많습니다.",
        ),
        value=Text("{{ $value | humanize }}x", "{{ $value | humanize }}배"),
        condition=Text(
            f"`sentry_project_errors` above the project's seasonal band ({band_text(spike.band, baseline, ko=False)}; "
            f"at the same minute of the hour; a new project's busiest of the last 7 days once {fallback} have data), "
            f"and ≥ {floor} above the baseline",
            f"`sentry_project_errors`가 프로젝트의 계절 허용 범위({band_text(spike.band, baseline, ko=True)}, "
            f"매시 같은 분 기준. 새 프로젝트는 {fallback}일 이상 쌓인 최근 7일 중 가장 많은 값)를 넘고 "
            f"기준선보다 {floor}건 이상 많음",
        ),
        history=Text(
            f"{fallback} days (weekly: {baseline.min_weeks} weeks and 2 hours)",
            f"{fallback}일 (주간 기준선: {baseline.min_weeks}주와 2시간)",
        )
        if fallback
        else history_text(baseline),
        comment=(
            f"Context, never a page: errors above the project's seasonal band for {prom_duration(spike.for_s)}, with "
            f"at least {floor}\nerrors above the baseline, so a small project's cluster or two stays quiet. The "
            "value is the ratio to the baseline (a\nbaseline of 0 counts as 1). No history, no alert: the band exists "
            f"once the project has {fallback} days of data\n(the weekly baseline after {baseline.min_weeks} weeks); "
            "SentryErrorRateHigh covers it meanwhile."
        ),
    )


def other_alerts(objectives: SentryObjectives) -> list[Rule]:
    slow = f"{objectives.slow_transactions:g}"
    return [
        alert(
            "SentryNewIssue",
            "sentry_project_new_issues > 0",
            severity="warning",
            for_s=objectives.new_issue_for_s,
            summary=Text(
                "New Sentry issue in {{ $labels.project }}", "Sentry 프로젝트 {{ $labels.project }}에 새 이슈"
            ),
            description=Text(
                "{{ $labels.project }} has {{ $value | humanize }} issue(s) first seen in the last hour.",
                "{{ $labels.project }}에서 최근 1시간 동안 처음 발생한 이슈가 {{ $value | humanize }}건 있습니다.",
            ),
            value=COUNT,
            condition=Text("`sentry_project_new_issues` > 0", "`sentry_project_new_issues` > 0"),
        ),
        alert(
            "SentrySlowTransactions",
            f"sentry_project_slow_transactions > {slow}",
            severity="warning",
            for_s=objectives.slow_transactions_for_s,
            summary=Text(
                "Slow transactions in Sentry project {{ $labels.project }}",
                "Sentry 프로젝트 {{ $labels.project }}의 느린 트랜잭션",
            ),
            description=Text(
                "{{ $labels.project }} had {{ $value | humanize }} transactions slower than 2s in the last hour "
                f"(threshold {slow}).",
                "{{ $labels.project }}에서 최근 1시간 동안 2초보다 느린 트랜잭션이 {{ $value | humanize }}건 "
                f"있었습니다 (기준 {slow}건).",
            ),
            value=COUNT,
            condition=Text(
                f"`sentry_project_slow_transactions` (> 2 s, last hour) > {slow}",
                f"`sentry_project_slow_transactions`(최근 1시간, 2초 초과) > {slow}",
            ),
        ),
    ]


def rule_file(objectives: SentryObjectives, baseline: Baseline) -> RuleFile:
    alerts = Group(
        "sentry", [*_ceiling_rules(objectives), spike_alert(objectives, baseline), *other_alerts(objectives)]
    )
    seasonal = baseline_group(
        "sentry-baseline",
        SEASONAL,
        baseline,
        upper=objectives.spike.band,
        lower=None,
        fallback_days=objectives.spike_fallback_days,
    )
    return RuleFile("sentry", [seasonal, alerts])  # the baseline first, as in hetrixtools.py
