"""promtool cases for host.yml: sustained CPU and memory, full and filling disks, network errors."""

from __future__ import annotations

from collections.abc import Sequence

from allim.rules import host
from allim.rules.cases import Case, PromtoolFile, rule_named
from allim.rules.cases.expect import firing
from allim.rules.cases.promql import avg_over_time, fires, predict_linear
from allim.rules.cases.series import Value, selector
from allim.rules.config import DiskFilling, HostObjectives, Sustained
from allim.rules.model import Rule

BASE = {"job": "allim-exporter"}
GB = 1e9


def instance(name: str) -> dict[str, str]:
    return {**BASE, "instance": f"{name}:8877"}


def sustained_case(rule: Rule, metric: str, limits: Sustained, what: str) -> Case:
    window, hold = limits.window_s // 60, limits.for_s // 60
    length = window + hold + 40
    # A burst at 100% somewhat shorter than `for`: its maximum over the window stays high for longer than `for`, its
    # average does not.
    burst = max(1, hold - window // 2)
    inputs: dict[str, Sequence[Value]] = {
        "at": [limits.threshold] * length,
        "above": [min(1.0, limits.threshold + 0.05)] * length,
        "burst": [0.5] * 10 + [1.0] * burst + [0.5] * (length - 10 - burst),
    }
    case = Case(
        1,
        comment=f"{what}: at the threshold all along (not above), 5 points above it (fires once its {window}m "
        f"average has\nstayed above for {hold}m), and a {burst}-minute burst at 100% (its average is over the "
        "threshold, but not for long\nenough; its maximum would be).",
    )
    for name, values in inputs.items():
        case.add(selector(metric, instance(name)), values)

    def expect(t: int) -> list[dict[str, object]]:
        out = []
        for name, values in inputs.items():

            def condition(m: int, values: Sequence[Value] = values) -> float | None:
                mean = avg_over_time(values, m, window)
                return mean if mean is not None and mean > limits.threshold else None

            value = fires(condition, t, hold)
            if value is not None:
                out.append(firing(rule, instance(name), value))
        return out

    for t in (hold - 1, hold, 10 + hold + 2, 10 + burst + hold, length - 1):
        case.expect(t, rule.name, expect(t))
    return case


def _free(start: float, hours_to_empty: float, length: int) -> list[Value]:
    """Free bytes of a 100 GB filesystem, from `start` of it down, running out in `hours_to_empty`."""
    per_minute = start * 100 * GB / (hours_to_empty * 60) if hours_to_empty else 0
    return [max(0.0, start * 100 * GB - per_minute * m) for m in range(length)]


def filling_case(rules: list[Rule], limits: HostObjectives) -> Case:
    lookback, hold = limits.filling_lookback_s // 60, limits.filling_for_s // 60
    length = hold + 40
    warn, crit = limits.filling_warning, limits.filling_critical
    mounts: dict[str, tuple[float, float]] = {
        # mountpoint: (free share at the start, hours until empty at that pace; 0 = steady)
        "/warning": (warn.free_below - 0.02, warn.horizon_s / 3600 * 0.75),
        "/critical": (crit.free_below - 0.02, crit.horizon_s / 3600 * 0.75),
        "/slow": (warn.free_below - 0.02, warn.horizon_s / 3600 * 1.5),
        "/steady": (warn.free_below - 0.1, 0),
        "/roomy": (warn.free_below + 0.2, warn.horizon_s / 3600 * 0.5),
    }
    case = Case(
        1,
        comment=(
            "Filling disks from minute 0: /warning runs out in 3/4 of the warning horizon with less than the "
            "warning's\nshare free, /critical in 3/4 of the critical horizon (it is over the warning too), /slow "
            "in twice the warning\nhorizon, /steady holds still with little free, /roomy fills fast but has plenty "
            "free."
        ),
    )
    free: dict[str, Sequence[Value]] = {}
    for mount, (start, hours) in mounts.items():
        labels = {**instance("a"), "mountpoint": mount, "device": f"/dev/{mount.strip('/')}", "fstype": "ext4"}
        free[mount] = _free(start, hours, length) if hours else [start * 100 * GB] * length
        case.add(selector("host_filesystem_avail_bytes", labels), free[mount])
        case.add(selector("host_filesystem_size_bytes", labels), [100 * GB] * length)

    def level(rule: Rule, level: DiskFilling, t: int) -> list[dict[str, object]]:
        out = []
        for mount, values in free.items():
            labels = {**instance("a"), "mountpoint": mount, "device": f"/dev/{mount.strip('/')}", "fstype": "ext4"}

            def condition(m: int, values: Sequence[Value] = values) -> float | None:
                share = (values[m] or 0) / (100 * GB)
                averages = [(s, avg_over_time(values, s, 5)) for s in range(max(0, m - lookback), m + 1)]
                trend = predict_linear([(s, v) for s, v in averages if v is not None], m, level.horizon_s)
                return share if share < level.free_below and trend is not None and trend < 0 else None

            value = fires(condition, t, hold)
            if value is not None:
                out.append(firing(rule, labels, value))
        return out

    warning = rule_named(rules, "HostDiskFillingUp", "warning")
    critical = rule_named(rules, "HostDiskFillingUp", "critical")
    for t in (hold - 1, hold + 5, length - 1):
        case.expect(t, "HostDiskFillingUp", level(warning, warn, t) + level(critical, crit, t))
    return case


def almost_full_case(rule: Rule, limits: HostObjectives) -> Case:
    percent = limits.disk_threshold
    hold = limits.disk_for_s // 60
    case = Case(1, comment=f"Disk: / at {percent:.0%} (not above), /var at {percent + 0.02:.0%}.")
    root = {**instance("a"), "mountpoint": "/", "device": "/dev/sda1", "fstype": "ext4"}
    var = {**instance("a"), "mountpoint": "/var", "device": "/dev/sdb1", "fstype": "xfs"}
    case.add(selector("host_filesystem_usage_ratio", root), [percent] * (hold + 10))
    case.add(selector("host_filesystem_usage_ratio", var), [percent + 0.02] * (hold + 10))
    case.expect(hold - 1, rule.name, [])
    case.expect(hold, rule.name, [firing(rule, var, percent + 0.02)])
    return case


def network_case(rule: Rule, limits: HostObjectives) -> Case:
    per_minute = limits.network_errors / 10  # rx and tx each: the threshold over 5 minutes, not above it
    hold = limits.network_errors_for_s // 60
    case = Case(
        1,
        comment=f"Network errors: eth0 gains {per_minute:g} rx + {per_minute:g} tx a minute (exactly the threshold "
        f"in 5 min), eth1 one\nrx error a minute more.",
    )
    eth0, eth1 = {**instance("a"), "interface": "eth0"}, {**instance("a"), "interface": "eth1"}
    length = hold + 20
    case.add(selector("host_network_receive_errors_total", eth0), [per_minute * m for m in range(length)])
    case.add(selector("host_network_transmit_errors_total", eth0), [per_minute * m for m in range(length)])
    case.add(selector("host_network_receive_errors_total", eth1), [(per_minute + 1) * m for m in range(length)])
    case.add(selector("host_network_transmit_errors_total", eth1), [per_minute * m for m in range(length)])
    # increase() over 5 minutes of samples that cover it needs no extrapolation once 5 minutes have passed.
    case.expect(5 + hold - 1, rule.name, [])
    case.expect(5 + hold, rule.name, [firing(rule, eth1, limits.network_errors + 5)])
    return case


def promtool_files(limits: HostObjectives) -> list[PromtoolFile]:
    rules = [rule for group in host.rule_file(limits).groups for rule in group.rules]
    cases = [
        sustained_case(rule_named(rules, "HostCpuUsageHigh"), "host_cpu_usage_ratio", limits.cpu, "CPU"),
        sustained_case(rule_named(rules, "HostMemoryUsageHigh"), "host_memory_usage_ratio", limits.memory, "Memory"),
        almost_full_case(rule_named(rules, "HostDiskAlmostFull"), limits),
        filling_case(rules, limits),
        network_case(rule_named(rules, "HostNetworkErrors"), limits),
    ]
    return [PromtoolFile("host", "", 1, cases)]
