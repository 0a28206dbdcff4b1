"""docker-compose.yml's `ha` profile brought up as README "Running more than one bridge" says
(`--profile ha up -d --build prometheus-ha`): PostgreSQL, two bridge replicas on it, two clustered Alertmanager
peers each posting to its own replica, and a Prometheus alerting to both. Every alert group reaches each channel
once, and with one replica's container killed the other delivers.

Alerts are posted to both peers' API as Prometheus posts them, so the groups and their timing are the test's own
(the Watchdog comes from Prometheus' rules as shipped). Discord and SMTP are fakes on the project network's gateway.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from testkit.processes import http_ok
from tests.containers.compose import ComposeProject, channel_fakes, mails_about
from tests.containers.engine import Podman
from tests.fakes.discord import FakeDiscord
from tests.fakes.smtp import Mailbox

pytestmark = pytest.mark.slow

PEERS = ("alertmanager-a", "alertmanager-b")
REPLICAS = ("bridge-a", "bridge-b")
# A second peer notifies only after waiting its position times --cluster.peer-timeout (15s) and finding no record of
# the first one's notification: a duplicate, if any, would come this long after the first message.
DUPLICATE_WINDOW = 20.0


@dataclass
class Ha:
    project: ComposeProject
    discord: FakeDiscord
    mailbox: Mailbox


@pytest.fixture(scope="module")
def ha(
    podman: Podman, standin: Callable[..., dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ha]:
    standin("prometheus", "alertmanager", "postgres")
    directory = tmp_path_factory.mktemp("compose-ha") / "allim"
    project = ComposeProject(podman, directory, anchor="python:3.11-slim", profiles=("ha",))
    try:
        with channel_fakes(project) as (discord, mailbox, channels):
            project.write_env(channels)
            # With Podman 4.3, podman-compose starts the replicas without waiting for PostgreSQL's health (it warns
            # that Podman cannot wait for it); they exit until it answers and their restart policy brings them back.
            project.up("prometheus-ha", build=True)
            for replica in REPLICAS:
                project.wait(lambda r=replica: http_ok(project.url(r, 8000, "/readyz")), 120, f"{replica} ready")
            yield Ha(project, discord, mailbox)
    finally:
        project.remove()


def critical_alert(name: str) -> dict[str, object]:
    """An alert as Prometheus posts it (each resend the same labels and start), routed to the critical receiver."""
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, "severity": "critical", "instance": "ha-test"},
        "annotations": {"summary": f"{name} for the HA test"},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=5)).isoformat(),
        "generatorURL": "http://prometheus-ha:9090/graph",
    }


def fire(project: ComposeProject, name: str) -> None:
    for peer in PEERS:  # Prometheus sends every alert to every peer
        project.post_alerts(peer, [critical_alert(name)])


def delivered_once(ha: Ha, names: list[str], timeout: float) -> None:
    """Each name's group reaches Discord and email, and no second copy follows within the duplicate window."""
    project = ha.project
    project.wait(
        lambda: all(ha.discord.containing(n) and mails_about(ha.mailbox, n) for n in names),
        timeout,
        f"{names} in Discord and in the mailbox",
    )
    time.sleep(DUPLICATE_WINDOW)
    for name in names:
        assert (len(ha.discord.containing(name)), len(mails_about(ha.mailbox, name))) == (1, 1), name


def test_compose_ha_each_alert_group_reaches_each_channel_once(ha: Ha) -> None:
    project = ha.project
    project.wait(
        lambda: project.notified("bridge-a", "watchdog") or project.notified("bridge-b", "watchdog"),
        90,
        "the Watchdog from prometheus-ha",
    )
    names = [f"HaGroup{secrets.token_hex(3)}" for _ in range(3)]
    for name in names:
        fire(project, name)
    delivered_once(ha, names, 90)
    watchdogs = len(project.notified("bridge-a", "watchdog")) + len(project.notified("bridge-b", "watchdog"))
    assert watchdogs == 1  # one log line, from whichever replica took it


def test_compose_ha_a_killed_replica_is_covered_by_the_other(ha: Ha, podman: Podman) -> None:
    project = ha.project
    podman("kill", project.container("bridge-a"))  # SIGKILL; an operator's kill, so the restart policy leaves it down
    assert not http_ok(project.url("bridge-a", 8000, "/readyz"))
    name = f"HaKilled{secrets.token_hex(3)}"
    fire(project, name)
    # alertmanager-a cannot reach its replica; alertmanager-b finds no record of a notification and posts to bridge-b.
    delivered_once(ha, [name], 120)
