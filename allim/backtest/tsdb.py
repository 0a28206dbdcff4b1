"""The temporary TSDB and the Prometheus that serves it: blocks in with promtool, range queries out.

Prometheus runs on 127.0.0.1 with no scrape targets, a retention long enough that no backfilled block is deleted at
start, and the lookback delta the run chose (see run.py on staleness). It is stopped before new blocks are written
and started again after, so each level of recording rules sees the levels below it.
"""

from __future__ import annotations

import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from allim.backtest.errors import BacktestError, InputError
from allim.backtest.statemachine import Grid

# Prometheus refuses a range query of more than 11,000 points per series; stay under it.
MAX_STEPS_PER_QUERY = 10_000
# promtool cuts blocks at this span (its hidden --max-block-duration; 486h is its largest compatible range): a month
# is two or three blocks, not the 360 two-hour blocks of the default, and promtool reads its input once per block.
BLOCK_DURATION = "486h"
READY_TIMEOUT_S = 120.0
PARALLEL_QUERIES = 2
Key = TypeVar("Key")
CONFIG = "global:\n  scrape_interval: 1m\n  evaluation_interval: 1m\n"


@dataclass(frozen=True)
class Binaries:
    prometheus: str
    promtool: str

    @classmethod
    def find(cls, prometheus: str | None, promtool: str | None) -> Binaries:
        found = []
        for name, given in (("prometheus", prometheus), ("promtool", promtool)):
            path = shutil.which(given or name)
            if path is None:
                flag = f"--{name}-binary"
                where = f"{given} is not an executable" if given else f"{name} is not on PATH"
                raise InputError(f"{flag}: {where} (install Debian's prometheus package, or give {flag})")
            found.append(path)
        return cls(*found)


class Tsdb:
    """A TSDB directory under `workdir` and, while started, a Prometheus serving it."""

    def __init__(self, workdir: Path, binaries: Binaries, lookback_ms: int) -> None:
        self.workdir = workdir
        self.path = workdir / "data"
        self.path.mkdir(parents=True, exist_ok=True)
        self.binaries = binaries
        self.lookback_ms = lookback_ms
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(3600.0, connect=5.0))

    def add_blocks(self, openmetrics: Path) -> None:
        """Write the file's samples as blocks into the TSDB (Prometheus must be stopped, or restarted after)."""
        create_blocks(self.binaries.promtool, openmetrics, self.path)

    def start(self) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        config = self.workdir / "prometheus.yml"
        config.write_text(CONFIG, encoding="utf-8")
        command = [
            self.binaries.prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.path}",
            "--storage.tsdb.retention.time=100y",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--query.lookback-delta={self.lookback_ms}ms",
            "--query.timeout=1h",
            f"--query.max-concurrency={PARALLEL_QUERIES * 2}",
            "--log.level=warn",
        ]
        log = open(self.workdir / "prometheus.log", "ab")  # noqa: SIM115 - the child holds it; closed below
        try:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise BacktestError(f"prometheus exited with {self._process.returncode}: {self._log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if self._client.get(f"{self.url}/-/ready", timeout=2).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise BacktestError(f"prometheus not ready after {READY_TIMEOUT_S:.0f}s: {self._log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)

    def close(self) -> None:
        self.stop()
        self._client.close()

    def query_range(
        self, jobs: Iterable[tuple[Key, str, Grid]]
    ) -> Iterator[tuple[Key, Grid, list[tuple[dict[str, str], list[list[Any]]]]]]:
        """Range queries of `(key, expr, grid)` jobs, chunk after chunk in job order: (key, grid, [(labels,
        [[seconds, "value"], ...])]). Two queries run at once (Prometheus evaluates each on one core) while the
        caller works on the previous answer."""
        chunks = (
            (key, expr, grid, first) for key, expr, grid in jobs for first in range(0, grid.count, MAX_STEPS_PER_QUERY)
        )
        with ThreadPoolExecutor(max_workers=PARALLEL_QUERIES) as pool:
            pending: deque[tuple[Key, Grid, Future[Any]]] = deque()
            for key, expr, grid, first in chunks:
                pending.append(
                    (key, grid, pool.submit(self._get, "/api/v1/query_range", _range_params(expr, grid, first)))
                )
                if len(pending) > PARALLEL_QUERIES:
                    yield _answer(*pending.popleft())
            while pending:
                yield _answer(*pending.popleft())

    def _get(self, path: str, params: dict[str, str]) -> Any:
        try:
            response = self._client.post(f"{self.url}{path}", data=params)
        except httpx.HTTPError as error:
            raise BacktestError(f"query to the backtest's prometheus failed: {error!r}: {self._log_tail()}") from None
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        if response.status_code != 200 or body.get("status") != "success":
            raise BacktestError(f"prometheus rejected {params['query']!r}: {body.get('error', response.text[:200])}")
        return body["data"]

    def _log_tail(self) -> str:
        log = self.workdir / "prometheus.log"
        lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
        return lines[-1] if lines else "(no log)"


def _range_params(expr: str, grid: Grid, first: int) -> dict[str, str]:
    last = min(grid.count, first + MAX_STEPS_PER_QUERY) - 1
    return {
        "query": expr,
        "start": _seconds(grid.time(first)),
        "end": _seconds(grid.time(last)),
        "step": _seconds(grid.step_ms),
    }


def _answer(
    key: Key, grid: Grid, future: Future[Any]
) -> tuple[Key, Grid, list[tuple[dict[str, str], list[list[Any]]]]]:
    return key, grid, [(result["metric"], result["values"]) for result in future.result()["result"]]


def create_blocks(promtool: str, openmetrics: Path, data: Path) -> None:
    """`promtool tsdb create-blocks-from openmetrics` into `data`."""
    command = [promtool, "tsdb", "create-blocks-from", "openmetrics", "-q"]
    command += [f"--max-block-duration={BLOCK_DURATION}", str(openmetrics), str(data)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BacktestError(f"promtool could not write blocks from {openmetrics.name}: {detail[-1] if detail else ''}")


def _seconds(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends it SIGTERM if the backtest dies (even by SIGKILL)."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
