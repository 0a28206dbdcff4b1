"""The Dockerfile as shipped: it builds (in Podman's default OCI format and in the Docker format, which keeps its
HEALTHCHECK), the image runs as its non-root user, and the image's own healthcheck passes for the exporter and for
the bridge."""

from __future__ import annotations

import secrets
import time

import pytest

from testkit.processes import REPO, free_port, http_ok
from testkit.waiting import wait_until
from tests.containers.engine import Podman, removed_after, wait_healthy

pytestmark = pytest.mark.slow

IMAGE_USER_ID = "10001"  # Dockerfile: user and group 10001; the Kubernetes manifests' runAsUser and runAsGroup


def test_image_builds_unchanged_in_both_formats(podman: Podman, image: str) -> None:
    name = image
    built = podman.inspect_image(name)
    healthcheck = built["Healthcheck"]["Test"]
    assert healthcheck[:2] == ["CMD", "python"] and "HEALTH_URL" in healthcheck[-1]
    assert built["Config"]["User"] == "allim"
    oci = f"localhost/allim-test:oci-{secrets.token_hex(3)}"
    try:
        podman.logged(["podman", "build", "--pull=never", "-t", oci, str(REPO)], "image-build-oci.log")
        in_oci = podman.inspect_image(oci)
        assert in_oci["Config"]["User"] == "allim"
        assert not in_oci.get("Healthcheck")  # the OCI format has no HEALTHCHECK: README says to build with Docker's
    finally:
        podman("rmi", oci, check=False)


@pytest.mark.parametrize(
    ("command", "port"),
    [
        ([], 8877),  # the image's CMD: the exporter
        (["allim-bridge", "--web.listen-address=:8000"], 8000),
    ],
    ids=["exporter", "bridge"],
)
def test_image_runs_as_non_root_and_its_healthcheck_passes(
    podman: Podman, image: str, command: list[str], port: int
) -> None:
    name = image
    container = f"allim-image-test-{secrets.token_hex(3)}"
    host_port = free_port()
    environment = [
        "-e",
        f"HEALTH_URL=http://127.0.0.1:{port}/healthz",
        "-e",
        f"BRIDGE_AUTH_TOKEN={secrets.token_hex(16)}",
    ]
    with removed_after(podman, container):
        started = time.monotonic()
        podman("run", "-d", "--name", container, "-p", f"127.0.0.1:{host_port}:{port}", *environment, name, *command)
        wait_until(lambda: http_ok(f"http://127.0.0.1:{host_port}/readyz"), timeout=60, what=f"{container} /readyz")
        ready_after = time.monotonic() - started
        assert podman("exec", container, "id", "-u").stdout.strip() == IMAGE_USER_ID
        assert podman("exec", container, "id", "-g").stdout.strip() == IMAGE_USER_ID
        wait_healthy(podman, container)
    assert ready_after < 30, f"/readyz after {ready_after:.1f}s"
