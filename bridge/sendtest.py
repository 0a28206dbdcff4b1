"""`allim-bridge send-test`: post a sample firing then resolved notification to a running bridge.

A new user runs it once after configuring channels, and sees in Discord / the mailbox / the log what
a real Alertmanager notification will look like. The sample carries its text in every language the bridge speaks
(`summary` and `summary_ko`, as the shipped rules do), so each receiver shows it in its own `language`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from bridge.cli import BridgeClient, CliError, add_connection_flags, token_of


def sample_payload(receiver: str, status: str, started: datetime) -> dict[str, object]:
    """An Alertmanager version-4 body, as Alertmanager 0.25+ sends it."""
    ended = datetime.now(UTC) if status == "resolved" else None
    labels = {"alertname": "AllimSendTest", "severity": "warning", "instance": "allim-bridge", "job": "allim"}
    annotations = {
        "summary": "Test notification from allim-bridge send-test",
        "summary_ko": "allim-bridge send-test의 테스트 알림 메시지",
        "description": "If you can read this, the bridge can deliver to this receiver's channels.",
        "description_ko": "이 알림 메시지가 보이면 브리지가 이 리시버의 채널로 전송할 수 있습니다.",
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
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between firing and resolved")
    add_connection_flags(parser, env)
    args = parser.parse_args(argv)
    try:
        client = BridgeClient(args.url, token_of(args))
    except CliError as exc:
        print(f"allim-bridge: {exc}", file=sys.stderr)
        return 1
    started = datetime.now(UTC)
    ok = True
    for i, status in enumerate(("firing", "resolved")):
        if i:
            time.sleep(args.interval)
        try:
            body = sample_payload(args.receiver, status, started)
            response = client.post_json(f"/alertmanager/{args.receiver}", body)
        except CliError as exc:
            print(f"{status}: {exc}", file=sys.stderr)
            return 1
        outcome = response.text.strip().splitlines()[0] if response.text.strip() else ""
        print(f"{status}: HTTP {response.status_code} {outcome}")
        ok = ok and response.status_code == 200
    if ok:
        print(f"sent; delivery state: {client.url}/ (console) or allim-bridge notifications --url {client.url}")
    return 0 if ok else 1
