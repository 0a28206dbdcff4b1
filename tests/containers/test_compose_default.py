"""docker-compose.yml's default services brought up by podman-compose as a new user would (`up -d --build`), Grafana
aside (no package source here has it): the Watchdog reaches the bridge within a minute, an alert made to fire reaches
Discord and email, the bridge's container killed with deliveries pending loses nothing, `down` and `up` keep the
outbox, and the containerised exporter's host series are this machine's.

Discord, SMTP and HetrixTools are fakes on this machine, on the address it has on the project's network (its
gateway), named in `.env` as a user would name the real ones.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from testkit.alertmanager import webhook
from testkit.processes import REPO, http_ok, python_module
from tests.containers.compose import ComposeProject, channel_fakes, mails_about
from tests.containers.engine import Podman
from tests.fakes.discord import FakeDiscord
from tests.fakes.hetrixtools import API_KEY, FakeHetrixTools, build_monitors
from tests.fakes.smtp import Mailbox

pytestmark = pytest.mark.slow

SERVICES = ("exporter", "bridge", "prometheus", "alertmanager")  # docker-compose.yml's default ones but Grafana
MONITOR = "Checkout API"  # the HetrixTools monitor the fake reports down
WATCHDOG_WITHIN = 60.0  # README: "the Watchdog reaches the bridge within a minute"


@dataclass
class Stack:
    project: ComposeProject
    discord: FakeDiscord
    mailbox: Mailbox
    up_seconds: float
    up_done: float  # time.monotonic() when `up -d` returned


def down_monitor() -> list[dict[str, object]]:
    (monitor,) = build_monitors(1)
    monitor.update(name=MONITOR, uptime_status="down")
    return [monitor]


@pytest.fixture(scope="module")
def stack(
    podman: Podman, standin: Callable[..., dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    standin("prometheus", "alertmanager")
    project = ComposeProject(podman, tmp_path_factory.mktemp("compose") / "allim", anchor="python:3.11-slim")
    hetrixtools = FakeHetrixTools(down_monitor())
    try:
        with channel_fakes(project) as (discord, mailbox, channels), hetrixtools.serve(host=project.gateway):
            sources = {"HETRIXTOOLS_API_KEY": API_KEY, "HETRIXTOOLS_API_BASE": hetrixtools.url}
            project.write_env({**sources, **channels, "ALLIM_LANGUAGE": "en"})
            up_seconds = project.up(*SERVICES, build=True)
            yield Stack(project, discord, mailbox, up_seconds, time.monotonic())
    finally:
        project.remove()


def test_compose_default_watchdog_and_a_firing_alert_reach_their_channels(stack: Stack) -> None:
    project = stack.project
    # deploy/bridge/bridge.yml sends the Watchdog's receiver to the log channel: a JSON line on the bridge's stdout.
    remaining = WATCHDOG_WITHIN - (time.monotonic() - stack.up_done)
    project.wait(lambda: project.notified("bridge", "watchdog"), remaining, "the Watchdog within a minute of `up`")
    # HetrixTools says the monitor is down: the exporter's first poll shows it, Prometheus' rule fires after its
    # `for:`, Alertmanager routes the critical alert to Discord and email.
    project.wait(
        lambda: stack.discord.containing(MONITOR) and mails_about(stack.mailbox, MONITOR),
        240,
        "the down monitor's alert in Discord and in the mailbox",
    )
    assert len(stack.discord.containing(MONITOR)) == 1
    assert len(mails_about(stack.mailbox, MONITOR)) == 1


def post_to_bridge(project: ComposeProject, receiver: str, body: dict[str, object]) -> None:
    """A webhook as Alertmanager posts it (the token from secrets/bridge_auth_token); 200 means it is in the outbox."""
    answer = httpx.post(
        project.url("bridge", 8000, f"/alertmanager/{receiver}"),
        json=body,
        headers={"Authorization": f"Bearer {project.token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def crash(podman: Podman, container: str) -> None:
    """SIGKILL to the container's main process from the host, as a crash or the OOM killer would: the container
    stops on its own, so its restart policy applies (`podman kill` counts as an operator's stop and would not)."""
    os.kill(podman.inspect(container)["State"]["Pid"], signal.SIGKILL)


def test_compose_default_bridge_killed_with_deliveries_pending_loses_nothing(stack: Stack, podman: Podman) -> None:
    project, discord, mailbox = stack.project, stack.discord, stack.mailbox
    body = webhook(secrets.randbelow(10**6))
    alertname = body["alerts"][0]["labels"]["alertname"]
    discord.hold()  # Discord does not answer, and the mail server says "try again later"
    mailbox.temporary_failures = 10**6
    post_to_bridge(project, "critical", body)
    project.wait(lambda: discord.waiting and mailbox.attempts, 30, "both deliveries under way")
    bridge = project.container("bridge")
    started = podman.inspect(bridge)["State"]["StartedAt"]
    crash(podman, bridge)
    discord.release()  # the held request never reached Discord
    mailbox.temporary_failures = 0
    project.wait(lambda: podman.inspect(bridge)["State"]["StartedAt"] != started, 60, "restart: unless-stopped")
    project.wait(
        lambda: discord.containing(alertname) and mails_about(mailbox, alertname),
        120,
        "the notification accepted before the crash, delivered after the restart",
    )
    assert len(discord.containing(alertname)) == 1
    assert len(mails_about(mailbox, alertname)) == 1


def test_compose_default_down_and_up_keep_the_outbox(stack: Stack) -> None:
    project = stack.project
    body = webhook(secrets.randbelow(10**6))
    post_to_bridge(project, "default", body)
    alertname = body["alerts"][0]["labels"]["alertname"]
    project.wait(lambda: stack.discord.containing(alertname), 60, "delivery before `down`")
    before = {n["id"]: n for n in project.bridge_notifications()}
    project.down()
    assert not [c for c in project.containers() if podman_state(project, c) == "running"]
    project.up(*SERVICES)
    project.wait(lambda: http_ok(project.url("bridge", 8000, "/readyz")), 60, "the bridge ready again")
    after = {n["id"]: n for n in project.bridge_notifications()}
    assert before.keys() <= after.keys()  # the named volume bridge-data kept the outbox
    assert [after[i]["deliveries"] for i in before] == [before[i]["deliveries"] for i in before]


def podman_state(project: ComposeProject, container: str) -> str:
    return str(project.podman.inspect(container)["State"]["Status"])


# -- host metrics --------------------------------------------------------------------------------------------------


def host_samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """host_* samples of an exposition (not allim_*: the two exporters' own health differs)."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
        if s.name.startswith("host_")
    }


SPACE = {
    "host_filesystem_avail_bytes": "host_filesystem_size_bytes",
    "host_memory_available_bytes": "host_memory_total_bytes",
}


def on_this_machine() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """An exporter run directly on this machine (root /), once."""
    result = subprocess.run(
        python_module("exporter", "--once"), capture_output=True, text=True, timeout=60, cwd=REPO, env=os.environ
    )
    assert result.returncode == 0, result.stderr
    return host_samples(result.stdout)


def test_compose_default_exporter_reports_the_hosts_series(stack: Stack, podman: Podman) -> None:
    """The exporter as docker-compose.yml runs it (the host's / at /host) reads this machine: the same series
    (mountpoints and interfaces as the host names them) as an exporter run on the host, values within noise."""
    project = stack.project
    exporter = project.container("exporter")
    once = ["exec", exporter, "allim-exporter", "--once", "--path.rootfs=/host"]
    before = on_this_machine()
    inside = host_samples(podman(*once).stdout)
    after = on_this_machine()
    assert inside.keys() == before.keys() == after.keys()
    mountpoints = {dict(labels)["mountpoint"] for name, labels in inside if name == "host_filesystem_size_bytes"}
    assert "/" in mountpoints and not [m for m in mountpoints if m.startswith("/host")]
    for key, value in inside.items():
        low, high = sorted((before[key], after[key]))
        name = key[0]
        if name.endswith("_total"):  # counters: read between the two readings on the host
            assert low <= value <= high, key
        elif name in ("host_memory_total_bytes", "host_filesystem_size_bytes"):
            assert value == before[key], key
        elif name in SPACE:  # free space moves with what else runs: within 1% of the whole
            whole = before[(SPACE[name], key[1])]
            assert low - 0.01 * whole <= value <= high + 0.01 * whole, key
        elif name.startswith("host_load"):
            assert low - 1 <= value <= high + 1, key
        else:  # ratios
            assert 0 <= value <= 1, key
    # The running service, as Prometheus scrapes it: the same series, under the instance prometheus.yml names.
    scraped = host_samples(project.get("exporter", 8877, "/metrics").text)
    assert scraped.keys() == inside.keys()
    instance = yaml.safe_load((REPO / "deploy/prometheus/prometheus.yml").read_text())["scrape_configs"][0]
    expected = instance["static_configs"][0]["labels"]["instance"]
    query = 'host_filesystem_size_bytes{mountpoint="/"}'
    project.wait(lambda: prometheus_query(project, query), 60, f"{query} in Prometheus")
    (series,) = prometheus_query(project, query)
    assert series["metric"]["instance"] == expected and series["metric"]["job"] == "allim-exporter"


def prometheus_query(project: ComposeProject, query: str) -> list[dict[str, Any]]:
    answer = project.get("prometheus", 9090, "/api/v1/query", params={"query": query})
    return list(answer.json()["data"]["result"])
