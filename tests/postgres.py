"""A real PostgreSQL server for tests: Debian's postgresql binaries, a throw-away cluster on a free port.

`initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user (runuser). The
superuser has a password and TCP connections need it (scram-sha-256), as a production database would.
`make test` installs the package when it is missing (scripts/install-system-deps.sh).
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.support import free_port

PASSWORD_LENGTH = 12


def find_bin(name: str) -> str:
    """A PostgreSQL server binary: on PATH, else Debian's versioned directory (newest first)."""
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: run `make test` (it installs Debian's postgresql package)")
    return found


class PostgresServer:
    """One cluster in a temp dir; `url(db)` connects as the password-protected superuser over TCP."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="allim-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = free_port()
        self.password = secrets.token_hex(PASSWORD_LENGTH // 2)
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        pwfile = self.dir / "pw"
        pwfile.write_text(self.password)
        if self.as_root:
            shutil.chown(pwfile, "postgres", "postgres")
        self._run(
            find_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "--no-sync",
            "-E",
            "UTF8",
        )
        pwfile.unlink()

    def _run(self, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", *args] if self.as_root else list(args)
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.dir, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}{result.stderr}")

    def start(self, *, durable: bool = False) -> None:
        """Start the server; without `durable` it skips fsync (tests), with it commits are as safe as in production
        (benchmarks)."""
        fsync = "" if durable else " -c fsync=off"
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1{fsync} -c max_connections=200"
        self._run(find_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(find_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{db}"

    def create_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"t_{secrets.token_hex(4)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
