"""Fixtures of the container tests: Podman (skipped, with the reason, only where it cannot run containers at all),
the stand-in images, and the project's image built from the Dockerfile as shipped."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from allim import __version__
from testkit.processes import REPO
from tests.containers import standins
from tests.containers.engine import Podman, unusable_reason

# The Dockerfile's image as these tests build it (docker-compose.yml's own `allim:local` is built by `up --build`, in
# Podman's default OCI format), and the name the Kubernetes manifests give it (deploy/kubernetes/base).
IMAGE = "localhost/allim-test:docker-format"
KUBE_IMAGE = f"ghcr.io/allim/allim:{__version__}"


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    reason = unusable_reason()
    if reason:
        pytest.skip(f"Podman cannot run containers here: {reason}")
    return Podman(tmp_path_factory.mktemp("podman-logs"))


@pytest.fixture(scope="session")
def standin(podman: Podman) -> Callable[..., dict[str, str]]:
    """`standin("prometheus", "alertmanager")`: those stand-ins built (or found by recipe) and tagged."""

    def ensure(*names: str) -> dict[str, str]:
        return standins.ensure(podman, ("python", *names))

    return ensure


@pytest.fixture(scope="session")
def image(podman: Podman, standin: Callable[..., dict[str, str]]) -> str:
    """The Dockerfile built unchanged in the Docker format (which keeps its HEALTHCHECK), also under the name the
    Kubernetes manifests use."""
    standin()
    podman.logged(
        ["podman", "build", "--pull=never", "--format", "docker", "-t", IMAGE, "-t", KUBE_IMAGE, str(REPO)],
        "image-build.log",
    )
    return IMAGE
