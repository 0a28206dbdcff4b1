"""docker-compose.yml, the Dockerfile and .env.example, checked without a Docker engine.

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
import yaml

from tests.deploy.support import ROOT

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = Path(__file__).with_name("compose-spec.json")
SCHEMA_SHA256 = "0dc04bd346dcfee1b1419628fff79937bbf076925f298f272a2b490e2b112bac"
SERVICES = {"exporter", "bridge", "prometheus", "alertmanager", "grafana"}
ALLIM_SERVICES = ("exporter", "bridge")
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
    assert set(services) == SERVICES
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
    assert "pip install ." in text
