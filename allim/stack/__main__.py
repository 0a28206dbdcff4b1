"""`python -m allim.stack` (what `make run` runs): the whole pipeline until Ctrl-C, from a checkout's deploy/."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from allim.stack.checkout import Checkout, CheckoutNotFound, find_checkout
from allim.stack.configs import alertmanager_config, prometheus_config, write_yaml
from allim.stack.supervise import (
    Supervisor,
    alertmanager_args,
    bridge_token_file,
    find_alertmanager,
    find_prometheus,
    prometheus_args,
    python_service,
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="allim-stack", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repo", help="the allim checkout (default: ALLIM_REPO, else upward from the cwd)")
    parser.add_argument("--exporter", default="127.0.0.1:8877", help="exporter listen address")
    parser.add_argument("--bridge", default="127.0.0.1:8000", help="bridge listen address")
    parser.add_argument("--prometheus", default="127.0.0.1:9090", help="Prometheus listen address")
    parser.add_argument("--alertmanager", default="127.0.0.1:9093", help="Alertmanager listen address")
    parser.add_argument("--exporter-config", help="exporter YAML config")
    parser.add_argument("--bridge-config", help="bridge YAML config (default: deploy/bridge/bridge.yml)")
    return parser.parse_args(argv)


def say(line: str) -> None:
    print(line, file=sys.stderr)


def run(args: argparse.Namespace, checkout: Checkout) -> int:
    addresses = {name: getattr(args, name) for name in ("exporter", "bridge", "prometheus", "alertmanager")}
    workdir = Path(tempfile.mkdtemp(prefix="allim-run-"))
    env = dict(os.environ)
    env.setdefault("BRIDGE_DATA_DIR", str(checkout.data_dir))
    token_file = bridge_token_file(env, checkout)
    env["BRIDGE_AUTH_TOKEN_FILE"] = str(token_file)
    env.pop("BRIDGE_AUTH_TOKEN", None)
    supervisor = Supervisor(env)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    try:
        supervisor.start("exporter", python_service("exporter", addresses["exporter"], args.exporter_config))
        bridge_config = args.bridge_config or (str(checkout.bridge_yml) if checkout.bridge_yml.exists() else None)
        supervisor.start("bridge", python_service("bridge", addresses["bridge"], bridge_config))
        urls = [
            f"exporter      http://{addresses['exporter']}/  (status page; metrics at /metrics)",
            f"bridge        http://{addresses['bridge']}/  (console: any user name, the password is the token"
            f" in {token_file})",
        ]
        prometheus, alertmanager = find_prometheus(), find_alertmanager()
        if prometheus and alertmanager:
            am_config = alertmanager_config(addresses["bridge"], token_file, source=checkout.alertmanager_yml)
            prom_config = prometheus_config(addresses, source=checkout.prometheus_yml, host_name=socket.gethostname())
            supervisor.start(
                "alertmanager",
                alertmanager_args(
                    alertmanager,
                    write_yaml(workdir / "alertmanager.yml", am_config),
                    workdir / "am-data",
                    addresses["alertmanager"],
                ),
                workdir / "alertmanager.log",
            )
            supervisor.start(
                "prometheus",
                prometheus_args(
                    prometheus,
                    write_yaml(workdir / "prometheus.yml", prom_config),
                    workdir / "prom-data",
                    addresses["prometheus"],
                ),
                workdir / "prometheus.log",
            )
            urls += [
                f"prometheus    http://{addresses['prometheus']}/alerts",
                f"alertmanager  http://{addresses['alertmanager']}/",
            ]
        else:
            say(
                "Prometheus/Alertmanager not installed (apt-get install prometheus prometheus-alertmanager): "
                "running exporter and bridge only"
            )
        failed = supervisor.wait_all_ready(addresses)
        if failed:
            say(f"{failed} did not start; logs: {workdir}")
            return 1
        say("allim is running (Ctrl-C stops everything):")
        for line in urls:
            say(f"  {line}")
        say(f"  logs and data of Prometheus/Alertmanager: {workdir}")
        say(
            f"  try: BRIDGE_AUTH_TOKEN_FILE={token_file} .venv/bin/allim-bridge send-test "
            f"--url http://{addresses['bridge']}"
        )
        say(f"stopped because {', '.join(supervisor.wait_any_exit())} exited")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        supervisor.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        checkout = find_checkout(args.repo)
    except CheckoutNotFound as exc:
        say(f"allim-stack: {exc}")
        return 2
    return run(args, checkout)


if __name__ == "__main__":
    sys.exit(main())
