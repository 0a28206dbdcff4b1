"""The exporter as a user runs it: a real process on a free port, scraped over HTTP."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import REPO, Process, free_port, python_module

PROMTOOL = shutil.which("promtool")


def promtool_check_metrics(exposition: bytes) -> subprocess.CompletedProcess[bytes]:
    assert PROMTOOL, "promtool is missing: `make test` installs Debian's prometheus package"
    return subprocess.run([PROMTOOL, "check", "metrics"], input=exposition, capture_output=True, timeout=30)


def run_exporter(*args: str) -> subprocess.CompletedProcess[bytes]:
    """`python -m exporter ARGS` to completion, output captured."""
    return subprocess.run(
        python_module("exporter", *args), capture_output=True, timeout=60, cwd=REPO, stdin=subprocess.DEVNULL
    )


@pytest.fixture
def exporter(tmp_path: Path) -> Iterator[tuple[Process, str]]:
    port = free_port()
    proc = Process(
        python_module("exporter", "--web.listen-address", f"127.0.0.1:{port}", "--log.format", "json"),
        tmp_path / "exporter.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        proc.wait_http(f"{url}/readyz")
        yield proc, url
    finally:
        proc.stop()


def test_process_serves_host_and_self_metrics(exporter: tuple[Process, str]) -> None:
    _, url = exporter
    body = httpx.get(f"{url}/metrics").text
    for name in (
        "host_cpu_usage_ratio",
        "host_memory_usage_ratio",
        'host_filesystem_usage_ratio{device="',
        'allim_source_up{source="host"} 1.0',
        'allim_source_last_success_timestamp_seconds{source="host"}',
        'allim_source_poll_duration_seconds{source="host"}',
        'allim_source_errors_total{reason="timeout",source="host"} 0.0',
        "allim_build_info{",
    ):
        assert name in body, name


def test_process_scrape_passes_promtool_check_metrics(exporter: tuple[Process, str]) -> None:
    _, url = exporter
    result = promtool_check_metrics(httpx.get(f"{url}/metrics").content)
    assert (result.returncode, result.stdout + result.stderr) == (0, b"")


def test_process_stops_cleanly_on_sigterm(exporter: tuple[Process, str]) -> None:
    proc, _ = exporter
    assert proc.stop(signal.SIGTERM, timeout=15) == 0
    assert '"msg": "stopped"' in proc.log()


def test_process_once_prints_a_valid_exposition() -> None:
    result = run_exporter("--once")
    assert result.returncode == 0, result.stderr.decode()
    assert b"host_memory_total_bytes " in result.stdout
    assert b'allim_source_up{source="host"} 1.0' in result.stdout
    lint = promtool_check_metrics(result.stdout)
    assert (lint.returncode, lint.stdout + lint.stderr) == (0, b"")


def test_process_once_names_failed_sources(tmp_path: Path) -> None:
    config = tmp_path / "allim.yml"
    config.write_text("host:\n  timeout: 0.1\n")  # the first host poll samples CPU for 0.25 s
    result = run_exporter("--once", "--config.file", str(config))
    assert result.returncode == 1
    assert "failed sources: host (timeout)" in result.stderr.decode()
    assert b'allim_source_up{source="host"} 0.0' in result.stdout


def test_process_config_error_exits_2_listing_every_problem(tmp_path: Path) -> None:
    config = tmp_path / "allim.yml"
    config.write_text("host:\n  interval: often\n  mountpoints_include: '(['\nsentri: {}\n")
    result = run_exporter("--config.file", str(config))
    assert result.returncode == 2
    message = result.stderr.decode()
    assert "invalid configuration (3 problems)" in message
    assert "host.interval" in message and "host.mountpoints_include" in message and "sentri: unknown key" in message


def test_process_bad_listen_address_exits_2() -> None:
    result = run_exporter("--web.listen-address", "localhost")
    assert result.returncode == 2
    assert "must be host:port" in result.stderr.decode()


def test_process_path_rootfs_reads_the_host_mounted_there(tmp_path: Path) -> None:
    """--path.rootfs wins over ALLIM_HOST_ROOTFS; the host's interfaces and mounts come from the root's proc/1."""
    root = Path(__file__).with_name("hostroot")
    result = subprocess.run(
        python_module("exporter", "--once", f"--path.rootfs={root}"),
        capture_output=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "ALLIM_HOST_ROOTFS": "/"},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b'host_network_receive_bytes_total{interface="ens4"} 1000.0' in result.stdout
    assert b'host_filesystem_size_bytes{device="/dev/vda",fstype="ext4",mountpoint="/"}' in result.stdout
    assert b"host_load1 1.25" in result.stdout


def test_process_path_rootfs_without_proc_exits_2(tmp_path: Path) -> None:
    result = run_exporter("--once", f"--path.rootfs={tmp_path}")
    assert result.returncode == 2
    assert f"--path.rootfs: {tmp_path}/proc is not a directory" in result.stderr.decode()
