"""docker-compose.yml (the default services and the `ha` profile), the Dockerfile and .env.example, checked
without a Docker engine.

tests/deploy/compose-spec.json is the Compose Specification's JSON schema, vendored unchanged from the PyPI
package docker-compose 1.29.2 (file compose/config/compose_spec.json of
docker_compose-1.29.2-py2.py3-none-any.whl, sha256 0dc04bd346dcfee1b1419628fff79937bbf076925f298f272a2b490e2b112bac).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from allim.settings import parse_duration
from exporter.__main__ import parse_args as parse_exporter_args
from tests.deploy.support import PROMETHEUS_DIR, ROOT, binary, run

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = Path(__file__).with_name("compose-spec.json")
SCHEMA_SHA256 = "0dc04bd346dcfee1b1419628fff79937bbf076925f298f272a2b490e2b112bac"
SERVICES = {"exporter", "bridge", "prometheus", "alertmanager", "grafana"}  # no profile: `docker compose up`
# Profile "ha": two bridge replicas on PostgreSQL, two clustered Alertmanager peers, a Prometheus alerting to both.
HA_SERVICES = {"postgres", "bridge-a", "bridge-b", "alertmanager-a", "alertmanager-b", "prometheus-ha"}
HA_PEERS = {"alertmanager-a": "bridge-a", "alertmanager-b": "bridge-b"}  # each peer posts to its own replica
ALLIM_SERVICES = ("exporter", "bridge", "bridge-a", "bridge-b")
PROMETHEUS_HA = PROMETHEUS_DIR / "prometheus-ha.yml"
# Names the old alert system's .env used; they must keep working.
OLD_NAMES = {
    "SENTRY_TOKEN",
    "SENTRY_ORG",
    "HETRIXTOOLS_API_KEY",
    "DISCORD_WEBHOOK_URL",
    "SMTP_SERVER",
    "SMTP_PORT",
    "SMTP_USERNAME",
    "SMTP_PASSWORD",
    "EMAIL_TO",
}
# User-provided files (the bridge token, the GA4 key): git-ignored, created by the user as the README says.
USER_PROVIDED = "./secrets/"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def env_example_names() -> set[str]:
    """Variables .env.example sets or documents (commented-out `# NAME=` lines count)."""
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE))


def bind_sources(service: dict) -> list[str]:
    return [v.split(":", 1)[0] for v in service.get("volumes", []) if v.startswith((".", "/"))]


def profile_services(profile: str | None) -> dict[str, dict]:
    """The services `docker compose --profile <profile>` adds; None: those without a profile, which it always runs."""
    return {name: s for name, s in compose()["services"].items() if profile in (s.get("profiles") or [None])}


def started_with(name: str) -> set[str]:
    """A service and everything it depends on: what `docker compose up <name>` starts."""
    services = compose()["services"]
    started, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current not in started:
            started.add(current)
            todo += list(services[current].get("depends_on", []))  # a list, or a mapping of conditions
    return started


def without_targets(value: object) -> object:
    """A Prometheus config with every `targets` list blanked, to compare two configs apart from their hosts."""
    if isinstance(value, dict):
        return {k: None if k == "targets" else without_targets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_targets(v) for v in value]
    return value


def test_vendored_schema_is_unchanged() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256


def test_compose_file_matches_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = sorted(validator.iter_errors(compose()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)


def test_schema_catches_a_bad_compose_file() -> None:
    validator = jsonschema.Draft201909Validator(json.loads(SCHEMA.read_text()))
    bad = compose()
    bad["services"]["exporter"]["healthcheck"]["intervall"] = "30s"
    assert not validator.is_valid(bad)


def test_services_and_healthchecks() -> None:
    services = compose()["services"]
    assert set(profile_services(None)) == SERVICES
    assert set(profile_services("ha")) == HA_SERVICES
    assert set(services) == SERVICES | HA_SERVICES
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] == "CMD", name
        assert "curl" not in service["healthcheck"]["test"], name
    for name in ALLIM_SERVICES:
        assert services[name]["env_file"] == ".env"
        assert services[name]["build"] == "."


def test_mounted_files_exist_in_the_repository() -> None:
    for name, service in compose()["services"].items():
        for source in bind_sources(service):
            if source.startswith(USER_PROVIDED):
                continue
            assert (ROOT / source).exists(), f"{name} mounts {source}, which is not in the repository"
    for secret in compose()["secrets"].values():
        assert secret["file"].startswith(USER_PROVIDED)
    assert "secrets/" in (ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_bridge_token_is_shared_through_a_secret() -> None:
    services = compose()["services"]
    assert "bridge_auth_token" in services["bridge"]["secrets"]
    assert "bridge_auth_token" in services["alertmanager"]["secrets"]
    assert services["bridge"]["environment"]["BRIDGE_AUTH_TOKEN_FILE"] == "/run/secrets/bridge_auth_token"
    assert "/run/secrets/bridge_auth_token" in (ROOT / "deploy/alertmanager/alertmanager.yml").read_text()
    for peer, replica in HA_PEERS.items():
        assert "bridge_auth_token" in services[replica]["secrets"]
        assert "bridge_auth_token" in services[peer]["secrets"]
        assert services[replica]["environment"]["BRIDGE_AUTH_TOKEN_FILE"] == "/run/secrets/bridge_auth_token"


def test_environment_names_match_env_example() -> None:
    names = env_example_names()
    assert names >= OLD_NAMES, sorted(OLD_NAMES - names)
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE.read_text()))
    for service in ALLIM_SERVICES:
        used |= set(compose()["services"][service].get("environment", {}))
    assert used <= names, sorted(used - names)


def test_dockerfile() -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    healthcheck = text.split("HEALTHCHECK", 1)[1].split("\n\n", 1)[0]
    assert "urllib.request" in healthcheck and "curl" not in healthcheck
    assert "install .[postgres]" in text  # the driver of the shared outbox (BRIDGE_DATABASE_URL)
    # A build stage installs; the image takes only the installed environment from it.
    stages = re.findall(r"^FROM \S+(?: AS (\S+))?$", text, re.MULTILINE)
    assert len(stages) == 2 and stages[0]
    final = text.rsplit("\nFROM ", 1)[1]
    assert f"COPY --from={stages[0]} /opt/allim /opt/allim" in final
    assert "pip" not in final and "COPY allim" not in final


def test_every_secret_and_named_volume_is_declared() -> None:
    top = compose()
    for name, service in top["services"].items():
        assert set(service.get("secrets", [])) <= set(top["secrets"]), name
        named = {v.split(":", 1)[0] for v in service.get("volumes", []) if not v.startswith((".", "/"))}
        assert named <= set(top["volumes"]), name


def test_host_ports_are_distinct_so_both_pipelines_can_run_side_by_side() -> None:
    ports = [p.split(":", 1)[0] for s in compose()["services"].values() for p in s.get("ports", [])]
    assert len(ports) == len(set(ports)), ports


def test_default_services_do_not_use_the_ha_profile() -> None:
    """`docker compose up` without a profile is the single bridge on its SQLite volume, as before the profile."""
    default = profile_services(None)
    for name, service in default.items():
        assert set(service.get("depends_on", [])) <= set(default), name
        assert not set(service.get("secrets", [])) & {"postgres_password", "bridge_database_url"}, name
    bridge = default["bridge"]
    assert not [key for key in bridge["environment"] if key.startswith("BRIDGE_DATABASE_URL")]
    assert "bridge-data:/data" in bridge["volumes"]


def test_naming_the_ha_prometheus_starts_the_ha_pipeline_and_no_other_notifier() -> None:
    """README's `docker compose --profile ha up -d prometheus-ha`: the whole HA pipeline plus the exporter,
    without the single bridge and its Alertmanager, which would notify every alert a second time."""
    assert started_with("prometheus-ha") == HA_SERVICES | {"exporter"}


def test_ha_postgres() -> None:
    postgres = compose()["services"]["postgres"]
    assert postgres["image"] == "postgres:15"
    environment = postgres["environment"]
    assert environment["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert "POSTGRES_PASSWORD" not in environment
    assert postgres["secrets"] == ["postgres_password"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "ports" not in postgres  # only the bridges reach it, on the compose network
    # The URL the setup comment writes to secrets/bridge_database_url names this user, host and database.
    user, db = environment["POSTGRES_USER"], environment["POSTGRES_DB"]
    assert f"postgresql://{user}:%s@postgres:5432/{db}" in COMPOSE.read_text()


@pytest.mark.parametrize("name", sorted(HA_PEERS.values()))
def test_ha_bridge_replicas_share_the_database_and_keep_no_state(name: str) -> None:
    services = compose()["services"]
    replica, single = services[name], services["bridge"]
    assert replica["environment"]["BRIDGE_DATABASE_URL_FILE"] == "/run/secrets/bridge_database_url"
    assert "BRIDGE_DATABASE_URL" not in replica["environment"]  # the URL holds the password: a secret file
    assert "bridge_database_url" in replica["secrets"]
    assert replica["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert bind_sources(replica) == bind_sources(single)  # the same bridge.yml, and no data volume
    assert len(replica["volumes"]) == len(bind_sources(replica))
    for key in ("build", "image", "command", "env_file", "healthcheck"):
        assert replica[key] == single[key], key


@pytest.mark.parametrize(("name", "replica"), sorted(HA_PEERS.items()))
def test_ha_alertmanager_peers_cluster_and_each_post_to_its_own_replica(name: str, replica: str) -> None:
    services = compose()["services"]
    peer = services[name]
    (other,) = set(HA_PEERS) - {name}
    assert peer["image"] == services["alertmanager"]["image"]
    assert "--cluster.listen-address=0.0.0.0:9094" in peer["command"]
    assert [f for f in peer["command"] if f.startswith("--cluster.peer=")] == [f"--cluster.peer={other}:9094"]
    assert replica in peer["depends_on"]
    (config,) = [v.split(":", 1)[0] for v in peer["volumes"] if v.endswith(":/etc/alertmanager/alertmanager.yml:ro")]
    receivers = yaml.safe_load((ROOT / config).read_text())["receivers"]
    urls = [hook["url"] for receiver in receivers for hook in receiver.get("webhook_configs", [])]
    assert urls and all(url.startswith(f"http://{replica}:8000/alertmanager/") for url in urls)
    (data,) = [v for v in peer["volumes"] if v.endswith(":/alertmanager")]
    assert data not in services[other]["volumes"]  # each peer its own silences and notification log


def test_ha_prometheus_alerts_both_peers_and_scrapes_both_replicas() -> None:
    service = compose()["services"]["prometheus-ha"]
    assert service["image"] == compose()["services"]["prometheus"]["image"]
    assert "./deploy/prometheus/prometheus-ha.yml:/etc/prometheus/prometheus.yml:ro" in service["volumes"]
    config = yaml.safe_load(PROMETHEUS_HA.read_text())
    peers = [f"{peer}:9093" for peer in sorted(HA_PEERS)]
    assert config["alerting"]["alertmanagers"] == [{"static_configs": [{"targets": peers}]}]
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets["allim-bridge"] == [f"{replica}:8000" for replica in sorted(HA_PEERS.values())]
    assert targets["alertmanager"] == peers
    single = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    assert without_targets(config) == without_targets(single)  # the same rules, jobs and intervals
    result = run(binary("promtool"), "check", "config", PROMETHEUS_HA.name, cwd=PROMETHEUS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_exporter_reads_the_host_through_its_root_from_the_compose_network() -> None:
    """Host metrics of the machine, not of the container: the host's / read-only (rslave: later mounts show too) at
    the root --path.rootfs names. No host network: Prometheus keeps scraping it by its service name."""
    exporter = compose()["services"]["exporter"]
    args = parse_exporter_args(exporter["command"][1:])
    assert f"/:{args.path_rootfs}:ro,rslave" in exporter["volumes"]
    assert "network_mode" not in exporter and "pid" not in exporter
    for name in ("prometheus.yml", "prometheus-ha.yml"):
        jobs = {job["job_name"]: job for job in yaml.safe_load((PROMETHEUS_DIR / name).read_text())["scrape_configs"]}
        (target,) = jobs["allim-exporter"]["static_configs"]
        assert target["targets"] == ["exporter:8877"] and target["labels"]["instance"]


def test_prometheus_resends_firing_alerts_before_a_minute() -> None:
    """A Watchdog dropped at start (Prometheus had not found Alertmanager yet) is sent again well within a minute."""
    for name in ("prometheus", "prometheus-ha"):
        flags = [f for f in compose()["services"][name]["command"] if f.startswith("--rules.alert.resend-delay=")]
        (flag,) = flags
        assert parse_duration(flag.split("=", 1)[1]) < 30, name
