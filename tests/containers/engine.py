"""Podman as the container tests use it: the tests' own containers.conf, nothing from a registry, and healthchecks
run by hand (Podman schedules them through systemd, which these machines lack).

    podman = Podman(log_dir)
    podman("run", "--rm", image, "true")            # CompletedProcess; raises PodmanError with the output
    with Healthchecks(podman, lambda: podman.containers(label)): ...   # `podman healthcheck run` every 2s
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

CONF = Path(__file__).with_name("containers.conf")
HEALTHCHECK_EVERY = 2.0


class PodmanError(AssertionError):
    """A podman command that failed: the command and its output."""


def unusable_reason() -> str | None:
    """Why Podman cannot run containers here (None when it can): the reason a container test is skipped with."""
    if shutil.which("podman") is None:
        return "podman is not installed (make test installs it: scripts/install-system-deps.sh)"
    env = {**os.environ, "CONTAINERS_CONF": str(CONF)}
    try:
        info = subprocess.run(
            ["podman", "info", "--format", "json"], env=env, capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        return "podman info did not answer within 60s"
    if info.returncode != 0:
        return f"podman info failed: {info.stderr.strip()[-500:]}"
    if json.loads(info.stdout)["host"]["security"]["rootless"]:
        return "rootless Podman: the tests mount the host's / and publish ports as root does"
    return None


class Podman:
    """Runs podman with CONTAINERS_CONF pointing at tests/containers/containers.conf."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.env = {**os.environ, "CONTAINERS_CONF": str(CONF)}

    def __call__(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return self.command(["podman", *args], check=check, timeout=timeout)

    def command(
        self, argv: list[str], *, check: bool = True, timeout: float = 600, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Any command in Podman's environment (podman-compose, mmdebstrap)."""
        result = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout, cwd=cwd)
        if check and result.returncode != 0:
            raise PodmanError(
                f"{' '.join(argv)} exited {result.returncode}:\n{(result.stdout + result.stderr)[-6000:]}"
            )
        return result

    def logged(self, argv: list[str], log_name: str, *, timeout: float = 900, cwd: Path | None = None) -> None:
        """A long command (a build) whose output goes to a log file; its tail is in the error if it fails."""
        log_path = self.log_dir / log_name
        with open(log_path, "w") as log:
            result = subprocess.run(
                argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout, cwd=cwd, text=True
            )
        if result.returncode != 0:
            tail = log_path.read_text(errors="replace")[-6000:]
            raise PodmanError(f"{' '.join(argv)} exited {result.returncode} (log {log_path}):\n{tail}")

    def json(self, *args: str) -> Any:
        return json.loads(self(*args).stdout or "null")

    def image_exists(self, name: str) -> bool:
        return self("image", "exists", name, check=False).returncode == 0

    def containers(self, label: str) -> list[str]:
        """Names of the containers, running or not, carrying `label` (key=value)."""
        listed = self.json("ps", "-a", "--filter", f"label={label}", "--format", "json") or []
        return [c["Names"][0] for c in listed]

    def inspect(self, container: str) -> dict[str, Any]:
        (found,) = self.json("container", "inspect", container)
        return dict(found)

    def inspect_image(self, image: str) -> dict[str, Any]:
        (found,) = self.json("image", "inspect", image)
        return dict(found)

    def health(self, container: str) -> str:
        """ "healthy", "unhealthy", "starting" or "" (no healthcheck), as `podman inspect` reports it."""
        state = self.inspect(container)["State"]
        return str((state.get("Health") or state.get("Healthcheck") or {}).get("Status", ""))

    def logs(self, container: str) -> str:
        result = self("logs", container, check=False)
        return result.stdout + result.stderr


class Healthchecks:
    """Runs `podman healthcheck run` on the containers `targets()` names, every 2s, in a thread: what systemd's
    timers do for Podman elsewhere. A container without a healthcheck, or not running, is simply skipped."""

    def __init__(self, podman: Podman, targets: Callable[[], list[str]]) -> None:
        self.podman = podman
        self.targets = targets
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="healthchecks")

    def __enter__(self) -> Healthchecks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                for name in self.targets():
                    self.podman("healthcheck", "run", name, check=False, timeout=30)
            self._stop.wait(HEALTHCHECK_EVERY)


def wait_healthy(podman: Podman, container: str, timeout: float = 90) -> None:
    """Run the container's healthcheck until it says healthy; fail with its log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if podman("healthcheck", "run", container, check=False, timeout=30).returncode == 0:
            if podman.health(container) == "healthy":
                return
        time.sleep(1)
    raise AssertionError(
        f"{container} not healthy after {timeout}s ({podman.health(container)}):\n{podman.logs(container)}"
    )


@contextlib.contextmanager
def removed_after(podman: Podman, *names: str) -> Iterator[None]:
    """Containers (by name) removed, with their anonymous volumes, on the way out."""
    try:
        yield
    finally:
        for name in names:
            podman("rm", "--force", "--volumes", "--time", "0", name, check=False)
