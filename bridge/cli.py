"""`allim-bridge notifications` and `allim-bridge retry`: a running bridge's JSON API from the command line, and
the connection flags they share with `allim-bridge send-test` (`--url`, `--token`, `--token-file`).

    allim-bridge notifications [--state dead] [--receiver NAME] [--limit N] [--before ID] [--json]
    allim-bridge retry ID [--delivery DELIVERY_ID]
    allim-bridge retry --all-dead [--channel NAME]

Exit codes: 0 done, 1 the bridge refused or could not be reached (its one-line reason is printed), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bridge.outbox_reading import STATES

DEFAULT_URL = "http://127.0.0.1:8000"


class CliError(Exception):
    """What to print (on stderr) before exiting 1."""


def add_connection_flags(parser: argparse.ArgumentParser, env: Mapping[str, str]) -> None:
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the bridge's base URL (default: {DEFAULT_URL})")
    parser.add_argument("--token", default=env.get("BRIDGE_AUTH_TOKEN"), help="default: $BRIDGE_AUTH_TOKEN")
    parser.add_argument(
        "--token-file", default=env.get("BRIDGE_AUTH_TOKEN_FILE"), help="a file holding the token (or $..._FILE)"
    )


def token_of(args: argparse.Namespace) -> str | None:
    """--token, else the first line of --token-file; None without either."""
    if args.token:
        return str(args.token)
    if args.token_file:
        try:
            return Path(args.token_file).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise CliError(f"cannot read the token file: {exc.strerror}") from None
    return None


class BridgeClient:
    """Requests to one bridge with its token; any answer but a 2xx becomes a CliError with the bridge's reason."""

    def __init__(self, url: str, token: str | None, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = timeout

    def post_json(self, path: str, body: object) -> httpx.Response:
        """A POST whose answer is returned whatever its status (send-test prints each one)."""
        return self._send("POST", path, json=body)

    def call(self, method: str, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        response = self._send(method, path, params=params)
        if not response.is_success:
            reason = response.text.strip().splitlines()[0] if response.text.strip() else response.reason_phrase
            raise CliError(f"HTTP {response.status_code}: {reason}")
        return response.json()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return httpx.request(method, self.url + path, headers=self.headers, timeout=self.timeout, **kwargs)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach {self.url}: {type(exc).__name__}") from None


def _when(timestamp: float | None) -> str:
    return datetime.fromtimestamp(timestamp).astimezone().strftime("%Y-%m-%d %H:%M:%S") if timestamp else "-"


def format_notification(item: Mapping[str, Any]) -> list[str]:
    """One line for the notification, one indented line per delivery."""
    title = item.get("title") or ", ".join(item.get("alertnames", []))
    lines = [f"#{item['id']}  {_when(item['created_at'])}  {item['receiver']}  {item['status']}  {title}"]
    for d in item["deliveries"]:
        attempts = f"{d['attempts']} attempt" + ("" if d["attempts"] == 1 else "s")
        tail = f"sent {_when(d['sent_at'])}" if d["state"] == "sent" else (d.get("last_error") or "")
        lines.append(f"    delivery {d['id']}  {d['channel_key']}  {d['state']}  {attempts}  {tail}".rstrip())
    return lines


def notifications(argv: Sequence[str], env: Mapping[str, str]) -> int:
    parser = argparse.ArgumentParser(
        prog="allim-bridge notifications", description="List a running bridge's recent notifications, newest first."
    )
    parser.add_argument("--state", choices=STATES, help="only notifications with a delivery in this state")
    parser.add_argument("--receiver", help="only this receiver's notifications")
    parser.add_argument("--limit", type=int, default=20, help="how many (1-500, default 20)")
    parser.add_argument("--before", type=int, help="only those with an id below this (the next page)")
    parser.add_argument("--json", action="store_true", help="print the API's JSON answer")
    add_connection_flags(parser, env)
    args = parser.parse_args(argv)
    params: dict[str, str | int] = {"limit": args.limit}
    params.update({k: v for k, v in (("state", args.state), ("receiver", args.receiver)) if v})
    if args.before is not None:
        params["before"] = args.before
    return _run(lambda: _list(BridgeClient(args.url, token_of(args)), params, args.json))


def _list(client: BridgeClient, params: Mapping[str, str | int], raw: bool) -> None:
    answer = client.call("GET", "/api/notifications", params)
    if raw:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    found = answer["notifications"]
    for item in found:
        print("\n".join(format_notification(item)))
    if not found:
        print("no notifications")
    elif answer.get("next_before"):
        print(f"(more: --before {answer['next_before']})")


def retry(argv: Sequence[str], env: Mapping[str, str]) -> int:
    parser = argparse.ArgumentParser(
        prog="allim-bridge retry", description="Send dead deliveries again: one notification's, or every dead one."
    )
    parser.add_argument("id", nargs="?", type=int, help="the notification whose dead deliveries to retry")
    parser.add_argument("--delivery", type=int, help="only this delivery of the notification")
    parser.add_argument("--all-dead", action="store_true", help="every dead delivery (of --channel, or of all)")
    parser.add_argument(
        "--channel", help="with --all-dead: a channel name (discord, email, log) or key (ops/discord/0)"
    )
    add_connection_flags(parser, env)
    args = parser.parse_args(argv)
    if (args.id is None) == (not args.all_dead):
        parser.error("give a notification ID or --all-dead (not both)")
    if args.channel and not args.all_dead:
        parser.error("--channel goes with --all-dead")
    if args.delivery is not None and args.id is None:
        parser.error("--delivery goes with a notification ID")
    client_args = (args.url, token_of(args))
    if args.all_dead:
        return _run(lambda: _retry_dead(BridgeClient(*client_args), args.channel or "all"))
    return _run(lambda: _retry_one(BridgeClient(*client_args), args.id, args.delivery))


def _retry_one(client: BridgeClient, notification_id: int, delivery_id: int | None) -> None:
    params = {"delivery": delivery_id} if delivery_id is not None else None
    answer = client.call("POST", f"/api/notifications/{notification_id}/retry", params)
    keys = ", ".join(d["channel_key"] for d in answer["retried"])
    count = len(answer["retried"])
    print(f"notification {notification_id}: {count} dead deliver{'y' if count == 1 else 'ies'} pending again ({keys})")


def _retry_dead(client: BridgeClient, channel: str) -> None:
    answer = client.call("POST", f"/api/channels/{channel}/retry-dead")
    count = answer["retried"]
    print(f"{channel}: {count} dead deliver{'y' if count == 1 else 'ies'} pending again")


def _run(command: Callable[[], None]) -> int:
    try:
        command()
    except CliError as exc:
        print(f"allim-bridge: {exc}", file=sys.stderr)
        return 1
    return 0
