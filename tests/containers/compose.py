"""docker-compose.yml run by podman-compose as shipped, in a copy of the project that has its own `.env` and
`secrets/` (a developer's real ones in the checkout are never read or written).

The one test-only file is an override that moves every published port to a free port on 127.0.0.1
(`!override` replaces a service's `ports` list), so a run never collides with anything on the machine's fixed ports.
The project's network is created before `up` (podman-compose uses an existing `<project>_default`) so that the fakes
can listen on its gateway, the host's address on that network, before the bridge is configured to reach them. The
address exists only while a container is attached, so a sleeping container holds it for the project's lifetime.
"""

from __future__ import annotations

import json
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from testkit.processes import REPO, free_port
from testkit.waiting import wait_until
from tests.containers.engine import Healthchecks, Podman
from tests.fakes.discord import FakeDiscord, running
from tests.fakes.smtp import Mailbox, smtp_server

# What the copy leaves out: the checkout's own state and what neither docker-compose.yml nor the Dockerfile reads.
LEFT_OUT = (
    ".git",
    ".venv",
    ".env",
    "secrets",
    "data",
    ".run",
    "tests",
    "bench",
    "__pycache__",
    "*.egg-info",
    ".*_cache",
)
PODMAN_COMPOSE = Path(sys.executable).with_name("podman-compose")


def published_ports(services: Mapping[str, Any]) -> dict[str, list[int]]:
    """Each service's container ports that docker-compose.yml publishes ("8877:8877" -> 8877)."""
    return {name: [int(str(p).rsplit(":", 1)[1]) for p in s.get("ports", [])] for name, s in services.items()}


class ComposeProject:
    """One compose project: its directory, name, network and the host ports its services are published on."""

    def __init__(self, podman: Podman, directory: Path, *, anchor: str, profiles: tuple[str, ...] = ()) -> None:
        self.podman = podman
        self.directory = directory
        self.name = f"allimtest{secrets.token_hex(3)}"
        self.profiles = profiles
        shutil.copytree(REPO, directory, ignore=shutil.ignore_patterns(*LEFT_OUT))
        services = yaml.safe_load((directory / "docker-compose.yml").read_text())["services"]
        self.ports = {
            (name, port): free_port() for name, ports in published_ports(services).items() for port in ports
        }  # (service, container port) -> host port on 127.0.0.1
        self._write_override()
        self._write_secrets()
        self.network = f"{self.name}_default"
        podman("network", "create", "--label", f"io.podman.compose.project={self.name}", self.network)
        self.anchor = f"{self.name}-gateway"
        podman("run", "-d", "--name", self.anchor, "--network", self.network, anchor, "sleep", "infinity")
        (found,) = podman.json("network", "inspect", self.network)
        self.gateway = str(found["subnets"][0]["gateway"])  # the host, as the containers reach it
        self.write_env({})

    # -- files -----------------------------------------------------------------------------------------------
    def _write_override(self) -> None:
        lines = ["services:"]
        for service in sorted({s for s, _ in self.ports}):
            mapped = [f'"127.0.0.1:{host}:{port}"' for (s, port), host in self.ports.items() if s == service]
            lines.append(f"  {service}:\n    ports: !override [{', '.join(mapped)}]")
        (self.directory / "test-ports.yml").write_text("\n".join(lines) + "\n")

    def _write_secrets(self) -> None:
        """The files docker-compose.yml's setup comment has the user create, readable by the containers' users."""
        folder = self.directory / "secrets"
        folder.mkdir()
        self.token = secrets.token_hex(32)
        password = secrets.token_hex(24)
        files = {
            "bridge_auth_token": self.token,
            "postgres_password": password,
            "bridge_database_url": f"postgresql://allim:{password}@postgres:5432/allim",
        }
        for name, value in files.items():
            (folder / name).write_text(value + "\n")
            (folder / name).chmod(0o644)

    def write_env(self, env: Mapping[str, str]) -> None:
        """`.env` as `cp .env.example .env` and filling it in would give: the example's names, these values."""
        (self.directory / ".env").write_text("".join(f"{k}={v}\n" for k, v in env.items()))

    # -- podman-compose --------------------------------------------------------------------------------------
    def compose(self, *args: str, timeout: float = 600) -> str:
        argv = [str(PODMAN_COMPOSE), "-p", self.name, "-f", "docker-compose.yml", "-f", "test-ports.yml"]
        argv += [f"--profile={p}" for p in self.profiles]
        result = self.podman.command([*argv, *args], timeout=timeout, cwd=self.directory)
        return result.stdout + result.stderr

    def containers(self) -> list[str]:
        return self.podman.containers(f"io.podman.compose.project={self.name}")

    @contextmanager
    def healthchecks(self) -> Iterator[None]:
        with Healthchecks(self.podman, self.containers):
            yield

    def up(self, *services: str, build: bool = False) -> float:
        """`up -d` (with `--build`), healthchecks run meanwhile; the seconds it took."""
        started = time.monotonic()
        with self.healthchecks():
            self.compose("up", "-d", *(["--build"] if build else []), *services)
        return time.monotonic() - started

    def down(self, volumes: bool = False) -> None:
        self.compose("down", *(["--volumes"] if volumes else []), "--timeout", "5")

    def remove(self) -> None:
        """Everything the project made: containers, volumes and its network."""
        self.compose("down", "--volumes", "--timeout", "0")
        for container in [*self.containers(), self.anchor]:
            self.podman("rm", "--force", "--volumes", "--time", "0", container, check=False)
        self.podman("network", "rm", "--force", self.network, check=False)

    # -- services --------------------------------------------------------------------------------------------
    def container(self, service: str) -> str:
        return f"{self.name}_{service}_1"

    def url(self, service: str, port: int, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[(service, port)]}{path}"

    def logs(self, service: str) -> str:
        return self.podman.logs(self.container(service))

    def notified(self, service: str, receiver: str) -> list[dict[str, Any]]:
        """The notifications a bridge's `log` channel wrote to its stdout (one JSON object a line) for `receiver`."""
        lines = [line for line in self.logs(service).splitlines() if line.startswith("{")]
        records = [json.loads(line) for line in lines]
        return [r for r in records if r.get("receiver") == receiver]

    def get(self, service: str, port: int, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.url(service, port, path), timeout=10, **kwargs)

    def bridge_notifications(self, service: str = "bridge") -> list[dict[str, Any]]:
        """The bridge's outbox through its JSON API (GET /api/notifications, the Alertmanager token)."""
        answer = self.get(
            service, 8000, "/api/notifications?limit=200", headers={"Authorization": f"Bearer {self.token}"}
        )
        answer.raise_for_status()
        return list(answer.json()["notifications"])

    def post_alerts(self, service: str, alerts: list[dict[str, Any]]) -> None:
        """Alerts posted to an Alertmanager's API, as Prometheus does."""
        httpx.post(self.url(service, 9093, "/api/v2/alerts"), json=alerts, timeout=10).raise_for_status()

    def wait(self, predicate: Callable[[], object], timeout: float, what: str) -> object:
        """wait_until, failing with every container's state and log tail."""
        try:
            return wait_until(predicate, timeout=timeout, interval=0.5, what=what)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.dump()}") from None

    def dump(self) -> str:
        """Every container's state and log tail, for a failing test's message."""
        parts = []
        for container in self.containers():
            state = self.podman.inspect(container)["State"]
            parts.append(f"--- {container}: {state.get('Status')} exit {state.get('ExitCode')}\n")
            parts.append(self.podman.logs(container)[-3000:])
        return "".join(parts)


@contextmanager
def channel_fakes(project: ComposeProject) -> Iterator[tuple[FakeDiscord, Mailbox, dict[str, str]]]:
    """The Discord and SMTP fakes on the project network's gateway, and the `.env` lines naming them."""
    with (
        running(FakeDiscord(), host=project.gateway) as discord,
        smtp_server(Mailbox(), host=project.gateway) as (mailbox, smtp_port),
    ):
        env = {
            "DISCORD_WEBHOOK_URL": discord.url(),
            "SMTP_SERVER": project.gateway,
            "SMTP_PORT": str(smtp_port),
            "SMTP_TLS": "none",
            "SMTP_FROM": "allim@example.test",
            "EMAIL_TO": "oncall@example.test",
        }
        yield discord, mailbox, env


def mails_about(mailbox: Mailbox, text: str) -> list[object]:
    return [m for m in mailbox.messages if text in m.as_string()]
