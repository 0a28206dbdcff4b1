#!/usr/bin/env bash
# `make run`: the exporter in the foreground on built-in defaults (no API keys needed); Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
args=(--web.listen-address "${EXPORTER_LISTEN:-:8877}")
[ -n "${EXPORTER_CONFIG:-}" ] && args+=(--config.file "$EXPORTER_CONFIG")
echo "exporter: http://127.0.0.1:8877/metrics" >&2
exec "$VENV/bin/python" -m exporter "${args[@]}"
