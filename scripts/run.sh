#!/usr/bin/env bash
# `make run`: exporter + bridge on built-in defaults (no API keys needed), plus Prometheus and Alertmanager
# from deploy/ when their binaries are installed. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${VENV:-.venv}/bin/python" -m allim.stack "$@"
