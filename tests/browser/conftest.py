"""Headless Chromium for the page tests: Debian's `chromium` (scripts/install-system-deps.sh) driven by Playwright.

Playwright never downloads a browser here: it starts /usr/bin/chromium with flags that keep it off the network,
each launch in a fresh profile (a temporary user data dir Playwright creates and removes), each test in its own
context. `Tab` records the page's JavaScript console errors and saves a screenshot of every page it visits under
the test's temp dir, printing the path (pytest shows it when the test fails).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Off the network and quiet: no first-run, sync, component or background traffic, no GPU, no sandbox (root in CI).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Not per session: while Playwright's sync API is open its event loop counts as
    running in this thread, and the suite's async tests (pytest-asyncio) could not start their own."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (scripts/install-system-deps.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            yield launched
        finally:
            launched.close()


class Tab:
    """One browser context and page, with what went wrong in it and a screenshot of each page visited."""

    def __init__(self, browser: Any, shots: Path, credentials: tuple[str, str] | None = None) -> None:
        options = {"http_credentials": {"username": credentials[0], "password": credentials[1]}} if credentials else {}
        self.credentials = credentials
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.shots = shots
        self.errors: list[str] = []
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def visit(self, url: str, name: str) -> Any:
        response = self.page.goto(url)
        self.shot(name)
        return response

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of {self.page.url}: {path}")
        return path

    def links(self) -> list[str]:
        """Every link target on the page that leads to the service itself, resolved by the browser. Links an alert
        brought along (its Prometheus query, a runbook) lead elsewhere and are left out."""
        hrefs: list[str] = self.page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        origin = "/".join(self.page.url.split("/")[:3]) + "/"
        return sorted({href.split("#")[0] for href in hrefs if href.startswith(origin)})

    def assert_links_answer_200(self) -> None:
        auth = httpx.BasicAuth(*self.credentials) if self.credentials else None
        answers = {url: httpx.get(url, auth=auth, timeout=5).status_code for url in self.links()}
        assert answers, "the page has no links"
        assert {url: code for url, code in answers.items() if code != 200} == {}

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tabs(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """`tabs(credentials=None)` opens a Tab; all are closed after the test."""
    opened: list[Tab] = []
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def open_tab(credentials: tuple[str, str] | None = None) -> Tab:
        tab = Tab(browser, shots, credentials)
        opened.append(tab)
        return tab

    yield open_tab
    for tab in opened:
        tab.close()
