"""deploy/prometheus/objectives.yml, read and checked: every value the rules are built from, and nothing else.

Every key is required (the file is the one place the numbers live, so nothing hides in code) and every problem is
reported at once, each naming its key path, the way the services' configs are checked (allim.settings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from allim.settings import ConfigError, Settings, read_yaml_file

OBJECTIVES = Path("deploy/prometheus/objectives.yml")

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
# Label values go into PromQL selectors and regular expressions: keep them to what names look like.
_NAME = re.compile(r"^[\w .:/@+-]+$")


def ko_duration(seconds: float) -> str:
    """Seconds in Korean units without a space, as the glossary writes them: 1800 -> "30분", 86400 -> "1일"."""
    text = prom_duration(seconds)
    for unit, word in (("d", "일"), ("h", "시간"), ("m", "분"), ("s", "초")):
        text = text.replace(unit, word)
    return text


def prom_duration(seconds: float) -> str:
    """Seconds as the Prometheus duration people write: 90 -> "1m30s", 86400 -> "1d", 0 -> "0s"."""
    rest = int(round(seconds))
    if rest == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS:
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)


@dataclass(frozen=True)
class Band:
    """How far from the seasonal baseline is outside the band: the widest of the three terms."""

    stddevs: float  # standard deviations of the same hour across the weeks
    min_ratio: float  # share of the baseline
    min_sqrt: float  # square roots of the baseline: the counting noise of a count


@dataclass(frozen=True)
class SeasonalAlert:
    # The absolute floor under which the alert stays quiet. GA4's `floor` is a level (active users now); Sentry's
    # `min_excess` is errors above the baseline (a cluster of a few dozen errors from one user is not a spike).
    floor: float
    band: Band
    for_s: int


@dataclass(frozen=True)
class Ceiling:
    high: float
    critical: float


@dataclass(frozen=True)
class HetrixToolsObjectives:
    objective: float  # percent
    period_s: int
    monitors: dict[str, float]  # monitor_name -> objective (percent)
    min_downtime_s: int
    down_for_s: int
    response_time_seconds: float
    response_time_for_s: int


@dataclass(frozen=True)
class SentryObjectives:
    ceiling: Ceiling
    ceiling_for_s: int
    projects: dict[str, Ceiling]
    spike: SeasonalAlert
    spike_fallback_days: int  # a new project's daily baseline: days of the last 7 with data (0: none)
    new_issue_for_s: int
    slow_transactions: float
    slow_transactions_for_s: int


@dataclass(frozen=True)
class Ga4Objectives:
    spike: SeasonalAlert
    drop: SeasonalAlert
    zero_floor: float
    zero_for_s: int
    error_page_ratio: float
    error_page_floor: float
    error_page_for_s: int


@dataclass(frozen=True)
class Baseline:
    weeks: int
    min_weeks: int


@dataclass(frozen=True)
class Sustained:
    threshold: float
    window_s: int
    for_s: int


@dataclass(frozen=True)
class DiskFilling:
    horizon_s: int
    free_below: float


@dataclass(frozen=True)
class HostObjectives:
    cpu: Sustained
    memory: Sustained
    disk_threshold: float
    disk_for_s: int
    filling_lookback_s: int
    filling_for_s: int
    filling_warning: DiskFilling
    filling_critical: DiskFilling
    network_errors: float
    network_errors_for_s: int


@dataclass(frozen=True)
class PlatformObjectives:
    exporter_down_for_s: int
    source_down_for_s: int
    source_stale_after_s: int
    source_stale_for_s: int
    delivery_failed_ratio: float
    delivery_failing_for_s: int


@dataclass(frozen=True)
class Objectives:
    hetrixtools: HetrixToolsObjectives
    sentry: SentryObjectives
    ga4: Ga4Objectives
    baseline: Baseline
    host: HostObjectives
    platform: PlatformObjectives


class _Reader:
    """Required values from one section of the file; a missing or bad one is recorded and a stand-in returned."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def section(self, key: str) -> _Reader:
        self._present(key)
        return _Reader(self.settings.section(key))

    def _present(self, key: str) -> bool:
        if self.settings.has(key) and self.settings.data[key] is not None:
            return True
        self.settings.problem(key, "required")
        return False

    def number(self, key: str, minimum: float, maximum: float | None = None, *, above: bool = False) -> float:
        """A number in [minimum, maximum]; `above` makes the minimum exclusive."""
        if not self._present(key):
            return minimum
        problems = len(self.settings.problems)
        value = self.settings.number(key, minimum, minimum=minimum, maximum=maximum)
        if above and value <= minimum and len(self.settings.problems) == problems:
            self.settings.problem(key, f"must be above {minimum:g}")
        return value

    def integer(self, key: str, minimum: int, maximum: int) -> int:
        if not self._present(key):
            return minimum
        return self.settings.integer(key, minimum, minimum=minimum, maximum=maximum)

    def duration(self, key: str, minimum: float = 0, maximum: float | None = None) -> int:
        if not self._present(key):
            return int(minimum)
        problems = len(self.settings.problems)
        seconds = self.settings.duration(key, minimum, minimum=minimum)
        if len(self.settings.problems) > problems:
            return int(minimum)
        if maximum is not None and seconds > maximum:
            self.settings.problem(key, f"must be at most {prom_duration(maximum)}, got {prom_duration(seconds)}")
            return int(maximum)
        if seconds != int(seconds):
            self.settings.problem(key, "must be a whole number of seconds")
        return int(seconds)

    def names(self, key: str) -> tuple[_Reader, list[str]]:
        """An optional mapping keyed by names (monitors, projects), and its usable names; absent means none."""
        section = _Reader(self.settings.section(key))
        usable = []
        for name in section.settings.data:
            if isinstance(name, str) and _NAME.match(name):
                usable.append(name)
            else:
                section.settings.problem(str(name), "not a usable name (letters, digits, space and .:/@+- only)")
        return section, usable

    def done(self) -> None:
        self.settings.check_unknown()


def _seasonal(section: _Reader, *, drop: bool = False, floor_key: str = "floor") -> SeasonalAlert:
    """A seasonal alert's floor, band and `for:`; a drop's band has no spread term (see allim/rules/seasonal.py)."""
    band = Band(
        stddevs=0 if drop else section.number("band_stddevs", 0, 10),
        min_ratio=section.number("band_min_ratio", 0, 1 if drop else 10),
        min_sqrt=section.number("band_min_sqrt", 0, 20),
    )
    alert = SeasonalAlert(floor=section.number(floor_key, 0), band=band, for_s=section.duration("for", 60, 86400))
    section.done()
    return alert


def _hetrixtools(section: _Reader) -> HetrixToolsObjectives:
    objective = section.number("objective", 90, 99.999)
    monitors: dict[str, float] = {}
    overrides, names = section.names("monitors")
    for name in names:
        monitors[name] = overrides.number(name, 90, 99.999)
    period = section.duration("period", 7 * 86400, 90 * 86400)
    result = HetrixToolsObjectives(
        objective=objective,
        period_s=period,
        monitors=monitors,
        min_downtime_s=section.duration("min_downtime", 0, 3600),
        down_for_s=section.duration("down_for", 60, 3600),
        response_time_seconds=section.number("response_time_seconds", 0, above=True),
        response_time_for_s=section.duration("response_time_for", 0, 86400),
    )
    section.done()
    return result


def _ceiling(section: _Reader, where: str) -> Ceiling:
    ceiling = Ceiling(high=section.number("high", 0, above=True), critical=section.number("critical", 0, above=True))
    if ceiling.high >= ceiling.critical > 0:
        section.settings.problem("high", f"must be below {where}.critical ({ceiling.critical:g})")
    return ceiling


def _sentry(section: _Reader) -> SentryObjectives:
    ceiling_section = section.section("ceiling")
    ceiling = _ceiling(ceiling_section, "ceiling")
    ceiling_for = ceiling_section.duration("for", 0, 86400)
    ceiling_section.done()
    projects: dict[str, Ceiling] = {}
    overrides, names = section.names("projects")
    for name in names:
        project = overrides.section(name)
        projects[name] = _ceiling(project, f"projects.{name}")
        project.done()
    spike_section = section.section("spike")
    fallback = spike_section.integer("new_project_days", 0, 7)
    spike = _seasonal(spike_section, floor_key="min_excess")
    result = SentryObjectives(
        ceiling=ceiling,
        ceiling_for_s=ceiling_for,
        projects=projects,
        spike=spike,
        spike_fallback_days=fallback,
        new_issue_for_s=section.duration("new_issue_for", 0, 86400),
        slow_transactions=section.number("slow_transactions", 0, above=True),
        slow_transactions_for_s=section.duration("slow_transactions_for", 0, 86400),
    )
    section.done()
    return result


def _ga4(section: _Reader) -> Ga4Objectives:
    zero = section.section("zero")
    pages = section.section("error_page_views")
    result = Ga4Objectives(
        spike=_seasonal(section.section("spike")),
        drop=_seasonal(section.section("drop"), drop=True),
        zero_floor=zero.number("floor", 0, above=True),
        zero_for_s=zero.duration("for", 60, 86400),
        error_page_ratio=pages.number("ratio", 0, above=True),
        error_page_floor=pages.number("floor", 0),
        error_page_for_s=pages.duration("for", 0, 86400),
    )
    zero.done()
    pages.done()
    section.done()
    return result


def _baseline(section: _Reader) -> Baseline:
    weeks = section.integer("weeks", 1, 4)
    min_weeks = section.integer("min_weeks", 1, 4)
    if min_weeks > weeks:
        section.settings.problem("min_weeks", f"must be at most weeks ({weeks}), got {min_weeks}")
    section.done()
    return Baseline(weeks=weeks, min_weeks=min_weeks)


def _sustained(section: _Reader) -> Sustained:
    result = Sustained(
        threshold=section.number("threshold", 0, 1),
        window_s=section.duration("window", 60, 86400),
        for_s=section.duration("for", 0, 86400),
    )
    section.done()
    return result


def _filling(section: _Reader) -> DiskFilling:
    result = DiskFilling(
        horizon_s=section.duration("horizon", 600, 30 * 86400), free_below=section.number("free_below", 0, 1)
    )
    section.done()
    return result


def _host(section: _Reader) -> HostObjectives:
    disk = section.section("disk")
    filling = section.section("disk_filling")
    network = section.section("network_errors")
    result = HostObjectives(
        cpu=_sustained(section.section("cpu")),
        memory=_sustained(section.section("memory")),
        disk_threshold=disk.number("threshold", 0, 1),
        disk_for_s=disk.duration("for", 0, 86400),
        filling_lookback_s=filling.duration("lookback", 1800, 7 * 86400),
        filling_for_s=filling.duration("for", 0, 86400),
        filling_warning=_filling(filling.section("warning")),
        filling_critical=_filling(filling.section("critical")),
        network_errors=network.number("threshold", 0, above=True),
        network_errors_for_s=network.duration("for", 0, 86400),
    )
    for done in (disk, filling, network, section):
        done.done()
    return result


def _platform(section: _Reader) -> PlatformObjectives:
    result = PlatformObjectives(
        exporter_down_for_s=section.duration("exporter_down_for", 0, 3600),
        source_down_for_s=section.duration("source_down_for", 0, 3600),
        source_stale_after_s=section.duration("source_stale_after", 60, 86400),
        source_stale_for_s=section.duration("source_stale_for", 0, 3600),
        delivery_failed_ratio=section.number("delivery_failed_ratio", 0, 1),
        delivery_failing_for_s=section.duration("delivery_failing_for", 0, 3600),
    )
    section.done()
    return result


def load_objectives(path: Path) -> Objectives:
    """The file's objectives; a ConfigError listing every missing or bad key (by its path) otherwise."""
    top = _Reader(Settings(read_yaml_file(str(path)), {}))
    objectives = Objectives(
        hetrixtools=_hetrixtools(top.section("hetrixtools")),
        sentry=_sentry(top.section("sentry")),
        ga4=_ga4(top.section("ga4")),
        baseline=_baseline(top.section("baseline")),
        host=_host(top.section("host")),
        platform=_platform(top.section("allim")),
    )
    top.done()
    top.settings.raise_if_problems(str(path))
    return objectives


__all__ = ["ConfigError", "OBJECTIVES", "Objectives", "ko_duration", "load_objectives", "prom_duration"]
