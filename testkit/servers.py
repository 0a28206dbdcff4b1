"""An ASGI app served by uvicorn in a background thread on a free 127.0.0.1 port (or on another address of this
machine, such as a container network's gateway): how the fakes run in-process."""

from __future__ import annotations

import threading

import uvicorn

from testkit.processes import free_port
from testkit.waiting import wait_until


class ThreadedServer:
    """Runs an ASGI app with uvicorn in a background thread on a free port of `host` (for fakes)."""

    def __init__(self, app: object, host: str = "127.0.0.1") -> None:
        self.port = free_port(host)
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, host=host, port=self.port, log_config=None, access_log=False)  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        wait_until(lambda: self.server.started, timeout=10, what="fake server start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
