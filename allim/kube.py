"""Writes the Kubernetes manifests that repeat other deploy/ files, so a rule, route or panel is edited in one place.

`python -m allim.kube` (or `make kube`) writes deploy/kubernetes/base/generated/ from
deploy/prometheus/rules/*.yml (a PrometheusRule), deploy/alertmanager/alertmanager.yml (an AlertmanagerConfig),
deploy/grafana/dashboards/allim.json (a ConfigMap for the Grafana sidecar) and deploy/bridge/bridge.yml (a copy
the kustomization turns into the bridge's ConfigMap: kustomize reads no file outside its directory).
`--check` writes nothing and exits 1 when a committed file differs from what would be written.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from allim import generated, yamltext

ROOT = Path(__file__).resolve().parents[1]
GENERATED = Path("deploy/kubernetes/base/generated")
OWNED = ((GENERATED, "*"),)  # the generator writes the whole folder
RULES = Path("deploy/prometheus/rules")
ALERTMANAGER = Path("deploy/alertmanager/alertmanager.yml")
DASHBOARD = Path("deploy/grafana/dashboards/allim.json")
BRIDGE_CONFIG = Path("deploy/bridge/bridge.yml")

# The base's namespace (deploy/kubernetes/base/kustomization.yaml): Alertmanager runs in another namespace, so the
# webhook URLs name it. An overlay that moves allim elsewhere rewrites them (README "Kubernetes").
NAMESPACE = "allim"
BRIDGE_SERVICE = "allim-bridge"
BRIDGE_SECRET = "allim-bridge"
AUTH_TOKEN_KEY = "BRIDGE_AUTH_TOKEN"
# The host docker-compose.yml gives the bridge; alertmanager.yml's webhook URLs must point at it.
COMPOSE_BRIDGE_HOST = "bridge"

_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")
# alertmanager.yml keys the AlertmanagerConfig CRD (monitoring.coreos.com/v1alpha1) can carry, by their CRD names.
_ROUTE_KEYS = {
    "receiver": "receiver",
    "group_by": "groupBy",
    "group_wait": "groupWait",
    "group_interval": "groupInterval",
    "repeat_interval": "repeatInterval",
    "continue": "continue",
}
_WEBHOOK_KEYS = {"send_resolved": "sendResolved", "max_alerts": "maxAlerts", "timeout": "timeout"}


class GenerateError(Exception):
    """A source file holds something the generated manifests cannot express."""


def _labels(component: str) -> dict[str, str]:
    # part-of, instance, version and managed-by come from the kustomization's `labels`.
    return {"app.kubernetes.io/name": "allim", "app.kubernetes.io/component": component}


def prometheus_rule(rule_files: Mapping[str, str]) -> dict[str, Any]:
    """One PrometheusRule holding the groups of every rule file (by file name, its text), in file-name order."""
    groups: list[dict[str, Any]] = []
    for path, text in sorted(rule_files.items()):
        doc = yaml.safe_load(text)
        if set(doc) != {"groups"}:
            raise GenerateError(f"{path}: a rule file holds only `groups`, got {sorted(doc)}")
        groups += doc["groups"]
    names = [group["name"] for group in groups]
    if len(set(names)) != len(names):
        raise GenerateError(f"{RULES}: group names repeat across files: {names}")
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "allim", "labels": _labels("alert-rules")},
        "spec": {"groups": groups},
    }


def alert_names(rule: dict[str, Any]) -> list[str]:
    return sorted({r["alert"] for group in rule["spec"]["groups"] for r in group["rules"] if "alert" in r})


def parse_matcher(text: str) -> dict[str, str]:
    """`severity=~"high|warning"` as the CRD's {name, value, matchType}."""
    match = _MATCHER.match(text)
    if not match:
        raise GenerateError(f"{ALERTMANAGER}: cannot read matcher {text!r}")
    name, match_type, value = match.groups()
    if value.startswith('"'):
        value = json.loads(value)
    return {"name": name, "value": value, "matchType": match_type}


def _known(section: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(section) - allowed
    if unknown:
        raise GenerateError(f"{ALERTMANAGER}: {where}: no AlertmanagerConfig mapping for {sorted(unknown)}")


def _route(route: dict[str, Any], where: str, scope: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    _known(route, set(_ROUTE_KEYS) | {"matchers", "routes"}, where)
    out: dict[str, Any] = {}
    if "receiver" in route:
        out["receiver"] = route["receiver"]
    matchers = [*scope, *(parse_matcher(m) for m in route.get("matchers", []))]
    if matchers:
        out["matchers"] = matchers
    out.update({_ROUTE_KEYS[key]: value for key, value in route.items() if key in _ROUTE_KEYS})
    if "routes" in route:
        out["routes"] = [_route(child, f"{where}.routes[{i}]") for i, child in enumerate(route["routes"])]
    return out


def _bridge_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.hostname != COMPOSE_BRIDGE_HOST:
        raise GenerateError(f"{ALERTMANAGER}: {where}: expected a URL on the compose host {COMPOSE_BRIDGE_HOST!r}")
    return f"{parts.scheme}://{BRIDGE_SERVICE}.{NAMESPACE}.svc:{parts.port or 80}{parts.path}"


def _webhook(webhook: dict[str, Any], where: str) -> dict[str, Any]:
    _known(webhook, set(_WEBHOOK_KEYS) | {"url", "http_config"}, where)
    out: dict[str, Any] = {"url": _bridge_url(webhook["url"], where)}
    out.update({_WEBHOOK_KEYS[key]: value for key, value in webhook.items() if key in _WEBHOOK_KEYS})
    if "http_config" in webhook:
        _known(webhook["http_config"], {"authorization"}, f"{where}.http_config")
        authorization = webhook["http_config"]["authorization"]
        _known(authorization, {"type", "credentials_file"}, f"{where}.http_config.authorization")
        # The file compose mounts holds the bridge token; here the operator reads it from the bridge's Secret.
        credentials = {"name": BRIDGE_SECRET, "key": AUTH_TOKEN_KEY}
        out["httpConfig"] = {"authorization": {"type": authorization.get("type", "Bearer"), "credentials": credentials}}
    return out


def _receiver(receiver: dict[str, Any], where: str) -> dict[str, Any]:
    _known(receiver, {"name", "webhook_configs"}, where)
    out: dict[str, Any] = {"name": receiver["name"]}
    if "webhook_configs" in receiver:
        out["webhookConfigs"] = [
            _webhook(w, f"{where}.webhook_configs[{i}]") for i, w in enumerate(receiver["webhook_configs"])
        ]
    return out


def _inhibit_rule(rule: dict[str, Any], scope: dict[str, str], where: str) -> dict[str, Any]:
    _known(rule, {"source_matchers", "target_matchers", "equal"}, where)
    return {
        "sourceMatch": [parse_matcher(m) for m in rule.get("source_matchers", [])] + [scope],
        "targetMatch": [parse_matcher(m) for m in rule.get("target_matchers", [])] + [scope],
        "equal": list(rule.get("equal", [])),
    }


def alertmanager_config(config: dict[str, Any], alerts: Sequence[str]) -> dict[str, Any]:
    """The routes, receivers and inhibit rules of alertmanager.yml as an AlertmanagerConfig.

    In a shared Alertmanager this config's route is one branch of someone else's tree, so it is scoped to allim's
    own alerts (an `alertname` matcher listing every alert of the rule files); so are the inhibit rules. `global`
    (resolve_timeout) belongs to the Alertmanager itself and is left out.
    """
    _known(config, {"global", "route", "receivers", "inhibit_rules"}, "top level")
    scope = {"name": "alertname", "value": "|".join(re.escape(a) for a in sorted(alerts)), "matchType": "=~"}
    spec = {
        "route": _route(config["route"], "route", [scope]),
        "receivers": [_receiver(r, f"receivers[{i}]") for i, r in enumerate(config["receivers"])],
        "inhibitRules": [
            _inhibit_rule(rule, scope, f"inhibit_rules[{i}]") for i, rule in enumerate(config.get("inhibit_rules", []))
        ],
    }
    return {
        "apiVersion": "monitoring.coreos.com/v1alpha1",
        "kind": "AlertmanagerConfig",
        "metadata": {"name": "allim", "labels": _labels("alert-routing")},
        "spec": spec,
    }


def dashboard_config_map(dashboard_json: str) -> dict[str, Any]:
    """The dashboard, unchanged, in a ConfigMap that kube-prometheus-stack's Grafana sidecar loads."""
    json.loads(dashboard_json)  # fail here, not in Grafana, on a broken file
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "allim-grafana-dashboard",
            "labels": {**_labels("dashboard"), "grafana_dashboard": "1"},
        },
        "data": {DASHBOARD.name: dashboard_json},
    }


def _header(*sources: Path) -> str:
    names = ", ".join(str(s) for s in sources)
    return f"# Generated by `make kube` (python -m allim.kube) from {names}: edit there, not here.\n"


def render(doc: dict[str, Any], *sources: Path) -> str:
    return _header(*sources) + yamltext.dump(doc)


def generated_files(root: Path, rules: Mapping[str, str] | None = None) -> dict[Path, str]:
    """Every file of the generated directory (relative to `root`) and its content; `rules` (file name -> text)
    stands for the rule files on disk when `make rules` is about to write new ones."""
    if rules is None:
        rules = {path.name: path.read_text(encoding="utf-8") for path in (root / RULES).glob("*.yml")}
    rule = prometheus_rule(rules)
    alertmanager = yaml.safe_load((root / ALERTMANAGER).read_text(encoding="utf-8"))
    return {
        GENERATED / "prometheusrule.yaml": render(rule, RULES / "*.yml"),
        GENERATED / "alertmanagerconfig.yaml": render(
            alertmanager_config(alertmanager, alert_names(rule)), ALERTMANAGER, RULES / "*.yml"
        ),
        GENERATED / "grafana-dashboard.yaml": render(
            dashboard_config_map((root / DASHBOARD).read_text(encoding="utf-8")), DASHBOARD
        ),
        GENERATED / "bridge.yml": _header(BRIDGE_CONFIG)
        + "# On Kubernetes the environment named below comes from the Secret allim-bridge and the ConfigMap\n"
        + '# allim-settings (README "Kubernetes").\n'
        + (root / BRIDGE_CONFIG).read_text(encoding="utf-8"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m allim.kube", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository checkout (default: this one)")
    args = parser.parse_args(argv)
    try:
        files = generated_files(args.root)
    except (GenerateError, OSError, yaml.YAMLError, ValueError) as exc:
        print(f"allim.kube: {exc}", file=sys.stderr)
        return 2
    return generated.sync("allim.kube", "make kube", args.root, files, OWNED, check=args.check)


if __name__ == "__main__":
    sys.exit(main())
