"""promtool cases for hetrixtools.yml: down now, the burn-rate page and ticket, slow responses."""

from __future__ import annotations

from allim.rules import hetrixtools
from allim.rules.cases import Case, CaseError, PromtoolFile, rule_named
from allim.rules.cases.expect import firing
from allim.rules.cases.series import Value, selector
from allim.rules.cases.uptime import Monitor
from allim.rules.cases.uptime import firing as alert_state
from allim.rules.config import HetrixToolsObjectives, prom_duration
from allim.rules.model import Rule
from allim.rules.slo import PAGE_TIERS, number

BASE = {"job": "allim-exporter", "instance": "exporter:8877"}
BURN = "HetrixToolsErrorBudgetBurn"
DOWN = "HetrixToolsMonitorDown"
# Six hours and ten minutes of history before the scenarios start: enough for the slow page tier's window.
START = 370


def monitor_labels(number: int, name: str, kind: str = "http") -> dict[str, str]:
    target = f"https://{name}.example.com" if kind == "http" else f"203.0.113.{number}"
    return {**BASE, "monitor_id": f"m{number}", "monitor_name": name, "target": target, "monitor_type": kind}


def _up(length: int, down: set[int], first: int = 0) -> list[Value]:
    return [None if m < first else (0.0 if m in down else 1.0) for m in range(length)]


class _Burns:
    """The burn-rate alerts of one test: their monitors, simulated, and the firing entries they expect."""

    def __init__(self, rules: list[Rule], objectives: HetrixToolsObjectives, step: int) -> None:
        self.page = rule_named(rules, BURN, "critical")
        self.ticket = rule_named(rules, BURN, "warning")
        self.objectives = objectives
        self.step = step
        self.monitors: list[tuple[dict[str, str], Monitor]] = []

    def add(self, case: Case, labels: dict[str, str], up: list[Value]) -> Monitor:
        case.add(selector("hetrixtools_monitor_up", labels), up)
        monitor = Monitor(up, self.objectives, self.step)
        self.monitors.append((labels, monitor))
        return monitor

    def firing_at(self, t: int) -> list[dict[str, object]]:
        keep = PAGE_TIERS[-1].short_s // 60
        out = []
        for labels, monitor in self.monitors:
            for rule, page, kept in ((self.page, True, keep), (self.ticket, False, 0)):
                state = alert_state(monitor, t, page=page, keep_firing_min=kept)
                if state is not None:
                    # Annotations are rendered when the condition last held, the budget's query too.
                    out.append(firing(rule, labels, state.value, monitor.remaining(state.since)))
        return out


def _first_firing(monitor: Monitor, times: list[int], *, page: bool) -> int | None:
    return next((t for t in times if monitor.burn(t, page=page) is not None), None)


def page_case(rules: list[Rule], objectives: HetrixToolsObjectives) -> Case:
    burns = _Burns(rules, objectives, step=1)
    length = START + 380
    case = Case(
        1,
        comment=(
            f"The page. {START} minutes of history, then: flap goes down one minute in ten; outage is down for 20\n"
            "minutes (HetrixToolsMonitorDown's page, and no burn-rate page during it or after it); fresh is new (15\n"
            "minutes of history) and flaps like flap; sparse goes down one minute an hour, which only the slow tier\n"
            "(6h/30m) sees. Which down of flap and of sparse first pages comes from the objectives."
        ),
    )
    flap_downs = [START + 10 * n for n in range(6)]
    flap_labels = monitor_labels(1, "flap")
    flap = burns.add(case, flap_labels, _up(length, set(flap_downs)))
    outage_down = set(range(START, START + 20))
    outage = monitor_labels(2, "outage")
    burns.add(case, outage, _up(length, outage_down))
    burns.add(case, monitor_labels(3, "fresh"), _up(length, set(flap_downs), first=START - 15))
    # Sparse: as many down minutes in any hour as the fast tier lets pass (ratios over 61 one-minute samples).
    fast_tier = PAGE_TIERS[0].factor(objectives.period_s) * flap.budget
    per_hour = int(61 * max(objectives.min_downtime_s / 3600, fast_tier))
    if per_hour < 1:
        raise CaseError("hetrixtools.objective: one down minute an hour already pages; no case left for the 6h tier")
    spacing = 61 // per_hour + 1
    slow_tier = PAGE_TIERS[1].factor(objectives.period_s) * flap.budget
    needed = int(361 * max(objectives.min_downtime_s / PAGE_TIERS[1].long_s, slow_tier)) + 3
    if needed * spacing >= PAGE_TIERS[1].long_s // 60:
        raise CaseError("hetrixtools.objective: no sparse downtime reaches the 6h tier without the 1h tier")
    sparse_downs = [START + spacing * n for n in range(needed)]
    sparse = burns.add(case, monitor_labels(4, "sparse"), _up(length, set(sparse_downs)))

    fires = _first_firing(flap, flap_downs, page=True)
    if fires is None or fires == flap_downs[0] and objectives.min_downtime_s >= 60:
        raise CaseError(
            f"hetrixtools.objective: a monitor down one minute in ten never pages at {objectives.objective}"
        )
    quiet = flap_downs[flap_downs.index(fires) - 1] if fires != flap_downs[0] else START - 1
    case.expect(quiet, BURN, burns.firing_at(quiet))
    case.expect(fires, BURN, burns.firing_at(fires))
    case.expect(flap_downs[3], BURN, burns.firing_at(flap_downs[3]))  # fresh: 4 down minutes, no full hour
    # The outage: HetrixToolsMonitorDown pages it after down_for; no burn-rate page while it lasts or after.
    down_fires = START + objectives.down_for_s // 60
    case.expect(down_fires, DOWN, [firing(rule_named(rules, DOWN), outage, 0)])
    for t in (START + 19, START + 24, START + 40):
        case.expect(t, BURN, burns.firing_at(t))
    # The page outlives the flapping by keep_firing_for, then resolves.
    last = max(t for t in range(length) if flap.burn(t, page=True) is not None)
    keep = PAGE_TIERS[-1].short_s // 60
    case.expect(last + keep, BURN, burns.firing_at(last + keep))
    case.expect(last + keep + 1, BURN, burns.firing_at(last + keep + 1))
    sparse_fires = _first_firing(sparse, [d + 5 for d in sparse_downs], page=True)
    if sparse_fires is None:
        raise CaseError("hetrixtools.objective: the slow page tier never fires on a monitor down a minute an hour")
    if sparse_fires > sparse_downs[0] + 5:
        case.expect(sparse_fires - spacing, BURN, burns.firing_at(sparse_fires - spacing))
    case.expect(sparse_fires, BURN, burns.firing_at(sparse_fires))
    # The error budget per monitor is 1 - its objective, as the rule file writes it.
    budget = float(number(flap.budget))
    case.expect_expr(
        START, f'{hetrixtools.BUDGET}{{monitor_name="flap"}}', [(selector(hetrixtools.BUDGET, flap_labels), budget)]
    )
    return case


def ticket_case(rules: list[Rule], objectives: HetrixToolsObjectives) -> Case:
    """Days of history at a 5-minute evaluation: an outage too short for a ticket, one long enough, a slow burn of
    short outages the 3d/6h tier sees, and a monitor too new for a ticket."""
    burns = _Burns(rules, objectives, step=5)
    day = 1440
    length = 4 * day
    case = Case(
        1,
        comment=(
            "The ticket, evaluated every 5 minutes over 4 days: short and long outages after a day of history\n"
            "(the shorter stays under the 1d/2h tier, the longer is over it), a slow burn of short outages\n"
            "(over the 3d/6h tier only) and a rare one (under it), and an outage of a monitor less than a day old."
        ),
    )
    budget_minutes_a_day = (1 - objectives.objective / 100) * day
    # The outages end on an evaluation, so that the 5-minute steps see them as outages (down for down_for) as a
    # live Prometheus evaluating every 15 s would: the page leaves them to HetrixToolsMonitorDown.
    outage_at = day + 60
    long_minutes = int(budget_minutes_a_day * 3 * 1.5) + 2
    short_minutes = max(2, int(budget_minutes_a_day * 3 * 0.6))

    def outage(minutes: int, end: int = outage_at) -> set[int]:
        return set(range(end - minutes + 1, end + 1))

    burns.add(case, monitor_labels(5, "short"), _up(length, outage(short_minutes)))
    long = burns.add(case, monitor_labels(6, "long"), _up(length, outage(long_minutes)))
    # The slow burns: short outages (one minute longer than min_downtime, ending on an evaluation), as often as makes
    # twice (slow) and half (rare) the 3d tier's daily downtime; twice stays under the 1d tier's three times.
    short = objectives.min_downtime_s // 60 + 1
    often = int(day / (budget_minutes_a_day * 2 / short))
    rare = int(day / (budget_minutes_a_day * 0.5 / short))
    slow_downs = {m for end in range(65, length, often - often % 5) for m in range(end - short + 1, end + 1)}
    rare_downs = {m for end in range(65, length, rare - rare % 5) for m in range(end - short + 1, end + 1)}
    slow = burns.add(case, monitor_labels(7, "slow"), _up(length, slow_downs))
    burns.add(case, monitor_labels(8, "rare"), _up(length, rare_downs))
    burns.add(case, monitor_labels(9, "young"), _up(length, outage(long_minutes, 3 * day), 3 * day - 120))

    times = list(range(outage_at, outage_at + 180, 5))
    fires = _first_firing(long, times, page=False)
    if fires is None:
        raise CaseError("hetrixtools.objective: the generated outage never raises a ticket")
    case.expect(fires - 5, BURN, burns.firing_at(fires - 5))
    case.expect(fires, BURN, burns.firing_at(fires))
    case.expect(outage_at + 120, BURN, burns.firing_at(outage_at + 120))
    slow_times = [t for t in range(3 * day, length, 5) if t - 5 in slow_downs or t in slow_downs]
    slow_fires = _first_firing(slow, slow_times, page=False)
    if slow_fires is None:
        raise CaseError("hetrixtools.objective: a slow burn of short outages never raises a ticket")
    case.expect(slow_fires, BURN, burns.firing_at(slow_fires))
    case.expect(3 * day + 30, BURN, burns.firing_at(3 * day + 30))
    return case


def down_cases(rules: list[Rule], objectives: HetrixToolsObjectives) -> list[Case]:
    down = rule_named(rules, DOWN)
    hold = objectives.down_for_s // 60
    shop, web = monitor_labels(1, "shop"), monitor_labels(3, "web", "ping")
    blog_status = {**monitor_labels(2, "blog"), "status": "paused"}
    first = Case(
        1,
        comment=f"Down: shop goes offline at 2m and pages {prom_duration(objectives.down_for_s)} later; the paused "
        "blog has no up series (only\nits status) and never fires; web stays up.",
    )
    first.add(selector("hetrixtools_monitor_up", shop), [1.0, 1.0, *[0.0] * (hold + 10)])
    first.add(selector("hetrixtools_monitor_status", blog_status), [1.0] * (hold + 12))
    first.add(selector("hetrixtools_monitor_up", web), [1.0] * (hold + 12))
    first.expect(2 + hold - 1, DOWN, [])
    first.expect(2 + hold, DOWN, [firing(down, shop, 0)])
    back = Case(1, comment="Back up: a recovered monitor stops firing at once.")
    back.add(selector("hetrixtools_monitor_up", shop), [*[0.0] * (hold + 5), *[1.0] * 6])
    back.expect(hold + 4, DOWN, [firing(down, shop, 0)])
    back.expect(hold + 5, DOWN, [])
    return [first, back]


def slow_case(rules: list[Rule], objectives: HetrixToolsObjectives) -> Case:
    slow = rule_named(rules, "HetrixToolsResponseTimeSlow")
    limit = objectives.response_time_seconds
    hold = objectives.response_time_for_s // 60
    case = Case(
        1,
        comment=f"Response time: {limit:g} s from Frankfurt (not above), {limit + 0.5:g} s from Singapore; the blog "
        "in maintenance\nabove both (not active, no).",
    )
    shop, blog = monitor_labels(1, "shop"), monitor_labels(2, "blog")
    length = hold + 15
    case.add(selector("hetrixtools_monitor_status", {**shop, "status": "active"}), [1.0] * length)
    case.add(selector("hetrixtools_monitor_status", {**blog, "status": "maint"}), [1.0] * length)
    case.add(
        selector("hetrixtools_monitor_response_time_seconds", {**blog, "location": "frankfurt"}), [limit + 2] * length
    )
    case.add(selector("hetrixtools_monitor_response_time_seconds", {**shop, "location": "frankfurt"}), [limit] * length)
    singapore = {**shop, "location": "singapore"}
    case.add(selector("hetrixtools_monitor_response_time_seconds", singapore), [limit + 0.5] * length)
    case.expect(hold - 1, "HetrixToolsResponseTimeSlow", [])
    case.expect(hold, "HetrixToolsResponseTimeSlow", [firing(slow, singapore, limit + 0.5)])
    return case


def promtool_files(objectives: HetrixToolsObjectives) -> list[PromtoolFile]:
    rule_file = hetrixtools.rule_file(objectives)
    rules = [rule for group in rule_file.groups for rule in group.rules]
    groups = [group.name for group in rule_file.groups]
    main = PromtoolFile(
        "hetrixtools",
        "",
        1,
        [*down_cases(rules, objectives), page_case(rules, objectives), slow_case(rules, objectives)],
        groups=groups,
    )
    ticket = PromtoolFile(
        "hetrixtools",
        "ticket",
        5,
        [ticket_case(rules, objectives)],
        comment="Days of history: the ticket tiers, evaluated every 5 minutes as the slot group is.",
        groups=groups,
    )
    return [main, ticket]
