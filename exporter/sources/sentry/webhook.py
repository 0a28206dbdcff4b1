"""Issue webhooks from a Sentry internal integration, or the legacy WebHooks plugin (served at /webhooks/sentry).

- Integration platform: `Sentry-Hook-Signature` is the hex HMAC-SHA256 of the raw body with the client
  secret, checked before anything is parsed. A repeated `Request-ID` is answered 200 and ignored.
- Legacy plugin: unsigned flat payloads, accepted only with the configured `?token=` in the URL.

An `issue` webhook updates the source's counts, and the route republishes its families at once, so the change
shows on the next scrape; the answer goes out well within Sentry's 1 s limit.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import OrderedDict
from typing import Any

from prometheus_client.metrics_core import Metric

from allim.rejected import Rejected, parse_json_object
from allim.secret import Secret
from exporter.sources.base import WebhookRequest, WebhookResult
from exporter.sources.sentry.metrics import SLUG
from exporter.sources.sentry.source import SentrySource

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


def signature_valid(body: bytes, signature: str, secret: Secret | None) -> bool:
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


class SentryWebhook:
    """Checks a delivery (signature, or the legacy URL token), drops repeats, and records its issue action."""

    publish_wait: float | None = None  # publishing is quick, and Sentry shows the answer: wait for it

    def __init__(self, source: SentrySource) -> None:
        self.source = source
        self.recent = RecentIds()

    def authorize(self, request: WebhookRequest) -> None:
        """Nothing to check before the body: the signature is computed over it."""

    def receive(self, request: WebhookRequest, body: bytes) -> WebhookResult:
        config = self.source.config
        signature = request.headers.get("sentry-hook-signature")
        if signature is not None:
            if not signature_valid(body, signature, config.client_secret):
                raise Rejected(401, "bad Sentry-Hook-Signature")
            payload = parse_json_object(body)
            request_id = request.headers.get("request-id", "")
            if request_id and self.recent.seen(request_id):
                return WebhookResult(False, "duplicate Request-ID, ignored")
            resource = request.headers.get("sentry-hook-resource", "issue")
            if resource != "issue":
                return WebhookResult(False, f"resource {resource[:40]!r} ignored")
            project, action, level = issue_change(payload)
        elif config.webhook_token and config.webhook_token.matches(request.query.get("token")):
            project, action, level = legacy_change(parse_json_object(body))
        else:
            raise Rejected(401, "missing Sentry-Hook-Signature (or ?token= for the legacy plugin)")
        if config.projects and project not in config.projects:
            return WebhookResult(False, "project not in the allow-list, ignored")
        self.source.record_issue_action(project, action, level)
        return WebhookResult(True)

    def families(self) -> list[Metric]:
        return self.source.build_families()
