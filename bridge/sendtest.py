"""`allim-bridge send-test`: post a sample firing then resolved notification to a running bridge.

A new user runs it once after configuring channels, and sees in Discord / the mailbox / the log what
a real Alertmanager notification will look like.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx


def sample_payload(receiver: str, status: str, started: datetime) -> dict[str, object]:
    """An Alertmanager version-4 body, as Alertmanager 0.25+ sends it."""
    ended = datetime.now(UTC) if status == "resolved" else None
    labels = {"alertname": "AllimSendTest", "severity": "warning", "instance": "allim-bridge", "job": "allim"}
    annotations = {
        "summary": "Test notification from allim-bridge send-test",
        "description": "If you can read this, the bridge can deliver to this receiver's channels.",
    }
    alert = {
        "status": status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": started.isoformat().replace("+00:00", "Z"),
        "endsAt": ended.isoformat().replace("+00:00", "Z") if ended else "0001-01-01T00:00:00Z",
        "generatorURL": "",
        "fingerprint": f"sendtest{int(started.timestamp())}",
    }
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="AllimSendTest", at="{started.isoformat()}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": receiver,
        "groupLabels": {"alertname": "AllimSendTest"},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "alerts": [alert],
    }


def main(argv: Sequence[str], env: Mapping[str, str]) -> int:
    parser = argparse.ArgumentParser(prog="allim-bridge send-test", description=__doc__.splitlines()[0])
    parser.add_argument("--receiver", default="default", help="receiver name (default: default)")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the bridge's base URL")
    parser.add_argument("--token", default=env.get("BRIDGE_AUTH_TOKEN"), help="default: $BRIDGE_AUTH_TOKEN")
    parser.add_argument(
        "--token-file", default=env.get("BRIDGE_AUTH_TOKEN_FILE"), help="a file holding the token (or $..._FILE)"
    )
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between firing and resolved")
    args = parser.parse_args(argv)
    token = args.token
    if not token and args.token_file:
        token = Path(args.token_file).read_text(encoding="utf-8").strip()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{args.url.rstrip('/')}/alertmanager/{args.receiver}"
    started = datetime.now(UTC)
    ok = True
    for i, status in enumerate(("firing", "resolved")):
        if i:
            time.sleep(args.interval)
        try:
            response = httpx.post(url, json=sample_payload(args.receiver, status, started), headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            print(f"{status}: cannot reach {args.url}: {type(exc).__name__}", file=sys.stderr)
            return 1
        outcome = response.text.strip().splitlines()[0] if response.text.strip() else ""
        print(f"{status}: HTTP {response.status_code} {outcome}")
        ok = ok and response.status_code == 200
    if ok:
        print(f"sent; delivery state: {args.url.rstrip('/')}/api/notifications")
    return 0 if ok else 1
