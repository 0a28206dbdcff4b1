"""`python -m bridge` / `allim-bridge`: flags in the Prometheus style, config check, then serve.

Commands that talk to a running bridge over HTTP instead: `allim-bridge send-test` (a sample notification, see
bridge/sendtest.py), `allim-bridge notifications` and `allim-bridge retry` (the JSON API, see bridge/cli.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from allim import __version__
from allim.cli import service_parser
from allim.logs import setup_logging
from allim.serve import parse_listen_address, serve
from allim.settings import ConfigError
from bridge.app import create_app
from bridge.load import load_config
from bridge.store import StoreError, database_for

log = logging.getLogger("bridge")
COMMANDS = ("send-test", "notifications", "retry")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = service_parser(
        "allim-bridge", "Alertmanager webhooks to durable email and Discord notifications.", ":8000"
    )
    parser.add_argument(
        "--web.console-actions",
        dest="console_actions",
        action="store_true",
        help="let the console (and the API) retry and send tests without BRIDGE_AUTH_TOKEN (console_actions: true)",
    )
    parser.epilog = "commands: send-test, notifications, retry (each with --help): talk to a running bridge"
    return parser.parse_args(argv)


def run_command(name: str, argv: Sequence[str], env: Mapping[str, str]) -> int:
    """One of the commands that talk to a running bridge over HTTP."""
    if name == "send-test":
        from bridge.sendtest import main as send_test

        return send_test(argv, env)
    from bridge import cli

    return cli.notifications(argv, env) if name == "notifications" else cli.retry(argv, env)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] and args_list[0] in COMMANDS:
        return run_command(args_list[0], args_list[1:], os.environ if env is None else env)
    args = parse_args(args_list)
    setup_logging(args.log_level, args.log_format)
    problems = []
    try:
        parse_listen_address(args.listen_address)
    except ValueError as exc:
        problems.append(f"--web.listen-address: {exc}")
    try:
        config = load_config(args.config_file, os.environ if env is None else env)
    except ConfigError as exc:
        problems += exc.problems
    else:
        if args.console_actions:
            config = dataclasses.replace(config, console_actions=True)
    if problems:
        print(f"allim-bridge: {ConfigError(problems)}", file=sys.stderr)
        return 2
    receivers = {name: len(r.channels) or "log" for name, r in config.receivers.items()}
    try:
        database = database_for(config.outbox)
    except StoreError as exc:
        print(f"allim-bridge: {exc}", file=sys.stderr)
        return 2
    log.info(
        "starting",
        extra={
            "version": __version__,
            "address": args.listen_address,
            "store": database.name,
            **database.where,
            "receivers": receivers,
        },
    )
    serve(create_app(config, database=database), args.listen_address, log_level=args.log_level)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
