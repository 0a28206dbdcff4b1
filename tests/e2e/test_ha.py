"""HA end to end on 127.0.0.1: two real Alertmanager peers in one cluster, two bridge replicas on one PostgreSQL.

Each peer runs its shipped config (deploy/alertmanager/alertmanager-ha-{a,b}.yml, rewritten for loopback by
allim.stack with 1 s group_wait/interval) and posts to its own replica, as docker-compose.yml's `ha` profile
does; the replicas run the shipped bridge.yml with BRIDGE_DATABASE_URL, the Discord fake and aiosmtpd. Alerts
go to both peers, as Prometheus sends them to every peer. Every alert group must arrive once per channel,
firing then resolved: when the cluster's gossip stops the second peer's send, when the peers cannot gossip and
both send (the replicas drop the duplicate), and when one replica is down (the other peer's send covers it).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from allim.stack import configs
from allim.stack.checkout import find_checkout
from allim.stack.supervise import alertmanager_args, find_alertmanager
from tests.fakes.discord import FakeDiscord
from tests.fakes.smtp import Mailbox, smtp_server
from tests.postgres import PostgresServer
from tests.support import REPO, Process, free_port, python_module, wait_until

CHECKOUT = find_checkout(REPO)
ALERTMANAGER_DIR = CHECKOUT.alertmanager_yml.parent
BRIDGE_TOKEN = "e2e-ha-bridge-token"
PEER_TIMEOUT = 2.0  # the second peer sends (or finds the first's send in the gossip) after this many seconds
# Fast gossip, so the cluster forms, settles and shares its notification log within about two seconds.
CLUSTER_TIMING = [
    f"--cluster.peer-timeout={PEER_TIMEOUT:g}s",
    "--cluster.gossip-interval=50ms",
    "--cluster.pushpull-interval=1s",
    "--cluster.settle-timeout=5s",
    "--cluster.reconnect-interval=1s",
]
# After the last expected message: long enough for the second peer's turn and a further flush of each peer.
QUIET = PEER_TIMEOUT + 3.0
# One critical alert (Discord and email) and one warning (Discord), posted to every peer.
SEVERITIES = ("critical", "warning")
RECEIVERS = ["critical", "critical", "default", "default"]  # their notifications in the outbox: firing, resolved


@dataclass
class Peer:
    """One Alertmanager and the bridge replica it posts to."""

    name: str
    address: str
    cluster_address: str
    bridge_address: str

    def url(self, path: str) -> str:
        return f"http://{self.address}{path}"

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        response = httpx.post(self.url("/api/v2/alerts"), json=alerts, timeout=5)
        assert response.status_code == 200, response.text


@dataclass
class Cluster:
    peers: list[Peer]
    bridges: dict[str, Process]  # by peer name
    discord: FakeDiscord
    mailbox: Mailbox
    processes: dict[str, Process]

    def discord_titles(self) -> list[str]:
        return [embed.get("title", "") for message in self.discord.messages for embed in message.get("embeds", [])]

    def notifications(self, peer: Peer) -> list[dict[str, Any]]:
        """The shared outbox as the peer's replica lists it."""
        response = httpx.get(
            f"http://{peer.bridge_address}/api/notifications",
            headers={"Authorization": f"Bearer {BRIDGE_TOKEN}"},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()["notifications"]

    def logs(self) -> str:
        return "\n".join(f"--- {name}\n{proc.log()[-3000:]}" for name, proc in self.processes.items())


def metric(address: str, sample: str) -> float | None:
    """One sample of a /metrics page, named with its labels as exposed (`name{label="value"}`); None if absent."""
    for line in httpx.get(f"http://{address}/metrics", timeout=5).text.splitlines():
        if line.startswith(f"{sample} "):
            return float(line.rsplit(" ", 1)[1])
    return None


def webhooks_sent(cluster: Cluster) -> float:
    """Webhooks the peers posted (alertmanager_notifications_total counts one per notification, not per retry)."""
    webhook = 'alertmanager_notifications_total{integration="webhook"}'
    return sum(metric(peer.address, webhook) or 0 for peer in cluster.peers)


def duplicates(cluster: Cluster) -> float:
    """Webhooks the replicas answered as already accepted."""
    return sum(metric(peer.bridge_address, "allim_bridge_duplicates_total") or 0 for peer in cluster.peers)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """aiosmtpd on a free port; its handler, a Mailbox, keeps what the bridges mail."""
    with smtp_server(Mailbox()) as served:
        yield served


@pytest.fixture
def partitioned() -> bool:
    """False: the peers form one cluster. A test parametrized with True runs them without gossip, as if the
    network between them were cut; each then sends every notification."""
    return False


@pytest.fixture
def cluster(
    tmp_path: Path, postgres: PostgresServer, discord: FakeDiscord, smtp: tuple[Mailbox, int], partitioned: bool
) -> Iterator[Cluster]:
    alertmanager_bin = find_alertmanager()
    assert alertmanager_bin, "Debian's prometheus-alertmanager is required (make test installs it)"
    database_url = postgres.create_database()
    token_file = tmp_path / "bridge_token"
    token_file.write_text(BRIDGE_TOKEN)
    peers = [Peer(name, *(f"127.0.0.1:{free_port()}" for _ in range(3))) for name in ("a", "b")]
    processes: dict[str, Process] = {}
    with ExitStack() as cleanup:

        def start(name: str, args: list[str], env: dict[str, str] | None = None) -> Process:
            process = Process(args, tmp_path / f"{name}.log", env)
            cleanup.callback(process.stop)
            processes[name] = process
            return process

        bridge_env = {
            "BRIDGE_DATABASE_URL": database_url,
            "BRIDGE_AUTH_TOKEN_FILE": str(token_file),
            "DISCORD_WEBHOOK_URL": discord.url(),
            "SMTP_SERVER": "127.0.0.1",
            "SMTP_PORT": str(smtp[1]),
            "SMTP_TLS": "none",
            "SMTP_FROM": "allim@example.test",
            "EMAIL_TO": "oncall@example.test",
        }
        bridges = {
            peer.name: start(
                f"bridge-{peer.name}",
                python_module(
                    "bridge", "--web.listen-address", peer.bridge_address, "--config.file", str(CHECKOUT.bridge_yml)
                ),
                {**bridge_env, "BRIDGE_DATA_DIR": str(tmp_path / f"bridge-{peer.name}")},
            )
            for peer in peers
        }
        for peer in peers:
            source = ALERTMANAGER_DIR / f"alertmanager-ha-{peer.name}.yml"
            config = configs.write_yaml(
                tmp_path / f"alertmanager-{peer.name}.yml",
                configs.alertmanager_config(peer.bridge_address, token_file, fast=True, source=source),
            )
            args = alertmanager_args(alertmanager_bin, config, tmp_path / f"am-{peer.name}", peer.address)
            if not partitioned:
                args = [arg for arg in args if not arg.startswith("--cluster.")] + cluster_flags(peer, peers)
            start(f"alertmanager-{peer.name}", args)
        result = Cluster(peers, bridges, discord, smtp[0], processes)
        try:
            for peer in peers:
                bridges[peer.name].wait_http(f"http://{peer.bridge_address}/readyz")
                processes[f"alertmanager-{peer.name}"].wait_http(peer.url("/-/ready"))
            if not partitioned:
                wait_until(lambda: all(map(settled, peers)), timeout=30, what="both peers in one settled cluster")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{result.logs()}") from None
        yield result


def cluster_flags(peer: Peer, peers: list[Peer]) -> list[str]:
    """What docker-compose.yml gives each peer, on loopback and with the advertise address spelled out (in a
    container Alertmanager detects its private IP)."""
    return [
        f"--cluster.listen-address={peer.cluster_address}",
        f"--cluster.advertise-address={peer.cluster_address}",
        *(f"--cluster.peer={other.cluster_address}" for other in peers if other is not peer),
        *CLUSTER_TIMING,
    ]


def settled(peer: Peer) -> bool:
    status = httpx.get(peer.url("/api/v2/status"), timeout=5).json()["cluster"]
    return status["status"] == "ready" and len(status.get("peers") or []) == 2


def rfc3339(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alerts(prefix: str, starts_at: float, ends_at: float | None = None) -> list[dict[str, Any]]:
    """What Prometheus posts to every peer: the same alerts with the same startsAt (and endsAt once resolved)."""
    posted = []
    for severity in SEVERITIES:
        alert: dict[str, Any] = {
            "labels": {"alertname": f"{prefix}{severity.title()}", "severity": severity, "instance": "ha-e2e"},
            "annotations": {"summary": "an alert of the HA end-to-end test"},
            "startsAt": rfc3339(starts_at),
            "generatorURL": "http://prometheus.invalid/graph",
        }
        if ends_at is not None:
            alert["endsAt"] = rfc3339(ends_at)
        posted.append(alert)
    return posted


def counts(titles: list[str]) -> collections.Counter[str]:
    """`[CRITICAL] Name` → how many messages have it, ignoring what the title says after the dash."""
    return collections.Counter(title.split(" — ", 1)[0] for title in titles)


def expected(prefix: str, resolved: bool) -> tuple[dict[str, int], dict[str, int]]:
    """The Discord titles and mail subjects of the alerts, once each: firing, and resolved when `resolved`."""
    critical, warning = f"{prefix}Critical", f"{prefix}Warning"
    discord = {f"[CRITICAL] {critical}": 1, f"[WARNING] {warning}": 1}
    mail = {f"[CRITICAL] {critical}": 1}
    if resolved:
        discord |= {f"[RESOLVED] {critical}": 1, f"[RESOLVED] {warning}": 1}
        mail |= {f"[RESOLVED] {critical}": 1}
    return discord, mail


def wait_for_messages(cluster: Cluster, discord: dict[str, int], mail: dict[str, int]) -> None:
    def seen() -> tuple[collections.Counter[str], collections.Counter[str]]:
        return counts(cluster.discord_titles()), counts(cluster.mailbox.subjects())

    def arrived() -> bool:
        got_discord, got_mail = seen()
        return all(got_discord[t] >= n for t, n in discord.items()) and all(got_mail[t] >= n for t, n in mail.items())

    try:
        wait_until(arrived, timeout=30, what=f"Discord {discord} and mail {mail}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; got {seen()}\n{cluster.logs()}") from None


def assert_once(cluster: Cluster, discord: dict[str, int], mail: dict[str, int]) -> None:
    """Nothing arrives a second time for QUIET seconds: the second peer's turn and a flush of each fall in it."""
    deadline = time.monotonic() + QUIET
    while True:
        got = counts(cluster.discord_titles()), counts(cluster.mailbox.subjects())
        assert got == (discord, mail), f"not once per channel: Discord {got[0]}, mail {got[1]}"
        if time.monotonic() > deadline:
            return
        time.sleep(0.1)


def assert_in_order(titles: list[str], name: str) -> None:
    """The group's firing message comes before its resolved one."""
    tags = [t.split(" ", 1)[0] for t in titles if t.split(" — ", 1)[0].endswith(f" {name}")]
    assert len(tags) == 2 and tags[0] != "[RESOLVED]" and tags[1] == "[RESOLVED]", tags


def fire_and_resolve(cluster: Cluster, prefix: str) -> None:
    """Both alerts to both peers, until they arrive; then resolved to both peers, until that arrives; then
    check that each arrived once per channel, firing before resolved."""
    started = time.time()
    for peer in cluster.peers:
        peer.post_alerts(alerts(prefix, started))
    wait_for_messages(cluster, *expected(prefix, resolved=False))
    resolved_at = time.time()
    for peer in cluster.peers:
        peer.post_alerts(alerts(prefix, started, resolved_at))
    wait_for_messages(cluster, *expected(prefix, resolved=True))
    assert_once(cluster, *expected(prefix, resolved=True))
    for severity in SEVERITIES:
        assert_in_order(cluster.discord_titles(), f"{prefix}{severity.title()}")
    assert_in_order(cluster.mailbox.subjects(), f"{prefix}Critical")
    assert not cluster.discord.rejected


def assert_all_sent(cluster: Cluster, peer: Peer) -> None:
    """The peer's replica lists every notification of the shared outbox once, each delivery sent."""

    def sent() -> bool:
        listed = cluster.notifications(peer)
        return sorted(n["receiver"] for n in listed) == RECEIVERS and all(
            d["state"] == "sent" for n in listed for d in n["deliveries"]
        )

    wait_until(sent, timeout=15, what=f"bridge {peer.name} to list {RECEIVERS}, all sent")


@pytest.mark.slow
def test_e2e_ha_each_alert_group_arrives_once_per_channel(cluster: Cluster) -> None:
    """The second peer finds the first's send in the gossip and stays quiet, except when the resolve follows
    the firing within the peer timeout, as it usually does here: the second peer's turn for the firing then comes
    after the first peer's resolved, and Alertmanager, comparing with that newer log entry, sends the stale
    firing. The bridges drop it as a duplicate of the first firing instead of re-opening the alert."""
    fire_and_resolve(cluster, "HaProbe")
    for peer in cluster.peers:  # both replicas read the one shared outbox
        assert_all_sent(cluster, peer)
    assert webhooks_sent(cluster) == len(RECEIVERS) + duplicates(cluster)  # every other post was a duplicate


@pytest.mark.slow
@pytest.mark.parametrize("partitioned", [True])
def test_e2e_ha_peers_that_cannot_gossip_both_send_and_the_bridges_deliver_once(cluster: Cluster) -> None:
    fire_and_resolve(cluster, "HaSplit")
    for peer in cluster.peers:
        assert_all_sent(cluster, peer)
    assert webhooks_sent(cluster) == 2 * len(RECEIVERS)  # each peer posted every notification to its replica
    assert duplicates(cluster) == len(RECEIVERS)  # and one post of each was recognised as the other's


@pytest.mark.slow
def test_e2e_ha_a_replica_down_is_covered_by_the_other_peer(cluster: Cluster) -> None:
    """The replica the first peer posts to is dead: the first peer's sends fail, so it records nothing in the
    cluster's notification log, and the second peer sends through its own replica after the peer timeout."""

    def first_peer() -> Peer | None:
        return next((p for p in cluster.peers if metric(p.address, "alertmanager_peer_position") == 0), None)

    first = wait_until(first_peer, timeout=10, what="the peer whose turn is first")
    assert isinstance(first, Peer)
    cluster.bridges[first.name].kill()
    fire_and_resolve(cluster, "HaDown")
    assert_all_sent(cluster, next(p for p in cluster.peers if p is not first))
