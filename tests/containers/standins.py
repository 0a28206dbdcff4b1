"""Stand-ins for the images the project names, built from Debian's packages: no container registry is reachable.

One base, a Debian bookworm minbase made by mmdebstrap and imported into Podman, is shared by every stand-in;
each stand-in is a small Containerfile on it (tests/containers/standins/). Images are kept in Podman's storage
under a tag made of their recipe's hash (the mmdebstrap command, the Containerfile and its files, and for the
Python stand-in the host's extra CA certificates), so a second run reuses them and a changed recipe rebuilds.
Each is then tagged with the name the project uses (docker-compose.yml's `image:`, the Dockerfile's `FROM`), so
both are used exactly as shipped. Grafana has no Debian package: it has no stand-in.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from testkit.processes import REPO
from tests.containers.engine import Podman

RECIPES = Path(__file__).with_name("standins")
# The mirror these machines use (a dated snapshot, hence the Check-Valid-Until options).
MIRRORS = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
BASE_COMMAND = (
    "mmdebstrap",
    "--variant=minbase",
    '--aptopt=Acquire::Check-Valid-Until "false"',
    '--aptopt=Acquire::Check-Date "false"',
    # As Debian's slim images: no manuals, documentation (copyright files aside) or translations, in the base and
    # in whatever the stand-ins install on it (mmdebstrap keeps these dpkg options in the image).
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "bookworm",
)
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
LOCK = Path(tempfile.gettempdir()) / "allim-standins.lock"


@dataclass(frozen=True)
class StandIn:
    """A stand-in: which repository of the project's images it replaces and the recipe files that build it."""

    name: str
    repository: str  # as the project writes it, without the tag: "prom/prometheus"
    files: tuple[str, ...]  # under standins/, the Containerfile first
    host_ca: bool = False


STANDINS = (
    StandIn("python", "python", ("python.Containerfile",), host_ca=True),
    StandIn("prometheus", "prom/prometheus", ("prometheus.Containerfile",)),
    StandIn("alertmanager", "prom/alertmanager", ("alertmanager.Containerfile",)),
    StandIn("postgres", "postgres", ("postgres.Containerfile", "postgres-entrypoint.sh")),
)


def qualified(image: str) -> str:
    """Docker's reading of a short image name: "python:3.11-slim" is docker.io/library/python:3.11-slim."""
    first = image.split("/", 1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"docker.io/{image}" if "/" in image else f"docker.io/library/{image}"


def project_images() -> list[str]:
    """Every image the project pulls: the Dockerfile's FROM lines and docker-compose.yml's `image:` of services
    without a `build:` (those are built, not pulled)."""
    stages = re.findall(r"^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", (REPO / "Dockerfile").read_text(), re.I | re.M)
    images = [image for image, _ in stages if image not in {name for _, name in stages}]
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"].values()
    images += [s["image"] for s in services if "build" not in s]
    return sorted({qualified(i) for i in images})


def names_for(standin: StandIn) -> list[str]:
    """The project's names for this stand-in (every tag of its repository the project uses)."""
    repository = qualified(standin.repository + ":x").rsplit(":", 1)[0]
    return [i for i in project_images() if i.rsplit(":", 1)[0] == repository]


def _digest(parts: Iterable[bytes]) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(hashlib.sha256(part).digest())
    return sha.hexdigest()[:16]


def host_certificates() -> list[Path]:
    return sorted(HOST_CA_DIR.rglob("*.crt")) if HOST_CA_DIR.is_dir() else []


def base_key() -> str:
    return _digest(arg.encode() for arg in (*BASE_COMMAND, *MIRRORS))


def recipe_key(standin: StandIn) -> str:
    parts = [base_key().encode()] + [(RECIPES / f).read_bytes() for f in standin.files]
    if standin.host_ca:
        parts += [p.read_bytes() for p in host_certificates()]
    return _digest(parts)


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """One builder at a time on this machine (two test runs share Podman's storage)."""
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_base(podman: Podman) -> str:
    """The shared minbase image, made with mmdebstrap unless the current recipe's tag is already there."""
    tag = f"localhost/allim-standin-base:{base_key()}"
    if podman.image_exists(tag):
        return tag
    with tempfile.TemporaryDirectory(prefix="allim-standin-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        podman.logged([*BASE_COMMAND, str(rootfs), *MIRRORS], "standin-base.log")
        podman.logged(["podman", "import", "--change", 'CMD ["/bin/bash"]', str(rootfs), tag], "standin-base.log")
    return tag


def ensure(podman: Podman, names: Iterable[str]) -> dict[str, str]:
    """Each named stand-in built (or found) and tagged with the project's names; {name: its recipe tag}."""
    wanted = [s for s in STANDINS if s.name in set(names)]
    tags = {}
    with _exclusive():
        base = ensure_base(podman)
        for standin in wanted:
            tags[standin.name] = _ensure_one(podman, standin, base)
        _forget_other_versions(podman, "localhost/allim-standin-base", base)  # once no stand-in is built on them
    return tags


def _ensure_one(podman: Podman, standin: StandIn, base: str) -> str:
    repository = f"localhost/allim-standin-{standin.name}"
    tag = f"{repository}:{recipe_key(standin)}"
    if not podman.image_exists(tag):
        with tempfile.TemporaryDirectory(prefix="allim-standin-") as tmp:
            context = Path(tmp)
            for name in standin.files:
                shutil.copy2(RECIPES / name, context / name)
            certificates = context / "ca-certificates"
            certificates.mkdir()
            for index, path in enumerate(host_certificates() if standin.host_ca else []):
                shutil.copy(path, certificates / f"host-{index}-{path.name}")
            build = ["podman", "build", "--pull=never", "--build-arg", f"BASE={base}"]
            podman.logged([*build, "-f", standin.files[0], "-t", tag, "."], f"standin-{standin.name}.log", cwd=context)
    for name in names_for(standin):
        podman("tag", tag, name)
    _forget_other_versions(podman, repository, tag)
    return tag


def _forget_other_versions(podman: Podman, repository: str, keep: str) -> None:
    """Remove what older recipes built, unless a container or an image built on it still needs it."""
    listed = podman.json("images", "--filter", f"reference={repository}", "--format", "json") or []
    for image in listed:
        old = [n for n in image.get("Names") or [] if n.startswith(f"{repository}:") and n != keep]
        if old:
            podman("untag", image["Id"], *old, check=False)
            podman("rmi", image["Id"], check=False)
