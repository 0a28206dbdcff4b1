"""deploy/prometheus/rules/hetrixtools.yml: the monitor is down now, its availability SLO burns, it answers slowly.

Who pages for what (one incident, one page):
- HetrixToolsMonitorDown pages an outage: the monitor reads down for `down_for`.
- HetrixToolsErrorBudgetBurn (critical) pages the burn an outage alert cannot see: a monitor that keeps going down
  and coming back (down a minute in ten never satisfies `down_for`). It stays quiet while, and for its short window
  after, the monitor reads down for `down_for`: that outage is HetrixToolsMonitorDown's page, and the burn-rate
  alert's short window would otherwise keep it firing after the monitor is back (a second page for the same outage).
- HetrixToolsErrorBudgetBurn (warning) is the ticket: the budget is going faster than it lasts, whatever the shape.
  Alertmanager holds it back while HetrixToolsMonitorDown or the page fires for the monitor, so after an outage it
  arrives once, with the budget that is left.
"""

from __future__ import annotations

from allim.rules.config import HetrixToolsObjectives, ko_duration, prom_duration
from allim.rules.model import Group, Rule, RuleFile, Text, alert, record
from allim.rules.slo import (
    FAST_WINDOWS,
    HOUR,
    PAGE_TIERS,
    SLOT_1H_WINDOWS,
    SLOT_5M_WINDOWS,
    TICKET_TIERS,
    Tier,
    freshness,
    number,
)

UP = "hetrixtools_monitor_up"
BUDGET = "monitor:hetrixtools_monitor_error_budget:ratio"
REMAINING = "monitor:hetrixtools_monitor_error_budget_remaining:ratio"
SLOT_5M = "monitor:hetrixtools_monitor_down:slot_5m"
SLOT_1H = "monitor:hetrixtools_monitor_down:slot_1h"


def down_ratio(window_s: int) -> str:
    """The recorded share of samples a monitor read down over `window_s`."""
    return f"monitor:hetrixtools_monitor_down:ratio_{prom_duration(window_s)}"


def down_spell(objectives: HetrixToolsObjectives) -> str:
    """1 unless the monitor read down throughout the last `down_for` and half a poll: HetrixToolsMonitorDown's
    condition, one sample per evaluation. Half a 60 s poll more than `down_for`, so that one down poll (60 s of zeros
    at a 15 s scrape) never counts as a spell, where two consecutive ones do, as they do for the alert."""
    return f"monitor:hetrixtools_monitor_up:max_{prom_duration(objectives.down_for_s + 30)}"


def latest(window_s: int) -> str:
    lookback = freshness(window_s)
    name = down_ratio(window_s)
    return f"last_over_time({name}[{lookback}])" if lookback else name


def _budget_rules(objectives: HetrixToolsObjectives) -> list[Rule]:
    """1 - objective per monitor: the default for every monitor but the ones with their own objective."""
    rules = []
    excluded = ", ".join(f'monitor_name!="{name}"' for name in sorted(objectives.monitors))
    default = f"{UP}{{{excluded}}}" if excluded else UP
    rules.append(
        record(
            BUDGET,
            f"0 * {default} + {number(1 - objectives.objective / 100)}",
            comment=f"The error budget: 1 - the objective ({objectives.objective:g}%), per monitor.",
        )
    )
    for name, objective in sorted(objectives.monitors.items()):
        rules.append(
            record(
                BUDGET,
                f'0 * {UP}{{monitor_name="{name}"}} + {number(1 - objective / 100)}',
                comment=f"{name}'s own objective ({objective:g}%).",
            )
        )
    return rules


def fast_group(objectives: HetrixToolsObjectives) -> Group:
    rules = _budget_rules(objectives)
    rules.append(
        record(
            down_ratio(FAST_WINDOWS[0]),
            f"1 - avg_over_time({UP}[{prom_duration(FAST_WINDOWS[0])}])",
            comment="Pyrra's bool_gauge indicator: the error ratio over w is 1 - avg_over_time(up[w]). The windows a\n"
            "page needs fresh at every evaluation come from raw samples.",
        )
    )
    rules += [record(down_ratio(w), f"1 - avg_over_time({UP}[{prom_duration(w)}])") for w in FAST_WINDOWS[1:]]
    window = prom_duration(objectives.down_for_s + 30)
    rules.append(record(down_spell(objectives), f"max_over_time({UP}[{window}])"))
    rules += [down_alert(objectives), page_alert(objectives), ticket_alert(objectives), slow_alert(objectives)]
    return Group("hetrixtools", rules)


# A slot's window is a second short of the group's interval: Prometheus 2 ranges include both ends, so with
# samples on the minute a 5m window holds 6 of them and consecutive slots would share (and count twice) the sample
# on their boundary. 4m59s holds 5, and slots tile (Prometheus 3's left-open ranges give the same).
SLOT_5M_WINDOW = "4m59s"
SLOT_1H_WINDOW = "59m59s"


def slot_5m_group() -> Group:
    rules = [record(SLOT_5M, f"1 - avg_over_time({UP}[{SLOT_5M_WINDOW}])")]
    rules += [record(down_ratio(w), f"avg_over_time({SLOT_5M}[{prom_duration(w)}])") for w in SLOT_5M_WINDOWS]
    return Group(
        "hetrixtools-slo-5m",
        rules,
        interval_s=300,
        comment="Windows up to a day, from 5-minute slots: 288 values a day instead of 5,760 raw samples at a 15 s\n"
        "scrape. A window with less history than its length averages what there is; the alerts wait for a full one.\n"
        "A slot's window is a second short of 5 minutes, so that slots on one-minute samples do not share one.",
    )


def slot_1h_group(objectives: HetrixToolsObjectives) -> Group:
    period = prom_duration(objectives.period_s)
    rules = [record(SLOT_1H, f"avg_over_time({SLOT_5M}[{SLOT_1H_WINDOW}])")]
    rules += [record(down_ratio(w), f"avg_over_time({SLOT_1H}[{prom_duration(w)}])") for w in SLOT_1H_WINDOWS]
    rules.append(record(down_ratio(objectives.period_s), f"avg_over_time({SLOT_1H}[{period}])"))
    rules.append(
        record(
            REMAINING,
            f"1 - {down_ratio(objectives.period_s)} / last_over_time({BUDGET}[10m])",
            comment=f"The share of the {period} error budget left (negative once spent), over the history there is:\n"
            f"until Prometheus holds {period} it is the burn so far, as if the whole period went that way.",
        )
    )
    return Group(
        "hetrixtools-slo-1h",
        rules,
        interval_s=HOUR,
        comment=f"Windows of days, from hourly slots: {objectives.period_s // HOUR} values for the {period} budget.",
    )


def _full_history(tier: Tier) -> str:
    """Samples at the start of the long window: until there are, a short history would overstate the burn (4 down
    minutes in the first 2 hours are 3% of 2 hours, not of 6), so the tier waits."""
    return f"present_over_time({UP}[10m] offset {prom_duration(tier.long_s - 600)})"


def _tier(tier: Tier, objectives: HetrixToolsObjectives, *, page: bool) -> str:
    factor = number(tier.factor(objectives.period_s))
    lines = [
        f"{latest(tier.long_s)} / {BUDGET} > {factor}",
        f"and {latest(tier.short_s)} / {BUDGET} > {factor}",
    ]
    # More than min_downtime of downtime: in the page's long window (one isolated down poll does not page), in the
    # ticket's short one (one down poll after an outage does not reopen the ticket its 3-day window still holds).
    guarded = tier.long_s if page else tier.short_s
    lines.append(f"and {latest(guarded)} > {number(objectives.min_downtime_s / guarded)}")
    lines.append(f"and {_full_history(tier)}")
    if page:
        lines.append(f"unless min_over_time({down_spell(objectives)}[{prom_duration(tier.short_s)}]) == 0")
    return "(\n" + "\n".join(f"  {line}" for line in lines) + "\n)"


def _remaining() -> Text:
    query = (
        f'{{{{ with printf "last_over_time({REMAINING}{{job=%q,instance=%q,monitor_id=%q}}[2h])" '
        "$labels.job $labels.instance $labels.monitor_id | query }}{{ . | first | value | humanizePercentage }}"
    )
    return Text(
        f"{query}{{{{ else }}}}not known yet{{{{ end }}}}", f"{query}{{{{ else }}}}아직 알 수 없음{{{{ end }}}}"
    )


def _tiers_text(tiers: tuple[Tier, ...], period_s: int, ko: bool) -> str:
    if ko:
        parts = [
            f"{ko_duration(t.long_s)}·{ko_duration(t.short_s)} 창에서 {number(t.factor(period_s))}배" for t in tiers
        ]
        return ", ".join(parts)
    return ", ".join(f"{number(t.factor(period_s))}x over {t.windows}" for t in tiers)


def _history(tiers: tuple[Tier, ...]) -> Text:
    """Each tier waits for a full long window of history."""
    first, *others = tiers
    return Text(
        prom_duration(first.long_s) + "".join(f" ({t.windows} tier: {prom_duration(t.long_s)})" for t in others),
        ko_duration(first.long_s)
        + "".join(
            f" ({ko_duration(t.long_s)}·{ko_duration(t.short_s)} 단계는 {ko_duration(t.long_s)})" for t in others
        ),
    )


def _period_en(period_s: int) -> str:
    return f"{period_s // 86400}-day" if period_s % 86400 == 0 else prom_duration(period_s)


BURN_VALUE = Text("{{ $value | humanize }}x", "{{ $value | humanize }}배")


def page_alert(objectives: HetrixToolsObjectives) -> Rule:
    period_en, period_ko = _period_en(objectives.period_s), ko_duration(objectives.period_s)
    remaining = _remaining()
    tiers_en = _tiers_text(PAGE_TIERS, objectives.period_s, ko=False)
    tiers_ko = _tiers_text(PAGE_TIERS, objectives.period_s, ko=True)
    objective = f"{objectives.objective:g}%"
    downtime_en, downtime_ko = (
        prom_duration(objectives.min_downtime_s),
        ko_duration(objectives.min_downtime_s),
    )
    return alert(
        "HetrixToolsErrorBudgetBurn",
        "\nor\n".join(_tier(tier, objectives, page=True) for tier in PAGE_TIERS),
        severity="critical",
        labels={"slo_tier": "page"},
        for_s=None,
        keep_firing_for_s=PAGE_TIERS[-1].short_s,
        summary=Text(
            "{{ $labels.monitor_name }} keeps going down: its error budget burns fast",
            "{{ $labels.monitor_name }} 모니터가 오프라인을 되풀이하여 오류 예산이 빠르게 소진되는 중",
        ),
        description=Text(
            "{{ $labels.monitor_name }} ({{ $labels.target }}) keeps going down and coming back: it spends its "
            f"{period_en} error budget {BURN_VALUE.en} as fast as its objective allows (pages at {tiers_en}). "
            f"Budget left: {remaining.en}.",
            "{{ $labels.monitor_name }}({{ $labels.target }}) 모니터가 오프라인과 온라인을 되풀이하며 "
            f"{period_ko} 오류 예산을 목표가 허용하는 속도의 {BURN_VALUE.ko}로 소진하고 있습니다 "
            f"(긴급 기준 {tiers_ko}). 남은 오류 예산: {remaining.ko}.",
        ),
        value=BURN_VALUE,
        condition=Text(
            f"error budget burn rate (objective {objective} over {period_en}, per monitor in `objectives.yml`) > "
            f"{tiers_en}; more than {downtime_en} down in the long window; not for an outage "
            "`HetrixToolsMonitorDown` pages",
            f"오류 예산 소진 속도(목표 {period_ko} 동안 {objective}, 모니터별 값은 `objectives.yml`)가 {tiers_ko}를 "
            f"넘음. 긴 창에서 {downtime_ko}보다 오래 오프라인. `HetrixToolsMonitorDown`이 알리는 장애는 제외",
        ),
        history=_history(PAGE_TIERS),
        comment=(
            "The page: the Workbook's fast tiers (2% of the budget in 1h, 5% in 6h), no `for:` (the Workbook's\n"
            "advice: a `for:` restarts at every dip of the error ratio, so a flapping monitor would never page).\n"
            "Each tier also needs more than page_min_downtime of downtime in its long window, a full long window of\n"
            "history, and no outage of down_for in its short window (HetrixToolsMonitorDown pages that one).\n"
            "keep_firing_for the slow tier's short window: a monitor flapping every 10-30 minutes passes from the\n"
            "fast tier to the slow one without the page resolving and paging again in between."
        ),
    )


def ticket_alert(objectives: HetrixToolsObjectives) -> Rule:
    period_en, period_ko = _period_en(objectives.period_s), ko_duration(objectives.period_s)
    remaining = _remaining()
    tiers_en = _tiers_text(TICKET_TIERS, objectives.period_s, ko=False)
    tiers_ko = _tiers_text(TICKET_TIERS, objectives.period_s, ko=True)
    return alert(
        "HetrixToolsErrorBudgetBurn",
        "\nor\n".join(_tier(tier, objectives, page=False) for tier in TICKET_TIERS),
        severity="warning",
        labels={"slo_tier": "ticket"},
        for_s=None,
        summary=Text(
            "{{ $labels.monitor_name }} spends its error budget faster than it lasts",
            "{{ $labels.monitor_name }} 모니터의 오류 예산이 기간보다 빨리 소진되는 중",
        ),
        description=Text(
            f"{{{{ $labels.monitor_name }}}} ({{{{ $labels.target }}}}) spends its {period_en} error budget "
            f"{BURN_VALUE.en} as fast as its objective allows (tickets at {tiers_en}). Budget left: {remaining.en}.",
            f"{{{{ $labels.monitor_name }}}}({{{{ $labels.target }}}}) 모니터가 {period_ko} 오류 예산을 "
            f"목표가 허용하는 속도의 {BURN_VALUE.ko}로 소진하고 있습니다 (주의 기준 {tiers_ko}). "
            f"남은 오류 예산: {remaining.ko}.",
        ),
        value=BURN_VALUE,
        condition=Text(
            f"error budget burn rate > {tiers_en}; more than {prom_duration(objectives.min_downtime_s)} down in the "
            "short window",
            f"오류 예산 소진 속도가 {tiers_ko}를 넘음. 짧은 창에서 {ko_duration(objectives.min_downtime_s)}보다 오래 "
            "오프라인",
        ),
        history=_history(TICKET_TIERS),
        comment=(
            "The ticket: the Workbook's slow tiers (10% of the budget in 1d, 10% in 3d), for any shape of downtime,\n"
            "outages included, with more than min_downtime of it in the short window (one isolated down poll after an\n"
            "outage does not reopen a ticket for the outage still in the long window); Alertmanager holds it back\n"
            "while HetrixToolsMonitorDown or the page fires."
        ),
    )


def down_alert(objectives: HetrixToolsObjectives) -> Rule:
    return alert(
        "HetrixToolsMonitorDown",
        f"{UP} == 0",
        severity="critical",
        for_s=objectives.down_for_s,
        summary=Text("{{ $labels.monitor_name }} is down", "{{ $labels.monitor_name }} 모니터 오프라인"),
        description=Text(
            "HetrixTools reports {{ $labels.monitor_type }} monitor {{ $labels.monitor_name }} ({{ $labels.target }}) "
            "as offline.",
            "HetrixTools가 {{ $labels.monitor_type }} 모니터 {{ $labels.monitor_name }}({{ $labels.target }})의 "
            "상태를 오프라인으로 보고했습니다.",
        ),
        value=Text("offline", "오프라인"),
        condition=Text(
            "`hetrixtools_monitor_up` == 0 (paused or maintenance monitors have no such series)",
            "`hetrixtools_monitor_up` == 0 (일시 중지·점검 중인 모니터에는 이 시계열이 없음)",
        ),
        comment="Paused, disabled and maintenance monitors have no `hetrixtools_monitor_up` series: they never fire.",
    )


def slow_alert(objectives: HetrixToolsObjectives) -> Rule:
    threshold = f"{objectives.response_time_seconds:g}"
    return alert(
        "HetrixToolsResponseTimeSlow",
        f"hetrixtools_monitor_response_time_seconds > {threshold} "
        'and on (job, instance, monitor_id) hetrixtools_monitor_status{status="active"}',
        severity="high",
        for_s=objectives.response_time_for_s,
        summary=Text(
            "{{ $labels.monitor_name }} responds slowly from {{ $labels.location }}",
            "{{ $labels.location }}에서 {{ $labels.monitor_name }}의 응답 지연",
        ),
        description=Text(
            "{{ $labels.monitor_name }} ({{ $labels.target }}) took {{ $value | humanize }}s to respond from "
            f"{{{{ $labels.location }}}} (threshold {threshold}s).",
            "{{ $labels.location }}에서 {{ $labels.monitor_name }}({{ $labels.target }})의 응답에 "
            f"{{{{ $value | humanize }}}}초가 걸렸습니다 (기준 {threshold}초).",
        ),
        value=Text("{{ $value | humanize }}s", "{{ $value | humanize }}초"),
        condition=Text(
            f"`hetrixtools_monitor_response_time_seconds` > {threshold} (per location), active monitors only",
            f"`hetrixtools_monitor_response_time_seconds` > {threshold} (위치별), 활성 모니터만",
        ),
        comment="Response times are exported for paused, disabled and maintenance monitors too, as the API reports\n"
        'them; only active monitors (hetrixtools_monitor_status{status="active"}) alert.',
    )


def rule_file(objectives: HetrixToolsObjectives) -> RuleFile:
    # The slot groups first: in promtool's unit tests (which evaluate the groups of a file in order at each step) and
    # in allim-backtest an alert then reads the slots recorded at the same time, as it would in a live Prometheus
    # right after they were written.
    return RuleFile("hetrixtools", [slot_5m_group(), slot_1h_group(objectives), fast_group(objectives)])
