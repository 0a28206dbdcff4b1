"""Fidelity: a real Prometheus scrapes a scripted exporter and evaluates rules live at 1 s; the backtest of the same
history, exported from that Prometheus, must start and end the same alerts within one evaluation interval.

The script covers what differs between live and backfilled evaluation: `for:` (an outage and a blip too short to
fire), a recording rule read by another recording rule, a filtered recorded series that stops (no staleness marker
in a backfill), `keep_firing_for`, and a scraped series that disappears and comes back.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from allim.stack.supervise import find_prometheus, prometheus_args
from testkit.processes import free_port, running
from testkit.servers import ThreadedServer
from testkit.waiting import wait_until
from tests.backtest.support import Backtest
from tests.fakes.scripted_exporter import ScriptedExporter

RULES = """groups:
  - name: fidelity
    rules:
      - record: target:fid_up:avg5s
        expr: avg_over_time(fid_up[5s])
      - record: target:fid_up:low
        expr: target:fid_up:avg5s < 0.5
      - alert: FidDown
        expr: fid_up == 0
        for: 3s
      - alert: FidLow
        expr: target:fid_up:low
        keep_firing_for: 4s
      - alert: FidFlag
        expr: fid_flag > 0
        for: 2s
"""
SCRIPT_SECONDS = 60
INTERVAL = 1.0


def script(second: int) -> dict[str, float]:
    down = 8 <= second < 20 or 26 <= second < 28 or 36 <= second < 46
    series = {'fid_up{target="a"}': 0.0 if down else 1.0}
    if 5 <= second < 18 or 30 <= second < 40:
        series['fid_flag{target="b"}'] = 1.0
    return series


def live_alerts(url: str, at: float) -> dict[tuple[str, str], list[tuple[float, float | None]]]:
    """Firing spans from the live ALERTS series: its samples are the evaluations at which the alert fired, and it
    resolved at the evaluation after the last (its stale marker)."""
    response = httpx.get(f"{url}/api/v1/query", params={"query": 'ALERTS{alertstate="firing"}[10m]', "time": at})
    spans: dict[tuple[str, str], list[tuple[float, float | None]]] = {}
    for result in response.json()["data"]["result"]:
        metric: dict[str, Any] = result["metric"]
        key = (metric["alertname"], metric.get("target", ""))
        times = [float(ts) for ts, _ in result["values"]]
        first = previous = times[0]
        for ts in times[1:]:
            if ts - previous > 1.5 * INTERVAL:
                spans.setdefault(key, []).append((first, previous + INTERVAL))
                first = ts
            previous = ts
        spans.setdefault(key, []).append((first, previous + INTERVAL))
    return {key: sorted(value) for key, value in spans.items()}


@pytest.mark.slow
def test_fidelity_backtest_matches_live_prometheus(tmp_path: Path) -> None:
    prometheus_bin = find_prometheus()
    assert prometheus_bin, "Debian's prometheus is required (make test installs it)"
    exporter = ScriptedExporter(script)
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    with ThreadedServer(exporter.app) as server:
        address = f"127.0.0.1:{free_port()}"
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: [{rules}]\n"
            f"scrape_configs:\n  - job_name: scripted\n    static_configs: [{{targets: ['127.0.0.1:{server.port}']}}]\n"
        )
        url = f"http://{address}"
        args = prometheus_args(prometheus_bin, config, tmp_path / "live-data", address)
        with running(args, tmp_path / "prometheus.log") as prometheus:
            prometheus.wait_http(f"{url}/-/ready")
            wait_until(lambda: _has_samples(url, "fid_up"), timeout=30, what="the first scrape")
            began = exporter.begin()
            wait_until(
                lambda: time.time() > began + SCRIPT_SECONDS + 8,
                timeout=SCRIPT_SECONDS + 20,
                interval=0.5,
                what="the script to play out",
            )
            until = time.time()
            live = live_alerts(url, until)
            backtest = Backtest(tmp_path)
            common = [
                "--rules",
                rules,
                "--prometheus-url",
                url,
                "--since",
                f"{int(until - began) + 30}s",
                "--until",
                f"{until:.3f}",
                "--eval-interval",
                "1s",
                "--json",
            ]
            outcome = backtest.run(*common)
            # Prometheus' default lookback, no stand-in for staleness: a stopped series lingers for 5 minutes.
            unguarded = backtest.run(*common, "--lookback-delta", "5m")
    assert outcome.code == 0, outcome.err
    replayed = spans_of(outcome.out)
    assert set(live) == {("FidDown", "a"), ("FidLow", "a"), ("FidFlag", "b")}, live
    assert {key: len(spans) for key, spans in replayed.items()} == {key: len(spans) for key, spans in live.items()}, (
        live,
        replayed,
    )
    for key, spans in live.items():
        for (live_start, live_end), (start, end) in zip(spans, sorted(replayed[key]), strict=True):
            assert end is not None, (key, replayed[key])
            assert abs(start - live_start) <= INTERVAL + 0.01, (key, live, replayed)
            assert abs(end - live_end) <= INTERVAL + 0.01, (key, live, replayed)

    # Without it, FidFlag's series (gone at 18 s, back at 30 s) is seen throughout the gap: one alert, not two.
    assert len(spans_of(unguarded.out)[("FidFlag", "b")]) == 1


def spans_of(output: str) -> dict[tuple[str, str], list[tuple[float, float | None]]]:
    replayed: dict[tuple[str, str], list[tuple[float, float | None]]] = {}
    for alert in json.loads(output)["alerts"]:
        key = (alert["alertname"], alert["labels"].get("target", ""))
        replayed.setdefault(key, []).append((alert["start"], alert["end"]))
    return replayed


def _has_samples(url: str, name: str) -> bool:
    response = httpx.get(f"{url}/api/v1/query", params={"query": name}, timeout=5)
    return bool(response.json()["data"]["result"])
