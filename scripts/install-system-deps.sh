#!/usr/bin/env bash
# Installs what the tests need outside Python, only when missing: Debian's prometheus and
# prometheus-alertmanager (promtool, amtool and the real binaries for the end-to-end test) and
# postgresql (initdb/pg_ctl for the shared-outbox tests, which start their own throw-away cluster).
set -euo pipefail

missing=()
for bin in prometheus promtool; do command -v "$bin" >/dev/null 2>&1 || { missing+=(prometheus); break; }; done
{ command -v prometheus-alertmanager || command -v alertmanager; } >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 \
  || missing+=(prometheus-alertmanager)
{ command -v initdb || ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1 || missing+=(postgresql)
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
