"""Where the allim checkout is: the directory whose `deploy/` holds the configs docker-compose mounts.

Found explicitly rather than from where this package happens to be installed: a `--repo` argument, else the
`ALLIM_REPO` environment variable, else the nearest directory at or above the working directory that has
`deploy/prometheus/prometheus.yml`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MARKER = Path("deploy") / "prometheus" / "prometheus.yml"


class CheckoutNotFound(Exception):
    """No allim checkout where we looked; the message says where and how to point at one."""


@dataclass(frozen=True)
class Checkout:
    """The checkout's root and the deploy files the stack and the end-to-end test read."""

    root: Path

    @property
    def deploy(self) -> Path:
        return self.root / "deploy"

    @property
    def prometheus_yml(self) -> Path:
        return self.deploy / "prometheus" / "prometheus.yml"

    @property
    def rules_dir(self) -> Path:
        return self.deploy / "prometheus" / "rules"

    @property
    def alertmanager_yml(self) -> Path:
        return self.deploy / "alertmanager" / "alertmanager.yml"

    @property
    def bridge_yml(self) -> Path:
        return self.deploy / "bridge" / "bridge.yml"

    @property
    def run_dir(self) -> Path:
        """Kept across `make run`s (the generated bridge token); git-ignored."""
        return self.root / ".run"

    @property
    def data_dir(self) -> Path:
        """The bridge's outbox under `make run`; git-ignored."""
        return self.root / "data"


def find_checkout(
    repo: str | Path | None = None, *, env: Mapping[str, str] | None = None, start: Path | None = None
) -> Checkout:
    """The checkout named by `repo`, else by ALLIM_REPO, else the nearest one upward from `start` (the cwd)."""
    env = os.environ if env is None else env
    named = repo or env.get("ALLIM_REPO")
    if named:
        root = Path(named).expanduser().resolve()
        if not (root / MARKER).is_file():
            raise CheckoutNotFound(f"{root} is not an allim checkout: it has no {MARKER}")
        return Checkout(root)
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        if (directory / MARKER).is_file():
            return Checkout(directory)
    raise CheckoutNotFound(
        f"no allim checkout at or above {here} (looked for {MARKER}); run from the checkout, "
        "or pass --repo / set ALLIM_REPO"
    )
