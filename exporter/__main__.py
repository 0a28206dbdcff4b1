"""`python -m exporter` / `allim-exporter`: flags in the Prometheus style, config check, then serve."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Mapping, Sequence

import httpx
from prometheus_client import generate_latest

from allim import __version__
from allim.cli import service_parser
from allim.logs import setup_logging
from allim.serve import parse_listen_address, serve
from allim.settings import ConfigError
from exporter.app import USER_AGENT, build_registry, create_app
from exporter.config import ExporterConfig, load_config
from exporter.scheduler import poll_once
from exporter.snapshot import Snapshot
from exporter.sources import build_sources

log = logging.getLogger("exporter")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = service_parser("allim-exporter", "Sentry, HetrixTools, GA4 and host metrics for Prometheus.", ":8877")
    parser.add_argument(
        "--once", action="store_true", help="collect every enabled source once, print the metrics and exit"
    )
    return parser.parse_args(argv)


async def collect_once(config: ExporterConfig) -> tuple[bytes, list[str]]:
    """Poll every enabled source once; the exposition and the names of the sources that failed."""
    async with httpx.AsyncClient(headers={"User-Agent": USER_AGENT}) as client:
        sources = build_sources(config.sources, client)
        snapshot = Snapshot(sources)
        reasons = await asyncio.gather(*(poll_once(s, snapshot) for s in sources))
        registry, _ = build_registry(snapshot)
        body = snapshot.source_body() + generate_latest(registry)
    failed = [f"{s.name} ({reason})" for s, reason in zip(sources, reasons, strict=True) if reason]
    return body, failed


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.log_level, args.log_format)
    try:
        parse_listen_address(args.listen_address)
        config = load_config(args.config_file, os.environ if env is None else env)
    except (ConfigError, ValueError) as exc:
        print(f"allim-exporter: {exc}", file=sys.stderr)
        return 2
    if args.once:
        body, failed = asyncio.run(collect_once(config))
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        if failed:
            print(f"allim-exporter: failed sources: {', '.join(failed)}", file=sys.stderr)
            return 1
        return 0
    log.info("starting", extra={"version": __version__, "address": args.listen_address, "sources": config.enabled})
    serve(create_app(config), args.listen_address, log_level=args.log_level)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
