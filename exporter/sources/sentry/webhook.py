"""`POST /webhooks/sentry`: issue webhooks from a Sentry internal integration, or the legacy WebHooks plugin.

- Integration platform: `Sentry-Hook-Signature` is the hex HMAC-SHA256 of the raw body with the client
  secret, checked before anything is parsed. A repeated `Request-ID` is answered 200 and ignored.
- Legacy plugin: unsigned flat payloads, accepted only with the configured `?token=` in the URL.

An `issue` webhook updates the source's counts and republishes its families at once, so the change shows
on the next scrape; the answer goes out well within Sentry's 1 s limit.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from allim.requests import Rejected, parse_json_object, read_body, require_json
from exporter.sources.sentry import SentrySource
from exporter.sources.sentry_metrics import SLUG
from exporter.webhooks import webhook_endpoint

ISSUE_ACTIONS = ("created", "resolved", "assigned", "ignored", "archived", "unresolved")
LEGACY_ACTION = "triggered"  # legacy plugin posts come from alert rules, not issue state changes
REMEMBERED_REQUEST_IDS = 4096


class RecentIds:
    """The last `size` ids seen, oldest forgotten first: duplicate detection in bounded memory."""

    def __init__(self, size: int = REMEMBERED_REQUEST_IDS) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def seen(self, request_id: str) -> bool:
        """True if `request_id` was seen before; otherwise remember it."""
        if request_id in self._ids:
            self._ids.move_to_end(request_id)
            return True
        self._ids[request_id] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return False


def signature_valid(body: bytes, signature: str, source: SentrySource) -> bool:
    secret = source.config.client_secret
    if not secret:
        return False
    expected = hmac.new(secret.reveal().encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def issue_change(payload: dict[str, Any]) -> tuple[str, str, str | None]:
    """(project slug, action, level) of an integration-platform `issue` payload; 400 when it is not one."""
    action = payload.get("action")
    issue = payload.get("data", {}).get("issue") if isinstance(payload.get("data"), dict) else None
    if not isinstance(action, str) or not isinstance(issue, dict):
        raise Rejected(400, "issue webhook needs an action and data.issue")
    project = issue.get("project")
    slug = project.get("slug") if isinstance(project, dict) else None
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise Rejected(400, "data.issue.project.slug is missing or not a project slug")
    level = issue.get("level")
    return slug, action if action in ISSUE_ACTIONS else "other", level if isinstance(level, str) else None


def legacy_change(payload: dict[str, Any]) -> tuple[str, str, str | None]:
    """(project slug, action, level) of a legacy plugin payload; 400 when it is not one."""
    if "action" in payload or "data" in payload:
        raise Rejected(401, "integration webhooks must be signed (Sentry-Hook-Signature)")
    slug = payload.get("project_slug") or payload.get("project")
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise Rejected(400, "legacy webhook needs a project slug")
    return slug, LEGACY_ACTION, None


def sentry_routes(state: Any) -> list[BaseRoute]:
    """The webhook route, bound to the app's state (ExporterState) and its own duplicate memory."""
    recent = RecentIds()

    async def receive(request: Request) -> Response:
        source = state.sources.get("sentry")
        if not isinstance(source, SentrySource):
            raise Rejected(404, "the sentry source is not enabled")
        require_json(request)
        body = await read_body(request)
        signature = request.headers.get("sentry-hook-signature")
        if signature is not None:
            if not signature_valid(body, signature, source):
                raise Rejected(401, "bad Sentry-Hook-Signature")
            payload = parse_json_object(body)
            request_id = request.headers.get("request-id", "")
            if request_id and recent.seen(request_id):
                return PlainTextResponse("duplicate Request-ID, ignored\n")
            resource = request.headers.get("sentry-hook-resource", "issue")
            if resource != "issue":
                return PlainTextResponse(f"resource {resource[:40]!r} ignored\n")
            project, action, level = issue_change(payload)
        elif source.config.webhook_token and source.config.webhook_token.matches(request.query_params.get("token")):
            project, action, level = legacy_change(parse_json_object(body))
        else:
            raise Rejected(401, "missing Sentry-Hook-Signature (or ?token= for the legacy plugin)")
        if source.config.projects and project not in source.config.projects:
            return PlainTextResponse("project not in the allow-list, ignored\n")
        source.record_issue_action(project, action, level)
        await state.snapshot.publish(source.name, source.build_families())
        return PlainTextResponse("ok\n")

    return [Route("/webhooks/sentry", webhook_endpoint("sentry", state.webhook_requests, receive), methods=["POST"])]
