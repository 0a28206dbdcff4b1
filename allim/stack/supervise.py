"""Running the pipeline's processes together: start each, wait until it is ready, stop them all as one.

Exporter and bridge always; Prometheus and Alertmanager too when Debian's binaries are installed, each from
the configs deploy/ holds, rewritten for loopback (configs.py), with their data in a temp dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from allim.stack.checkout import Checkout

# The path each service answers 200 on once it can take traffic.
READY_PATHS = {"exporter": "/readyz", "bridge": "/healthz", "prometheus": "/-/ready", "alertmanager": "/-/ready"}


def find_prometheus() -> str | None:
    return shutil.which("prometheus")


def find_alertmanager() -> str | None:
    """Debian names it prometheus-alertmanager; upstream tarballs call it alertmanager."""
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def prometheus_args(binary: str, config: Path, data_dir: Path, address: str) -> list[str]:
    return [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address={address}",
        f"--web.external-url=http://{address}",
        "--rules.alert.resend-delay=1s",  # an alert active before Alertmanager is discovered is not lost for 1m
        "--web.enable-lifecycle",
    ]


def alertmanager_args(binary: str, config: Path, data_dir: Path, address: str) -> list[str]:
    return [
        binary,
        f"--config.file={config}",
        f"--storage.path={data_dir}",
        f"--web.listen-address={address}",
        f"--web.external-url=http://{address}",
        "--cluster.listen-address=",  # no HA gossip port on a single machine
    ]


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    """True once `url` answers 200; False if the process exits first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def bridge_token_file(env: Mapping[str, str], checkout: Checkout) -> Path:
    """The bridge's bearer token as a file Alertmanager and send-test can read: the user's
    (BRIDGE_AUTH_TOKEN or ..._FILE), else one generated once under the checkout's .run/ and kept across runs."""
    if env.get("BRIDGE_AUTH_TOKEN_FILE"):
        return Path(env["BRIDGE_AUTH_TOKEN_FILE"])
    path = checkout.run_dir / "bridge_auth_token"
    path.parent.mkdir(exist_ok=True)
    if env.get("BRIDGE_AUTH_TOKEN"):
        path.write_text(env["BRIDGE_AUTH_TOKEN"], encoding="utf-8")
    elif not path.exists():
        path.write_text(os.urandom(16).hex(), encoding="utf-8")
    path.chmod(0o600)
    return path


@dataclass
class Supervisor:
    """The processes started so far, in start order; `stop_all` ends them newest first and reaps every one."""

    env: dict[str, str]
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], log: Path | None = None) -> subprocess.Popen[bytes]:
        """Start `argv`; its output goes to `log` (or this terminal)."""
        output = open(log, "wb") if log else None
        process = subprocess.Popen(argv, env=self.env, stdout=output, stderr=subprocess.STDOUT if output else None)
        if output:
            output.close()  # the child has its own copy of the descriptor
        self.processes.append((name, process))
        return process

    def wait_all_ready(self, addresses: Mapping[str, str]) -> str | None:
        """None once every process answers on its ready path; else the name of the first that did not."""
        for name, process in self.processes:
            host = addresses[name].replace("0.0.0.0", "127.0.0.1")
            if not wait_ready(f"http://{host}{READY_PATHS[name]}", process):
                return name
        return None

    def wait_any_exit(self) -> list[str]:
        """Block until some process exits; the names of those that have."""
        while all(process.poll() is None for _, process in self.processes):
            time.sleep(0.5)
        return [name for name, process in self.processes if process.poll() is not None]

    def stop_all(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        for _name, process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def python_service(module: str, address: str, config: str | None) -> list[str]:
    """`python -m exporter|bridge` with its listen address and, if given, its config file."""
    argv = [sys.executable, "-m", module, "--web.listen-address", address]
    return argv + (["--config.file", config] if config else [])
