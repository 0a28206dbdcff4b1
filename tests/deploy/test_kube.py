"""deploy/kubernetes: rendered with the real kubectl, validated offline, and compared with the files it is made from.

There is no cluster here. Core kinds validate against the Kubernetes OpenAPI schemas the PyPI package
kubernetes-validate ships; the Prometheus Operator's kinds against models of its CRDs (tests/deploy/kustomize.py).
What generated/ holds is compared, as data, with deploy/prometheus/rules/, deploy/alertmanager/alertmanager.yml,
the Grafana dashboard and the bridge config, after kustomize has rendered it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from allim import __version__, generated, kube
from bridge.__main__ import parse_args as parse_bridge_args
from bridge.channels.discord.config import DiscordConfig
from bridge.load import load_config as load_bridge_config
from exporter.__main__ import parse_args as parse_exporter_args
from exporter.config import load_config as load_exporter_config
from tests.deploy.kustomize import (
    BASE,
    OPERATOR_MODELS,
    RENDERINGS,
    config_map,
    containers,
    env_values,
    kubectl,
    labels,
    load_all,
    mounted_volumes,
    named,
    of_kind,
    operator_problems,
    render,
    selects,
)
from tests.deploy.support import (
    ALERTMANAGER_CONFIG,
    DEPLOY,
    README,
    ROOT,
    RULES_DIR,
    alert_rules,
    binary,
    rule_groups,
    run,
)

# The oldest Kubernetes these manifests claim (PodDisruptionBudget.unhealthyPodEvictionPolicy is GA in 1.31) and
# the newest kubernetes-validate ships schemas for.
KUBERNETES_VERSIONS = ("1.31", "1.37")
RECOMMENDED_LABELS = {f"app.kubernetes.io/{key}" for key in ("name", "instance", "component", "part-of", "version")}
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "allim.json"
BRIDGE_CONFIG = DEPLOY / "bridge" / "bridge.yml"
IMAGE = f"ghcr.io/allim/allim:{__version__}"
# The Deployment each service's code runs in.
DEPLOYMENT_OF = {"exporter": "allim-exporter", "bridge": "allim-bridge"}
HOST_EXPORTER = "allim-host-exporter"  # the DaemonSet: host metrics, one pod per node
PROGRAM_OF = {**{d: d for d in DEPLOYMENT_OF.values()}, HOST_EXPORTER: "allim-exporter"}


def rendered(name: str) -> list[dict[str, Any]]:
    return render(RENDERINGS[name])


def deployments(name: str) -> list[dict[str, Any]]:
    return of_kind(rendered(name), "Deployment")


def workloads(name: str) -> list[dict[str, Any]]:
    """What runs pods: the Deployments and the host exporter's DaemonSet."""
    return deployments(name) + of_kind(rendered(name), "DaemonSet")


def only_container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = containers(deployment)
    return container


def secret_env_names(package: str) -> set[str]:
    """The variables `package` reads credentials from (Settings.secret, so each also as <NAME>_FILE)."""
    source = "\n".join(p.read_text() for p in (ROOT / package).rglob("*.py"))
    names = set(re.findall(r'\.secret\([^)]*env="([A-Z0-9_]+)"', source))
    if package == "bridge":
        names.add("DISCORD_WEBHOOK_URL")  # bridge/config.py passes it to secret() through a parameter
    return names


# -- rendering and schemas -------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERINGS)
def test_kustomize_renders(name: str) -> None:
    kinds = {doc["kind"] for doc in rendered(name)}
    assert kinds >= {"Deployment", "Service", "ServiceMonitor", "PrometheusRule", "AlertmanagerConfig", "ConfigMap"}
    assert all(doc["metadata"].get("namespace") == kube.NAMESPACE for doc in rendered(name))


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", RENDERINGS)
def test_core_resources_match_the_kubernetes_schemas(name: str, version: str) -> None:
    problems = []
    for doc in rendered(name):
        if (doc["apiVersion"], doc["kind"]) in OPERATOR_MODELS:
            continue
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {exc.message}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", RENDERINGS)
def test_operator_resources_match_their_crds(name: str) -> None:
    docs = [doc for doc in rendered(name) if (doc["apiVersion"], doc["kind"]) in OPERATOR_MODELS]
    assert {doc["kind"] for doc in docs} == {"ServiceMonitor", "PrometheusRule", "AlertmanagerConfig"}
    problems = [f"{doc['kind']}/{doc['metadata']['name']}: {p}" for doc in docs for p in operator_problems(doc)]
    assert not problems, "\n".join(problems)


def test_crd_check_catches_a_misspelled_field() -> None:
    config = named(rendered("base"), "AlertmanagerConfig", "allim")
    config["spec"]["receivers"][0]["webhookConfigs"][0]["sendResolve"] = True
    config["spec"]["route"]["routes"][0]["matchers"][0]["matchType"] = "=="
    problems = operator_problems(config)
    assert any("sendResolve" in p for p in problems), problems
    assert any("routes[0]" in p and "matchType" in p for p in problems), problems


# -- security --------------------------------------------------------------------------------------


def _quantity(text: str) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


@pytest.mark.parametrize("name", RENDERINGS)
def test_deployments_run_locked_down(name: str) -> None:
    for deployment in workloads(name):
        pod = deployment["spec"]["template"]["spec"]
        host_paths = [v for v in pod.get("volumes", []) if "hostPath" in v]
        if deployment["metadata"]["name"] != HOST_EXPORTER:
            assert not host_paths, deployment["metadata"]["name"]
        pod_context = pod.get("securityContext", {})
        assert pod.get("automountServiceAccountToken") is False
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
        for container in containers(deployment):
            where = f"{deployment['metadata']['name']}/{container['name']}"
            context = container.get("securityContext", {})
            assert context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is True, where
            assert context.get("runAsUser", pod_context.get("runAsUser")) not in (None, 0), where
            assert context.get("readOnlyRootFilesystem") is True, where
            assert context.get("allowPrivilegeEscalation") is False, where
            assert not context.get("privileged"), where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context.get("seccompProfile", pod_context.get("seccompProfile")) == {"type": "RuntimeDefault"}, where
            resources = container["resources"]
            for resource in ("cpu", "memory"):
                request, limit = resources["requests"][resource], resources["limits"][resource]
                assert _quantity(request) <= _quantity(limit), f"{where}: {resource} request above its limit"
            (port,) = container["ports"]
            assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port["name"]}, where
            assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port["name"]}, where


@pytest.mark.parametrize("name", RENDERINGS)
def test_no_secret_reaches_the_environment_as_a_value(name: str) -> None:
    for deployment in deployments(name):
        for container in containers(deployment):
            where = f"{deployment['metadata']['name']}/{container['name']}"
            secret_dirs = [path for path, volume in mounted_volumes(deployment, container) if "secret" in volume]
            assert not any("secretRef" in source for source in container.get("envFrom", [])), where
            for variable in container.get("env", []):
                assert "secretKeyRef" not in variable.get("valueFrom", {}), f"{where}: {variable['name']}"
            for variable, value in env_values(container).items():
                assert variable not in secret_env_names("exporter") | secret_env_names("bridge"), f"{where}: {variable}"
                if variable.endswith("_FILE") or variable in {"SECRETS_DIR", "GOOGLE_APPLICATION_CREDENTIALS"}:
                    assert any(value.startswith(d) for d in secret_dirs), f"{where}: {variable} is not in a Secret"


@pytest.mark.parametrize("service", DEPLOYMENT_OF)
def test_every_credential_the_code_reads_is_offered_as_a_file(service: str) -> None:
    """A new secret in the code must be added to SECRET_NAMES (optional) or set as <NAME>_FILE (required)."""
    offered: set[str] = set()
    for name in RENDERINGS:
        env = env_values(only_container(named(rendered(name), "Deployment", DEPLOYMENT_OF[service])))
        offered |= set(env["SECRET_NAMES"].split()) | {v.removesuffix("_FILE") for v in env if v.endswith("_FILE")}
    assert secret_env_names(service) <= offered
    assert offered <= secret_env_names("exporter") | secret_env_names("bridge") | {"BRIDGE_DATABASE_URL"}


def test_secret_files_become_file_variables(tmp_path: Path) -> None:
    """The containers' shell prologue, run for real: a key the Secret holds gets <NAME>_FILE, others stay unset."""
    for deployment in deployments("base"):
        container = only_container(deployment)
        secrets_dir = tmp_path / deployment["metadata"]["name"]
        secrets_dir.mkdir()
        present, *absent = env_values(container)["SECRET_NAMES"].split()
        (secrets_dir / present).write_text("s3cret")
        (secrets_dir / "not-listed").write_text("x")
        env = {**env_values(container), "SECRETS_DIR": str(secrets_dir), "PATH": os.environ["PATH"]}
        show_env = [sys.executable, "-c", "import json, os; print(json.dumps(dict(os.environ)))"]
        result = subprocess.run([*container["command"], *show_env], env=env, capture_output=True, text=True, timeout=30)
        assert result.returncode == 0, result.stderr
        seen = json.loads(result.stdout)
        assert seen[f"{present}_FILE"] == str(secrets_dir / present)
        assert not {f"{name}_FILE" for name in [*absent, "not-listed"]} & set(seen)
        assert "s3cret" not in result.stdout


# -- services and scraping -------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERINGS)
def test_service_monitors_scrape_the_services_of_the_pods(name: str) -> None:
    docs = rendered(name)
    for monitor in of_kind(docs, "ServiceMonitor"):
        spec = monitor["spec"]
        assert "namespaceSelector" not in spec and "jobLabel" not in spec
        services = [s for s in of_kind(docs, "Service") if selects(spec["selector"]["matchLabels"], labels(s))]
        assert len(services) == 1, monitor["metadata"]["name"]
        (service,) = services
        assert {e["port"] for e in spec["endpoints"]} <= {p["name"] for p in service["spec"]["ports"]}
        assert all(e.get("path", "/metrics") == "/metrics" for e in spec["endpoints"])
        workloads = of_kind(docs, "Deployment") + of_kind(docs, "DaemonSet")
        pods = [d for d in workloads if selects(service["spec"]["selector"], _pod_labels(d))]
        assert len(pods) == 1, service["metadata"]["name"]
        container_ports = {p["name"] for p in only_container(pods[0])["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= container_ports
        assert selects(pods[0]["spec"]["selector"]["matchLabels"], _pod_labels(pods[0]))


def _pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def test_jobs_the_rules_and_dashboard_name_are_the_services() -> None:
    """Without jobLabel the operator names the job after the Service: job="allim-exporter" must stay true."""
    texts = [p.read_text() for p in RULES_DIR.glob("*.yml")] + [DASHBOARD.read_text()]
    jobs = {job for text in texts for job in re.findall(r'job=\\?"([^"\\]+)', text)}
    assert jobs == {"allim-exporter", "allim-bridge"}
    assert jobs <= {s["metadata"]["name"] for s in of_kind(rendered("base"), "Service")}


@pytest.mark.parametrize("name", RENDERINGS)
def test_every_resource_has_the_recommended_labels(name: str) -> None:
    for doc in rendered(name):
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        assert RECOMMENDED_LABELS <= set(labels(doc)), where
        assert labels(doc)["app.kubernetes.io/part-of"] == "allim", where
        assert labels(doc)["app.kubernetes.io/version"] == __version__, where
    for deployment in workloads(name):
        assert RECOMMENDED_LABELS <= set(_pod_labels(deployment))
        assert only_container(deployment)["image"] == IMAGE


# -- generated from the other deploy/ files --------------------------------------------------------


def test_generated_files_are_current() -> None:
    """`make kube` on a clean checkout changes nothing; if this fails, run it and commit the result."""
    assert generated.stale(ROOT, kube.generated_files(ROOT), kube.OWNED) == []
    result = run(sys.executable, "-m", "allim.kube", "--check")
    assert result.returncode == 0, result.stderr


def test_check_fails_until_a_changed_threshold_is_regenerated(tmp_path: Path) -> None:
    for source in (kube.RULES, kube.ALERTMANAGER, kube.DASHBOARD, kube.BRIDGE_CONFIG, kube.GENERATED):
        src, dst = ROOT / source, tmp_path / source
        dst.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst)
    rules = tmp_path / kube.RULES / "sentry.yml"
    assert "> 1000" in rules.read_text()
    rules.write_text(rules.read_text().replace("> 1000", "> 1500"))

    check = [sys.executable, "-m", "allim.kube", "--check", "--root", str(tmp_path)]
    stale = run(*check)
    assert stale.returncode == 1
    assert "prometheusrule.yaml is out of date" in stale.stderr
    assert run(sys.executable, "-m", "allim.kube", "--root", str(tmp_path)).returncode == 0
    assert "> 1500" in (tmp_path / kube.GENERATED / "prometheusrule.yaml").read_text()
    assert run(*check).returncode == 0


def test_prometheus_rule_holds_exactly_the_rule_files() -> None:
    rule = named(rendered("base"), "PrometheusRule", "allim")
    assert rule["spec"]["groups"] == rule_groups()


def test_prometheus_rule_passes_promtool(tmp_path: Path) -> None:
    rule = named(rendered("base"), "PrometheusRule", "allim")
    path = tmp_path / "allim.rules.yml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}, sort_keys=False))
    result = run(binary("promtool"), "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    rules = sum(len(group["rules"]) for group in rule_groups())
    assert f"SUCCESS: {rules} rules found" in result.stdout


def _matcher_text(matcher: dict[str, str]) -> str:
    return f"{matcher['name']}{matcher['matchType']}{json.dumps(matcher['value'])}"


def _as_alertmanager_route(route: dict[str, Any], scope: dict[str, str] | None) -> dict[str, Any]:
    """An AlertmanagerConfig route in alertmanager.yml's spelling, without the scope matcher."""
    names = {v: k for k, v in kube._ROUTE_KEYS.items()}
    out: dict[str, Any] = {names[key]: value for key, value in route.items() if key in names}
    matchers = [_matcher_text(m) for m in route.get("matchers", []) if m != scope]
    if matchers:
        out["matchers"] = matchers
    if "routes" in route:
        out["routes"] = [_as_alertmanager_route(child, None) for child in route["routes"]]
    return out


def _scope(config: dict[str, Any]) -> dict[str, str]:
    return config["spec"]["route"]["matchers"][0]


def test_alertmanager_config_routes_are_alertmanager_yml() -> None:
    config = named(rendered("base"), "AlertmanagerConfig", "allim")
    expected = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    assert _as_alertmanager_route(config["spec"]["route"], _scope(config)) == expected["route"]
    inhibit_rules = [
        {
            "source_matchers": [_matcher_text(m) for m in rule["sourceMatch"] if m != _scope(config)],
            "target_matchers": [_matcher_text(m) for m in rule["targetMatch"] if m != _scope(config)],
            "equal": rule["equal"],
        }
        for rule in config["spec"]["inhibitRules"]
    ]
    assert inhibit_rules == expected["inhibit_rules"]


def test_alertmanager_config_receivers_post_to_the_bridge_service() -> None:
    docs = rendered("base")
    config = named(docs, "AlertmanagerConfig", "allim")
    service = named(docs, "Service", kube.BRIDGE_SERVICE)
    bridge = named(docs, "Deployment", "allim-bridge")
    token_file = env_values(only_container(bridge))["BRIDGE_AUTH_TOKEN_FILE"]
    secret_dirs = {
        p: v["secret"]["secretName"] for p, v in mounted_volumes(bridge, only_container(bridge)) if "secret" in v
    }
    expected = {r["name"]: r for r in yaml.safe_load(ALERTMANAGER_CONFIG.read_text())["receivers"]}
    receivers = {r["name"]: r for r in config["spec"]["receivers"]}
    assert receivers.keys() == expected.keys()
    for name, receiver in receivers.items():
        hooks, expected_hooks = receiver.get("webhookConfigs", []), expected[name].get("webhook_configs", [])
        assert len(hooks) == len(expected_hooks), name
        for hook, expected_hook in zip(hooks, expected_hooks, strict=True):
            url, expected_url = urlsplit(hook["url"]), urlsplit(expected_hook["url"])
            assert url.hostname == f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
            assert url.port == service["spec"]["ports"][0]["port"] == expected_url.port
            assert url.path == expected_url.path == f"/alertmanager/{name}"
            assert hook["sendResolved"] == expected_hook["send_resolved"]
            assert hook["maxAlerts"] == expected_hook["max_alerts"]
            authorization = hook["httpConfig"]["authorization"]
            assert authorization["type"] == expected_hook["http_config"]["authorization"]["type"]
            # The operator reads the token from the very file the bridge checks it against.
            secret = secret_dirs[str(Path(token_file).parent)]
            assert authorization["credentials"] == {"name": secret, "key": Path(token_file).name}


def test_alertmanager_config_is_scoped_to_allims_alerts() -> None:
    config = named(rendered("base"), "AlertmanagerConfig", "allim")
    alerts = {r["alert"] for r in alert_rules()}
    scope = _scope(config)
    assert scope["name"] == "alertname" and scope["matchType"] == "=~"
    assert set(scope["value"].split("|")) == alerts
    for rule in config["spec"]["inhibitRules"]:
        assert scope in rule["sourceMatch"] and scope in rule["targetMatch"]


def test_every_webhook_names_a_receiver_of_the_bridge_config(tmp_path: Path) -> None:
    """The bridge, configured as the Deployment configures it, knows every receiver Alertmanager posts to."""
    docs = rendered("base")
    bridge = only_container(named(docs, "Deployment", "allim-bridge"))
    bridge_config = config_map(docs, "allim-bridge-config")
    config_file = tmp_path / "bridge.yml"
    config_file.write_text(bridge_config["data"]["bridge.yml"])
    (tmp_path / "token").write_text("t0ken")
    (tmp_path / "discord").write_text("https://discord.example/api/webhooks/1/x")
    env = {**env_values(bridge), "BRIDGE_AUTH_TOKEN_FILE": str(tmp_path / "token"), "BRIDGE_DATA_DIR": str(tmp_path)}
    env["DISCORD_WEBHOOK_URL_FILE"] = str(tmp_path / "discord")
    config = load_bridge_config(str(config_file), env)
    assert config.auth_token is not None and config.auth_token.reveal() == "t0ken"
    posted = {
        urlsplit(hook["url"]).path.rsplit("/", 1)[1]
        for receiver in named(docs, "AlertmanagerConfig", "allim")["spec"]["receivers"]
        for hook in receiver.get("webhookConfigs", [])
    }
    assert posted <= set(config.receivers)
    assert config.receivers["critical"].of(DiscordConfig) and config.receivers["default"].of(DiscordConfig)


def test_bridge_config_map_is_bridge_yml() -> None:
    docs = rendered("base")
    bridge_config = config_map(docs, "allim-bridge-config")
    assert yaml.safe_load(bridge_config["data"]["bridge.yml"]) == yaml.safe_load(BRIDGE_CONFIG.read_text())
    bridge = named(docs, "Deployment", "allim-bridge")
    config_flag = next(a for a in only_container(bridge)["args"] if a.startswith("--config.file="))
    mounts = dict(mounted_volumes(bridge, only_container(bridge)))
    assert (
        mounts[str(Path(config_flag.split("=", 1)[1]).parent)]["configMap"]["name"] == bridge_config["metadata"]["name"]
    )


def test_exporter_config_leaves_host_metrics_to_node_exporter() -> None:
    docs = rendered("base")
    exporter_config = config_map(docs, "allim-exporter-config")
    path = BASE / "exporter-config.yml"
    assert yaml.safe_load(exporter_config["data"]["exporter.yml"]) == yaml.safe_load(path.read_text())
    # With the container's environment (GOOGLE_APPLICATION_CREDENTIALS names a file that need not exist).
    env = env_values(only_container(named(docs, "Deployment", "allim-exporter")))
    assert load_exporter_config(str(path), env).enabled == []


@pytest.mark.parametrize("name", RENDERINGS)
def test_container_args_are_what_the_services_accept(name: str) -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    parsers = {"allim-exporter": parse_exporter_args, "allim-bridge": parse_bridge_args}
    for deployment in workloads(name):
        container = only_container(deployment)
        program, *flags = container["args"]
        assert program in scripts and program == PROGRAM_OF[deployment["metadata"]["name"]]
        args = parsers[program](flags)  # argparse exits on a flag the service does not know
        assert int(args.listen_address.rsplit(":", 1)[1]) == container["ports"][0]["containerPort"]
        mounts = dict(mounted_volumes(deployment, container))
        assert "configMap" in mounts[str(Path(args.config_file).parent)]


def test_host_exporter_reads_each_node_through_its_root_read_only() -> None:
    """One pod per node (every node: it tolerates any taint), the node's / read-only at the --path.rootfs it
    names, no host network or PID namespace (the node's /proc under the root has the node's mounts and network),
    and a config that turns every API source off so no upstream is polled once per node."""
    docs = rendered("base")
    daemonset = named(docs, "DaemonSet", HOST_EXPORTER)
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"operator": "Exists"}]
    assert not pod.get("hostNetwork") and not pod.get("hostPID")
    container = only_container(daemonset)
    args = parse_exporter_args(container["args"][1:])
    (host_volume,) = [v for v in pod["volumes"] if "hostPath" in v]
    assert host_volume["hostPath"]["path"] == "/"
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == host_volume["name"]]
    assert mount == {
        "name": host_volume["name"],
        "mountPath": args.path_rootfs,
        "readOnly": True,
        "mountPropagation": "HostToContainer",
    }
    config = config_map(docs, "allim-host-exporter-config")["data"]["exporter.yml"]
    env = {"SENTRY_TOKEN": "t", "SENTRY_ORG": "o", "HETRIXTOOLS_API_KEY": "k"}
    path = BASE / "host-exporter-config.yml"
    assert yaml.safe_load(config) == yaml.safe_load(path.read_text())
    assert load_exporter_config(str(path), env).enabled == ["host"]  # even with API credentials at hand
    (endpoint,) = named(docs, "ServiceMonitor", HOST_EXPORTER)["spec"]["endpoints"]
    relabel = {r["targetLabel"]: r for r in endpoint["relabelings"]}
    assert relabel["job"]["replacement"] == "allim-exporter"  # the job the rules and the dashboard read
    assert relabel["instance"]["sourceLabels"] == ["__meta_kubernetes_pod_node_name"]


def test_dashboard_config_map_is_the_dashboard_file() -> None:
    dashboard = config_map(rendered("base"), "allim-grafana-dashboard")
    assert labels(dashboard)["grafana_dashboard"] == "1"
    assert dashboard["data"] == {"allim.json": DASHBOARD.read_text()}
    assert json.loads(dashboard["data"]["allim.json"]) == json.loads(DASHBOARD.read_text())


def test_generator_refuses_what_it_cannot_carry() -> None:
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    config["receivers"].append({"name": "mail", "email_configs": [{"to": "a@example.com"}]})
    with pytest.raises(
        kube.GenerateError, match=r"receivers\[4\]: no AlertmanagerConfig mapping for \['email_configs'\]"
    ):
        kube.alertmanager_config(config, ["Watchdog"])


def test_matchers_parse_as_alertmanager_reads_them() -> None:
    assert kube.parse_matcher('severity=~"high|warning"') == {
        "name": "severity",
        "value": "high|warning",
        "matchType": "=~",
    }
    assert kube.parse_matcher('team != "a \\"b\\""') == {"name": "team", "value": 'a "b"', "matchType": "!="}
    assert kube.parse_matcher("alertname=Watchdog") == {"name": "alertname", "value": "Watchdog", "matchType": "="}
    with pytest.raises(kube.GenerateError):
        kube.parse_matcher("not a matcher")


# -- the single-replica base and the HA overlay ----------------------------------------------------


def test_base_bridge_is_one_pod_on_its_volume() -> None:
    docs = rendered("base")
    bridge = named(docs, "Deployment", "allim-bridge")
    assert bridge["spec"]["replicas"] == 1
    assert bridge["spec"]["strategy"] == {"type": "Recreate"}
    mounts = dict(mounted_volumes(bridge, only_container(bridge)))
    data_dir = env_values(only_container(bridge))["BRIDGE_DATA_DIR"]
    claim = mounts[data_dir]["persistentVolumeClaim"]["claimName"]
    assert named(docs, "PersistentVolumeClaim", claim)["spec"]["accessModes"] == ["ReadWriteOnce"]
    budget = named(docs, "PodDisruptionBudget", "allim-bridge")["spec"]
    assert budget["maxUnavailable"] == 1 and "minAvailable" not in budget  # minAvailable 1 would block drains
    assert selects(budget["selector"]["matchLabels"], _pod_labels(bridge))


def test_ha_bridge_runs_replicas_on_postgresql() -> None:
    docs = rendered("ha")
    bridge = named(docs, "Deployment", "allim-bridge")
    spec, container = bridge["spec"], only_container(bridge)
    assert spec["replicas"] >= 2
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert not of_kind(docs, "PersistentVolumeClaim")
    volumes = [v for _, v in mounted_volumes(bridge, container)]
    assert not any("persistentVolumeClaim" in v for v in volumes)
    url_file = env_values(container)["BRIDGE_DATABASE_URL_FILE"]
    mounts = dict(mounted_volumes(bridge, container))
    database = mounts[str(Path(url_file).parent)]["secret"]
    assert {"key": "url", "path": Path(url_file).name} in database["items"]
    terms = spec["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert any(
        t["topologyKey"] == "kubernetes.io/hostname" and selects(t["labelSelector"]["matchLabels"], _pod_labels(bridge))
        for t in terms
    )
    budget = named(docs, "PodDisruptionBudget", "allim-bridge")["spec"]
    assert budget["minAvailable"] == 1 and "maxUnavailable" not in budget
    assert _unchanged_by_ha(docs) == _unchanged_by_ha(rendered("base"))


def _unchanged_by_ha(docs: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    changed = {("Deployment", "allim-bridge"), ("PodDisruptionBudget", "allim-bridge")}
    changed.add(("PersistentVolumeClaim", "allim-bridge-data"))
    keyed = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    return {key: doc for key, doc in keyed.items() if key not in changed}


# -- the README's overlays -------------------------------------------------------------------------


def _readme_overlays() -> list[str]:
    section = re.search(r"\n### Kubernetes\n(.*?)(?=\n## |\n### |\Z)", README.read_text(), re.DOTALL)
    assert section, 'README.md has no "### Kubernetes" section'
    blocks = re.findall(r"```yaml\n(.*?)```", section.group(1), re.DOTALL)
    return [block for block in blocks if "kind: Kustomization" in block]


def _render_readme_overlay(block: str, tmp_path: Path) -> list[dict[str, Any]]:
    base = os.path.relpath(BASE, tmp_path)
    text = re.sub(r"^(  - )\S*deploy/kubernetes/base\S*", rf"\g<1>{base}", block, count=1, flags=re.MULTILINE)
    assert base in text, "the README overlay should list deploy/kubernetes/base under resources"
    (tmp_path / "kustomization.yaml").write_text(text)
    result = run(kubectl(), "kustomize", str(tmp_path))
    assert result.returncode == 0, result.stderr
    return load_all(result.stdout)


def test_readme_overlay_sets_the_release_label(tmp_path: Path) -> None:
    (block,) = [b for b in _readme_overlays() if "release" in b]
    docs = _render_readme_overlay(block, tmp_path)
    release = yaml.safe_load(block)["patches"][0]["patch"]
    value = yaml.safe_load(release)[0]["value"]
    for kind in ("ServiceMonitor", "PrometheusRule"):
        assert all(labels(doc).get("release") == value for doc in of_kind(docs, kind)), kind


def test_readme_overlay_moves_allim_to_another_namespace(tmp_path: Path) -> None:
    (block,) = [b for b in _readme_overlays() if "replacements" in b]
    namespace = yaml.safe_load(block)["namespace"]
    assert namespace != kube.NAMESPACE
    docs = _render_readme_overlay(block, tmp_path)
    assert all(doc["metadata"]["namespace"] == namespace for doc in docs)
    config = named(docs, "AlertmanagerConfig", "allim")
    hosts = {urlsplit(h["url"]).hostname for r in config["spec"]["receivers"] for h in r.get("webhookConfigs", [])}
    assert hosts == {f"{kube.BRIDGE_SERVICE}.{namespace}.svc"}
