"""The flags both services take, in the Prometheus style."""

from __future__ import annotations

import argparse

from allim import __version__
from allim.logs import FORMATS, LEVELS


def service_parser(prog: str, description: str, default_listen: str) -> argparse.ArgumentParser:
    """--config.file, --web.listen-address, --log.level, --log.format and --version."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config.file", dest="config_file", help="YAML config file (optional)")
    parser.add_argument(
        "--web.listen-address", dest="listen_address", default=default_listen, help=f"default {default_listen}"
    )
    parser.add_argument("--log.level", dest="log_level", choices=LEVELS, default="info")
    parser.add_argument("--log.format", dest="log_format", choices=FORMATS, default="logfmt")
    parser.add_argument("--version", action="version", version=f"{prog} {__version__}")
    return parser
