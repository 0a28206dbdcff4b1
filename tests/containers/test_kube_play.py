"""The rendered Kubernetes base (`kubectl kustomize deploy/kubernetes/base`) started with `podman kube play`: the
exporter and bridge Deployments and the host exporter's pod, with their ConfigMaps, Secrets and claim, each with its
securityContext as written (its user, a read-only root filesystem, no capabilities, no privilege escalation), answer
/readyz; the host exporter reports the node's / through the node's root mounted at /host.

What Podman 4.3 cannot do, and what this test does instead:
- Service, ServiceMonitor, PrometheusRule, AlertmanagerConfig and PodDisruptionBudget need a cluster: left out
  (tests/deploy/test_kube.py checks them against their schemas).
- `kind: DaemonSet` is not played (Podman 4.3 ignores it): its pod template runs as a Pod.
- Secret volumes: Podman 4.3 crashes on a required one (a nil pointer in kube.VolumeFromSecret) and leaves out an
  optional one even when the Secret exists. Each Secret's keys are written as files (mode `defaultMode`, group
  `fsGroup`, as the kubelet writes them) into a directory mounted in its place.
- Podman 4.3 publishes every containerPort on the host, hostPort or not (both exporters' 8877 would collide):
  each gets a free hostPort on 127.0.0.1.
- Probes are not run (Podman schedules healthchecks through systemd): the test asks /readyz itself, from inside each
  container as the kubelet's probe asks the pod's port.
"""

from __future__ import annotations

import copy
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from testkit.processes import free_port
from testkit.waiting import wait_until
from tests.containers.engine import Podman
from tests.deploy.kustomize import BASE, of_kind, render

pytestmark = pytest.mark.slow

PLAYED = ("ConfigMap", "PersistentVolumeClaim", "Deployment")
# The Secrets the README has the operator create: the bridge's token (required) and one exporter credential.
SECRETS = {
    "allim-bridge": {"BRIDGE_AUTH_TOKEN": secrets.token_hex(16)},
    "allim-exporter": {"HETRIXTOOLS_WEBHOOK_TOKEN": secrets.token_hex(16)},
}
READYZ = "import sys, urllib.request; sys.exit(urllib.request.urlopen(sys.argv[1], timeout=3).status != 200)"


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    """The pod spec of a Deployment or a Pod (the same object, to change in place); {} for other kinds."""
    if doc["kind"] == "Deployment":
        return doc["spec"]["template"]["spec"]  # type: ignore[no-any-return]
    return doc["spec"] if doc["kind"] == "Pod" else {}  # type: ignore[no-any-return]


def secret_files(pod: dict[str, Any], directory: Path) -> None:
    """Each Secret volume of the pod replaced by a directory holding the Secret's keys as the kubelet writes them:
    one file per key (or per listed item), mode `defaultMode`, group `fsGroup`."""
    group = pod.get("securityContext", {}).get("fsGroup", 0)
    for volume in pod.get("volumes", []):
        if "secret" not in volume:
            continue
        source = volume.pop("secret")
        folder = directory / f"{source['secretName']}-{volume['name']}"
        folder.mkdir()
        paths = {i["key"]: i["path"] for i in source.get("items", [])}
        for key, value in SECRETS.get(source["secretName"], {}).items():
            if paths and key not in paths:
                continue
            path = folder / paths.get(key, key)
            path.write_text(value)
            path.chmod(source.get("defaultMode", 0o644))
            os.chown(path, 0, group)
        os.chown(folder, 0, group)
        folder.chmod(0o750)
        volume["hostPath"] = {"path": str(folder), "type": "Directory"}


def as_pod(daemonset: dict[str, Any]) -> dict[str, Any]:
    template = daemonset["spec"]["template"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": daemonset["metadata"]["name"], "labels": template["metadata"]["labels"]},
        "spec": copy.deepcopy(template["spec"]),
    }


def playable(directory: Path) -> list[dict[str, Any]]:
    """The rendered base as Podman 4.3 can play it (see the module's docstring for every change made)."""
    docs = render(BASE)
    played = [d for d in docs if d["kind"] in PLAYED] + [as_pod(d) for d in of_kind(docs, "DaemonSet")]
    for doc in played:
        secret_files(pod_spec(doc), directory)
        for container in pod_spec(doc).get("containers", []):
            for port in container.get("ports", []):
                port.update(hostIP="127.0.0.1", hostPort=free_port())
    return played


@pytest.fixture
def played(podman: Podman, image: str, tmp_path: Path) -> Iterator[list[dict[str, Any]]]:
    docs = playable(tmp_path)
    manifest = tmp_path / "allim.yaml"
    manifest.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    network = f"allimkube{secrets.token_hex(3)}"
    podman("network", "create", network)
    try:
        podman("kube", "play", "--network", network, str(manifest))
        yield docs
    finally:
        podman("kube", "down", str(manifest), check=False)
        # Podman keeps a volume for each claim and each ConfigMap it mounted.
        for doc in of_kind(docs, "PersistentVolumeClaim") + of_kind(docs, "ConfigMap"):
            podman("volume", "rm", "--force", doc["metadata"]["name"], check=False)
        podman("network", "rm", "--force", network, check=False)


def containers_of(podman: Podman, docs: list[dict[str, Any]]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Podman's container name -> (pod spec, container spec) for every container of every workload played."""
    found = {}
    for doc in docs:
        if doc["kind"] not in ("Deployment", "Pod"):
            continue
        spec = pod_spec(doc)
        pod = f"{doc['metadata']['name']}-pod-0" if doc["kind"] == "Deployment" else doc["metadata"]["name"]
        for container in spec["containers"]:
            found[f"{pod}-{container['name']}"] = (spec, container)
    return found


def in_container(podman: Podman, name: str, *argv: str) -> str:
    return podman("exec", name, *argv).stdout


def test_kube_play_base_workloads_start_locked_down_and_answer_readyz(
    podman: Podman, played: list[dict[str, Any]]
) -> None:
    found = containers_of(podman, played)
    assert len(found) == 3  # allim-exporter, allim-bridge and the host exporter
    for name, (pod, container) in found.items():
        port = container["ports"][0]["containerPort"]
        readyz = ["python", "-c", READYZ, f"http://127.0.0.1:{port}{container['readinessProbe']['httpGet']['path']}"]
        try:
            wait_until(lambda n=name, r=readyz: podman("exec", n, *r, check=False).returncode == 0, 60, 0.5)
        except AssertionError:
            raise AssertionError(f"{name} never answered /readyz:\n{podman.logs(name)}") from None
        context = container["securityContext"]
        assert in_container(podman, name, "id", "-u").strip() == str(pod["securityContext"]["runAsUser"])
        status = dict(
            line.split(":\t", 1) for line in in_container(podman, name, "cat", "/proc/self/status").splitlines()
        )
        assert int(status["CapEff"], 16) == 0 and context["capabilities"] == {"drop": ["ALL"]}, name
        assert status["NoNewPrivs"].strip() == "1" and context["allowPrivilegeEscalation"] is False, name
        assert status["Seccomp"].strip() == "2", name  # filter mode: RuntimeDefault
        assert podman("exec", name, "touch", "/written", check=False).returncode != 0, f"{name}: / is writable"
    (host,) = [n for n in found if "host-exporter" in n]
    fetch = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8877/metrics').read().decode())"
    metrics = in_container(podman, host, "python", "-c", fetch)
    assert 'mountpoint="/"' in metrics and 'mountpoint="/host' not in metrics
    (bridge,) = [n for n in found if n.startswith("allim-bridge")]
    assert "outbox.sqlite3" in in_container(podman, bridge, "ls", "/data")  # the claim is writable by the bridge
