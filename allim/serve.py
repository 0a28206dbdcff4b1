"""Serving an ASGI app with uvicorn from a Prometheus-style `--web.listen-address`."""

from __future__ import annotations

import logging

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
    uvicorn.Server(config).run()
