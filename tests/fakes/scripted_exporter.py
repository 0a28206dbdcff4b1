"""An exporter on 127.0.0.1 that serves series following a script of seconds since `begin()`: what the backtest's
fidelity test has a real Prometheus scrape. Before `begin()` it serves the script's second 0."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

# second -> {series text: value}; a series missing from the answer is gone (Prometheus marks it stale)
Script = Callable[[int], dict[str, float]]


class ScriptedExporter:
    def __init__(self, script: Script, clock: Callable[[], float] = time.time) -> None:
        self.script = script
        self.clock = clock
        self.began: float | None = None
        self.app = Starlette(routes=[Route("/metrics", self.metrics)])

    def begin(self) -> float:
        self.began = self.clock()
        return self.began

    def second(self) -> int:
        return 0 if self.began is None else int(self.clock() - self.began)

    async def metrics(self, request: Request) -> PlainTextResponse:
        lines = [f"{series} {value}" for series, value in self.script(self.second()).items()]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
