"""Serving an ASGI app with uvicorn from a Prometheus-style `--web.listen-address`."""

from __future__ import annotations

import logging
from types import FrameType

import uvicorn


def parse_listen_address(address: str) -> tuple[str, int]:
    """`host:port`, `:port` (all interfaces) or `[::1]:port` to (host, port); ValueError with the reason."""
    host, sep, port_text = address.rpartition(":")
    if not sep:
        raise ValueError(f"listen address {address!r} must be host:port or :port")
    host = host.strip("[]") or "0.0.0.0"
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"listen address {address!r} has no valid port") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"listen address {address!r} has a port out of range")
    return host, port


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, which ends the process "killed by
    signal" (and prints a KeyboardInterrupt traceback on Ctrl-C). A graceful stop should exit 0."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self._captured_signals.clear()


def serve(app: object, address: str, *, log_level: str = "info") -> None:
    """Run until SIGINT/SIGTERM; uvicorn then stops accepting, finishes requests and runs the lifespan shutdown."""
    host, port = parse_listen_address(address)
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        log_level=logging.WARNING if log_level == "warn" else log_level,
    )
    _Server(config).run()
