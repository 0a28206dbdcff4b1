"""Reads a history from a running Prometheus: the raw samples of the metrics the rules read, over a time range.

A range-vector query `{__name__="m"}[6h]` at the end of each six-hour page returns the stored samples themselves
(not evaluated points), so the backtest sees what the live rules saw. Range selectors include both ends, so a sample
on a page boundary comes twice: only samples after a series' last one are kept. Staleness markers are not returned
by the API (see run.py for how the backtest stands in for them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import httpx

from allim.backtest.errors import InputError
from allim.backtest.history import History, Series
from allim.backtest.selectors import LabelSet, escape, label_set

PAGE_MS = 6 * 3_600_000


def export_history(
    url: str,
    names: Iterable[str],
    first_ms: int,
    last_ms: int,
    progress: Callable[[str], None],
    client: httpx.Client | None = None,
) -> History:
    owned = client is None
    http = client or httpx.Client(timeout=httpx.Timeout(300.0, connect=5.0))
    base = url.rstrip("/")
    try:
        _check_reachable(http, base)
        series: dict[LabelSet, Series] = {}
        ordered = sorted(names)
        for number, name in enumerate(ordered, start=1):
            progress(f"exporting {name} ({number}/{len(ordered)})")
            _export_metric(http, base, name, first_ms, last_ms, series)
        return History(series.values())
    finally:
        if owned:
            http.close()


def _check_reachable(http: httpx.Client, base: str) -> None:
    try:
        response = http.get(f"{base}/api/v1/status/buildinfo", timeout=10)
    except httpx.HTTPError as error:
        raise InputError(f"--prometheus-url {base}: unreachable ({type(error).__name__}: {error})") from None
    if response.status_code != 200:
        raise InputError(
            f"--prometheus-url {base}: answered {response.status_code} to its build-info API; not a Prometheus?"
        )


def _export_metric(
    http: httpx.Client, base: str, name: str, first_ms: int, last_ms: int, series: dict[LabelSet, Series]
) -> None:
    page_end = first_ms
    while page_end < last_ms:
        page_start, page_end = page_end, min(page_end + PAGE_MS, last_ms)
        query = f'{{__name__="{escape(name)}"}}[{page_end - page_start}ms]'
        for result in _query(http, base, query, page_end):
            labels = label_set(result["metric"])
            one = series.setdefault(labels, Series(labels))
            for ts, value in result.get("values") or []:
                ms = round(float(ts) * 1000)
                if ms < first_ms or (one.times and ms <= one.times[-1]):
                    continue
                one.times.append(ms)
                one.values.append(float(value))


def _query(http: httpx.Client, base: str, query: str, at_ms: int) -> list[dict[str, Any]]:
    try:
        response = http.post(f"{base}/api/v1/query", data={"query": query, "time": f"{at_ms / 1000:.3f}"})
    except httpx.HTTPError as error:
        raise InputError(f"--prometheus-url {base}: unreachable ({type(error).__name__}: {error})") from None
    body = response.json()
    if response.status_code != 200 or body.get("status") != "success":
        raise InputError(f"--prometheus-url {base}: query {query!r} failed: {body.get('error', response.status_code)}")
    result: list[dict[str, Any]] = body["data"]["result"]
    return result
