"""promtool cases for allim.yml: the exporter and its sources, the bridge's deliveries, the Watchdog."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial

from allim.rules import platform
from allim.rules.cases import Case, PromtoolFile, rule_named
from allim.rules.cases.expect import firing
from allim.rules.cases.promql import fires, rate
from allim.rules.cases.series import Value, selector
from allim.rules.config import PlatformObjectives
from allim.rules.model import Rule

EXPORTER = {"job": "allim-exporter", "instance": "exporter:8877"}
BRIDGE = {"job": "allim-bridge", "instance": "bridge:8000"}
ATTEMPTS = "allim_bridge_notification_requests_total"
FAILED = "allim_bridge_notification_requests_failed_total"


def exporter_case(rule: Rule, limits: PlatformObjectives) -> Case:
    hold = limits.exporter_down_for_s // 60
    case = Case(1, comment="Exporter target: down from 2m; the bridge target being down is not this alert's business.")
    case.add(selector("up", {"job": "allim-exporter", "instance": "exporter:8877"}), [1, 1, *[0] * (hold + 10)])
    case.add(selector("up", {"job": "allim-bridge", "instance": "bridge:8000"}), [0] * (hold + 12))
    case.expect(2 + hold - 1, rule.name, [])
    case.expect(2 + hold, rule.name, [firing(rule, EXPORTER, 0)])
    return case


def source_case(down: Rule, stale: Rule, limits: PlatformObjectives) -> Case:
    down_hold, stale_hold = limits.source_down_for_s // 60, limits.source_stale_for_s // 60
    stale_from = limits.source_stale_after_s // 60 + 1  # the first minute whose age is above the threshold
    length = max(down_hold, stale_from + stale_hold) + 5
    case = Case(
        1,
        comment="Sources: sentry fails from the start and its last success stays at t=0; host keeps succeeding.",
    )
    sentry, host = {**EXPORTER, "source": "sentry"}, {**EXPORTER, "source": "host"}
    case.add(selector("allim_source_up", sentry), [0] * length)
    case.add(selector("allim_source_up", host), [1] * length)
    case.add(selector("allim_source_last_success_timestamp_seconds", sentry), [0] * length)
    case.add(selector("allim_source_last_success_timestamp_seconds", host), [60.0 * m for m in range(length)])
    case.expect(down_hold - 1, down.name, [])
    case.expect(down_hold, down.name, [firing(down, sentry, 0)])
    case.expect(stale_from + stale_hold - 1, stale.name, [])
    at = stale_from + stale_hold
    case.expect(at, stale.name, [firing(stale, sentry, at * 60)])
    return case


def _delivery_case(
    rule: Rule, limits: PlatformObjectives, inputs: dict[tuple[str, str], Sequence[Value]], comment: str
) -> tuple[Case, Callable[[int], list[dict[str, object]]]]:
    """Attempt and failure counters per (channel, reason) (reason "" is the attempts counter), and what fires when."""
    hold = limits.delivery_failing_for_s // 60
    case = Case(1, comment=comment)
    for (channel, reason), values in inputs.items():
        labels = {**BRIDGE, "channel": channel} | ({"reason": reason} if reason else {})
        case.add(selector(FAILED if reason else ATTEMPTS, labels), values)

    def condition(channel: str, m: int) -> float | None:
        attempts = rate(inputs[(channel, "")], m, 15)
        failed = [
            r
            for (ch, reason), values in inputs.items()
            if ch == channel and reason not in ("", "rate_limited") and (r := rate(values, m, 15)) is not None
        ]
        if not attempts or not failed:
            return None
        share = sum(failed) / attempts
        return share if share > limits.delivery_failed_ratio else None

    channels = sorted({channel for channel, _ in inputs})

    def expect(t: int) -> list[dict[str, object]]:
        out = []
        for channel in channels:
            value = fires(partial(condition, channel), t, hold)
            if value is not None:
                out.append(firing(rule, {**BRIDGE, "channel": channel}, value))
        return out

    return case, expect


def delivery_cases(rule: Rule, limits: PlatformObjectives) -> list[Case]:
    length = 36
    cap = [*[0.0], *[float(1 + (m - 1) // 5) for m in range(1, length)]]  # an attempt every 5 minutes
    sparse = _delivery_case(
        rule,
        limits,
        {
            ("discord", ""): cap,
            ("discord", "http_502"): [None, *cap[1:]],
            ("email", ""): [20.0 * m for m in range(length)],
            ("email", "smtp_421"): [1.0 + math.floor(limits.delivery_failed_ratio * 10) * m for m in range(length)],
        },
        "Bridge delivery attempts (retries included). A failed-attempts series is born at 1 on its first failure, as\n"
        "prometheus_client does it, so rate() cannot see that first failure; until the 15m window lies wholly after\n"
        "the series' start, rate() extrapolates numerator and denominator differently, hence odd early percentages.\n"
        "discord: every attempt fails and the retries are at the 5 min backoff cap, the sparsest case (attempts at\n"
        "1m, 6m, 11m, ...): it fires about 10 minutes after its first failure. email: 20 attempts a minute, under\n"
        "half the threshold failing (no).",
    )
    failing = max(1, math.ceil(limits.delivery_failed_ratio * 10))
    steady = _delivery_case(
        rule,
        limits,
        {
            ("discord", ""): [10.0 * m for m in range(length)],
            ("discord", "rate_limited"): [1.0 + 5 * m for m in range(length)],
            ("email", ""): [10.0 * m for m in range(length)],
            ("email", "network"): [1.0 + failing * m for m in range(length)],
            ("email", "timeout"): [1.0 + failing * m for m in range(length)],
        },
        "discord: 10 attempts a minute, 5 rate-limited by Discord and retried as told (not failures, no).\n"
        f"email: 10 attempts a minute, {failing} network errors and {failing} timeouts (over the threshold on both "
        "reasons together).\n(Exactly the threshold is not tested: float rounding makes 1/10 land either side of 0.1.)",
    )
    for case, expect in (sparse, steady):
        first = next((t for t in range(length) if expect(t)), None)
        times = [30] if first is None else [first - 1, first, 30]
        for t in times:
            case.expect(t, rule.name, expect(t))
    return [sparse[0], steady[0]]


def watchdog_case(rule: Rule) -> Case:
    case = Case(1, comment="Watchdog: always firing from the first evaluation.")
    case.expect(0, rule.name, [firing(rule, {}, 1)])
    return case


def promtool_files(limits: PlatformObjectives) -> list[PromtoolFile]:
    rules = [rule for group in platform.rule_file(limits).groups for rule in group.rules]
    cases = [
        exporter_case(rule_named(rules, "AllimExporterDown"), limits),
        source_case(rule_named(rules, "AllimSourceDown"), rule_named(rules, "AllimSourceStale"), limits),
        *delivery_cases(rule_named(rules, "AllimBridgeDeliveryFailing"), limits),
        watchdog_case(rule_named(rules, "Watchdog")),
    ]
    return [PromtoolFile("allim", "", 1, cases)]
