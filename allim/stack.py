"""The whole pipeline on one machine without Docker: what `make run` starts.

Exporter and bridge always; Prometheus and Alertmanager too when Debian's binaries are installed,
each from the same files under deploy/ that docker-compose uses, with the compose hostnames
(`exporter:8877`, `bridge:8000`, ...) rewritten to loopback addresses and data in a temp dir.
The end-to-end test builds its configs with the same functions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
PROMETHEUS_YML = DEPLOY / "prometheus" / "prometheus.yml"
ALERTMANAGER_YML = DEPLOY / "alertmanager" / "alertmanager.yml"
BRIDGE_YML = DEPLOY / "bridge" / "bridge.yml"

# The scrape job names in deploy/prometheus/prometheus.yml and which local service each one scrapes.
JOBS = {
    "allim-exporter": "exporter",
    "allim-bridge": "bridge",
    "prometheus": "prometheus",
    "alertmanager": "alertmanager",
}


def find_prometheus() -> str | None:
    return shutil.which("prometheus")


def find_alertmanager() -> str | None:
    """Debian names it prometheus-alertmanager; upstream tarballs call it alertmanager."""
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def load_yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    return data


def prometheus_config(
    addresses: Mapping[str, str],
    *,
    rule_files: Sequence[Path] | None = None,
    interval: str | None = None,
    source: Path = PROMETHEUS_YML,
) -> dict[str, Any]:
    """deploy's prometheus.yml with loopback targets; `interval` shortens scrape and evaluation (tests use 1s)."""
    config = load_yaml(source)
    if interval:
        config.setdefault("global", {}).update({"scrape_interval": interval, "evaluation_interval": interval})
    if rule_files is None:
        rule_files = sorted(p for pattern in config.get("rule_files", []) for p in source.parent.glob(pattern))
    config["rule_files"] = [str(p) for p in rule_files]
    for job in config.get("scrape_configs", []):
        service = JOBS.get(job.get("job_name", ""))
        if service and service in addresses:
            job["static_configs"] = [{"targets": [addresses[service]]}]
            if interval:
                job.pop("scrape_interval", None)
    config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [addresses["alertmanager"]]}]}]}
    return config


def rules_with_short_for(source_dir: Path, target_dir: Path, for_duration: str) -> list[Path]:
    """Copies of the rule files with every `for:` set to `for_duration`, so an end-to-end run fires in
    seconds. The real durations are covered by the promtool unit tests."""
    written = []
    for path in sorted(source_dir.glob("*.yml")):
        data = load_yaml(path)
        for group in data.get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule and "for" in rule:
                    rule["for"] = for_duration
        out = target_dir / path.name
        out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        written.append(out)
    return written


def alertmanager_config(
    bridge_address: str, token_file: Path, *, fast: bool = False, source: Path = ALERTMANAGER_YML
) -> dict[str, Any]:
    """deploy's alertmanager.yml sending to a loopback bridge, the bearer token read from `token_file`."""
    config = load_yaml(source)
    for receiver in config.get("receivers", []):
        for hook in receiver.get("webhook_configs", []):
            parts = urlsplit(hook["url"])
            hook["url"] = urlunsplit((parts.scheme, bridge_address, parts.path, parts.query, ""))
            auth = hook.setdefault("http_config", {}).setdefault("authorization", {})
            auth.pop("credentials", None)
            auth["credentials_file"] = str(token_file)
    if fast:
        _speed_up_routes(config.get("route", {}))
    return config


def _speed_up_routes(route: dict[str, Any], top: bool = True) -> None:
    """group_wait and group_interval of 1s on the root route and wherever a child route sets its own."""
    for key in ("group_wait", "group_interval"):
        if top or key in route:
            route[key] = "1s"
    for child in route.get("routes", []):
        _speed_up_routes(child, top=False)


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def prometheus_args(binary: str, config: Path, data_dir: Path, address: str) -> list[str]:
    return [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={data_dir}",
        f"--web.listen-address={address}",
        f"--web.external-url=http://{address}",
        "--rules.alert.resend-delay=1s",  # an alert active before Alertmanager is discovered is not lost for 1m
        "--web.enable-lifecycle",
    ]


def alertmanager_args(binary: str, config: Path, data_dir: Path, address: str) -> list[str]:
    return [
        binary,
        f"--config.file={config}",
        f"--storage.path={data_dir}",
        f"--web.listen-address={address}",
        f"--web.external-url=http://{address}",
        "--cluster.listen-address=",  # no HA gossip port on a single machine
    ]


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def bridge_token_file(env: Mapping[str, str]) -> Path:
    """The bridge's bearer token as a file Alertmanager and send-test can read: the user's
    (BRIDGE_AUTH_TOKEN or ..._FILE), else one generated once under .run/ and kept across runs."""
    if env.get("BRIDGE_AUTH_TOKEN_FILE"):
        return Path(env["BRIDGE_AUTH_TOKEN_FILE"])
    path = REPO / ".run" / "bridge_auth_token"
    path.parent.mkdir(exist_ok=True)
    if env.get("BRIDGE_AUTH_TOKEN"):
        path.write_text(env["BRIDGE_AUTH_TOKEN"], encoding="utf-8")
    elif not path.exists():
        path.write_text(os.urandom(16).hex(), encoding="utf-8")
    path.chmod(0o600)
    return path


def run(args: argparse.Namespace) -> int:
    python = sys.executable
    addresses = {
        "exporter": args.exporter,
        "bridge": args.bridge,
        "prometheus": args.prometheus,
        "alertmanager": args.alertmanager,
    }
    processes: list[tuple[str, subprocess.Popen[bytes]]] = []
    workdir = Path(tempfile.mkdtemp(prefix="allim-run-"))
    env = dict(os.environ)
    env.setdefault("BRIDGE_DATA_DIR", str(REPO / "data"))
    token_file = bridge_token_file(env)
    env["BRIDGE_AUTH_TOKEN_FILE"] = str(token_file)
    env.pop("BRIDGE_AUTH_TOKEN", None)

    def start(name: str, argv: list[str], log: Path | None = None) -> subprocess.Popen[bytes]:
        output = open(log, "wb") if log else None  # noqa: SIM115 - lives as long as the process
        process = subprocess.Popen(argv, env=env, stdout=output, stderr=subprocess.STDOUT if output else None)
        processes.append((name, process))
        return process

    def stop_all(*_: object) -> None:
        for _name, process in reversed(processes):
            if process.poll() is None:
                process.terminate()
        for _name, process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        exporter_args = [python, "-m", "exporter", "--web.listen-address", addresses["exporter"]]
        if args.exporter_config:
            exporter_args += ["--config.file", args.exporter_config]
        start("exporter", exporter_args)
        bridge_args = [python, "-m", "bridge", "--web.listen-address", addresses["bridge"]]
        bridge_config = args.bridge_config or (str(BRIDGE_YML) if BRIDGE_YML.exists() else None)
        if bridge_config:
            bridge_args += ["--config.file", bridge_config]
        start("bridge", bridge_args)
        urls = [f"exporter      http://{addresses['exporter']}/metrics", f"bridge        http://{addresses['bridge']}/"]
        prometheus, alertmanager = find_prometheus(), find_alertmanager()
        if prometheus and alertmanager:
            am_config = write_yaml(workdir / "alertmanager.yml", alertmanager_config(addresses["bridge"], token_file))
            prom_config = write_yaml(workdir / "prometheus.yml", prometheus_config(addresses))
            start(
                "alertmanager",
                alertmanager_args(alertmanager, am_config, workdir / "am-data", addresses["alertmanager"]),
                workdir / "alertmanager.log",
            )
            start(
                "prometheus",
                prometheus_args(prometheus, prom_config, workdir / "prom-data", addresses["prometheus"]),
                workdir / "prometheus.log",
            )
            urls += [
                f"prometheus    http://{addresses['prometheus']}/alerts",
                f"alertmanager  http://{addresses['alertmanager']}/",
            ]
        else:
            print(
                "Prometheus/Alertmanager not installed (apt-get install prometheus prometheus-alertmanager): "
                "running exporter and bridge only",
                file=sys.stderr,
            )
        for name, process in processes:
            address = addresses[name]
            path = {"exporter": "/readyz", "bridge": "/healthz"}.get(name, "/-/ready")
            if not wait_ready(f"http://{address.replace('0.0.0.0', '127.0.0.1')}{path}", process):
                print(f"{name} did not start; logs: {workdir}", file=sys.stderr)
                return 1
        print("allim is running (Ctrl-C stops everything):", file=sys.stderr)
        for line in urls:
            print(f"  {line}", file=sys.stderr)
        print(f"  logs and data of Prometheus/Alertmanager: {workdir}", file=sys.stderr)
        print(
            f"  try: BRIDGE_AUTH_TOKEN_FILE={token_file} .venv/bin/allim-bridge send-test --url http://{addresses['bridge']}",
            file=sys.stderr,
        )
        while all(process.poll() is None for _, process in processes):
            time.sleep(0.5)
        dead = [name for name, process in processes if process.poll() is not None]
        print(f"stopped because {', '.join(dead)} exited", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="allim-stack", description=__doc__.splitlines()[0])
    parser.add_argument("--exporter", default="127.0.0.1:8877", help="exporter listen address")
    parser.add_argument("--bridge", default="127.0.0.1:8000", help="bridge listen address")
    parser.add_argument("--prometheus", default="127.0.0.1:9090", help="Prometheus listen address")
    parser.add_argument("--alertmanager", default="127.0.0.1:9093", help="Alertmanager listen address")
    parser.add_argument("--exporter-config", help="exporter YAML config")
    parser.add_argument("--bridge-config", help="bridge YAML config (default: deploy/bridge/bridge.yml)")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
