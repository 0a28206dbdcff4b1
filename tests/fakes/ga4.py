"""A fake Google token endpoint and GA4 Data API v1beta, as a real Starlette app for 127.0.0.1.

It behaves as `shared/upstream/apis.md` §3 documents: the JWT-bearer grant with an RS256 assertion checked
against the test key's public key; `:runRealtimeReport` and `:runReport` with string metric values,
`rows` omitted when empty, `propertyQuota` only on request, realtime rejecting `dateRanges` and
`pagePath`, dimension filters applied, and the Google error envelopes for 400/401/403/429/503.

The data is a list of hit rows (dimension values + additive metrics); active users are a separate total,
because they are not additive across dimensions.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/analytics.readonly"
REALTIME_DIMENSIONS = {
    "appVersion", "audienceId", "audienceName", "audienceResourceName", "city", "cityId", "country", "countryId",
    "deviceCategory", "eventName", "minutesAgo", "platform", "streamId", "streamName", "unifiedScreenName",
}  # fmt: skip
REALTIME_METRICS = {"activeUsers", "eventCount", "keyEvents", "screenPageViews"}
CORE_DIMENSIONS = {"pagePath", "pageTitle", "pageLocation", "pagePathPlusQueryString", "eventName", "date", "dateHour"}
CORE_METRICS = {"activeUsers", "screenPageViews", "eventCount", "sessions"}
PERMISSION_DENIED = (
    "User does not have sufficient permissions for this property. To learn more about Property ID, see "
    "https://developers.google.com/analytics/devguides/reporting/data/v1/property-id."
)
UNAUTHENTICATED = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid "
    "authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
)
FULL_QUOTA = {"tokensPerDay": 200_000, "tokensPerHour": 40_000, "tokensPerProjectPerHour": 14_000}
EXHAUSTED = "Exhausted property tokens per hour for realtime requests. Try again later."


def make_key_file(path: Path, token_uri: str, email: str = "allim-test@allim-test.iam.gserviceaccount.com") -> Any:
    """Write a fresh service-account key file whose token_uri points at the fake; returns the private key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "allim-test",
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000000",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return key


def google_error(code: int, status: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "status": status}}, status_code=code)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


Grouped = list[tuple[list[str], list[float]]]  # (dimension values, metric values) per output row


class BadRequest(Exception):
    """A 400 INVALID_ARGUMENT with the given message."""


@dataclass
class FakeGa4:
    """State and switches of the fake; `app` serves it."""

    public_key: Any
    client_email: str
    properties: set[str] = field(default_factory=lambda: {"123456789"})
    active_users: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)  # dimension values + additive metrics per row
    expires_in: int | str = 3599
    token_cost: int = 5
    quota: dict[str, int] = field(default_factory=lambda: dict(FULL_QUOTA))
    # switches
    reject_tokens_once: bool = False  # the next API call answers 401 (as if the token had been revoked)
    fail_status: int | None = None  # 403, 429 or 503 for every API call
    # what happened
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    api_requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/token", self.token, methods=["POST"]),
                Route("/v1beta/properties/{property_id}:runRealtimeReport", self.realtime, methods=["POST"]),
                Route("/v1beta/properties/{property_id}:runReport", self.core, methods=["POST"]),
            ]
        )

    # -- token endpoint --------------------------------------------------------------------
    async def token(self, request: Request) -> Response:
        self.token_requests += 1
        form = dict(urllib.parse.parse_qsl((await request.body()).decode()))  # no python-multipart needed
        if form.get("grant_type") != JWT_BEARER:
            return JSONResponse({"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}, 400)
        problem = self._check_assertion(str(form.get("assertion", "")))
        if problem:
            return JSONResponse({"error": "invalid_grant", "error_description": problem}, 400)
        access_token = "ya29." + secrets.token_urlsafe(24)
        self.tokens.add(access_token)
        return JSONResponse({"access_token": access_token, "expires_in": self.expires_in, "token_type": "Bearer"})

    def _check_assertion(self, assertion: str) -> str | None:
        try:
            header_b64, payload_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64decode(header_b64))
            claims = json.loads(_b64decode(payload_b64))
            signature = _b64decode(signature_b64)
        except ValueError:
            return "Invalid JWT."
        if header.get("alg") != "RS256":
            return "Invalid JWT: alg must be RS256."
        try:
            message = f"{header_b64}.{payload_b64}".encode()
            self.public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return "Invalid JWT Signature."
        if claims.get("iss") != self.client_email:
            return "Invalid JWT: unknown issuer."
        if SCOPE not in str(claims.get("scope", "")).split():
            return "Invalid JWT: scope missing."
        if not claims.get("iat", 0) <= time.time() + 60 < claims.get("exp", 0) + 60:
            return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe."
        return None

    # -- report endpoints ------------------------------------------------------------------
    async def realtime(self, request: Request) -> Response:
        return await self._report(request, realtime=True)

    async def core(self, request: Request) -> Response:
        return await self._report(request, realtime=False)

    async def _report(self, request: Request, *, realtime: bool) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return google_error(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
        self.api_requests.append((request.url.path, body))
        auth = request.headers.get("authorization", "")
        if self.reject_tokens_once:
            self.reject_tokens_once = False
            self.tokens.clear()
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.tokens:
            return google_error(401, "UNAUTHENTICATED", UNAUTHENTICATED)
        property_id = request.path_params["property_id"]
        if self.fail_status == 403 or property_id not in self.properties:
            return google_error(403, "PERMISSION_DENIED", PERMISSION_DENIED)
        if self.fail_status == 429:
            return google_error(429, "RESOURCE_EXHAUSTED", EXHAUSTED)
        if self.fail_status == 503:
            return google_error(503, "UNAVAILABLE", "The service is currently unavailable.")
        try:
            report = self.build_report(body, realtime=realtime)
        except BadRequest as exc:
            return google_error(400, "INVALID_ARGUMENT", str(exc))
        for bucket in self.quota:
            self.quota[bucket] -= self.token_cost
        if body.get("returnPropertyQuota"):
            report["propertyQuota"] = self.property_quota()
        return JSONResponse(report)

    def property_quota(self) -> dict[str, Any]:
        quota: dict[str, Any] = {
            bucket: {"consumed": FULL_QUOTA[bucket] - left, "remaining": left} for bucket, left in self.quota.items()
        }
        quota["concurrentRequests"] = {"consumed": 0, "remaining": 10}
        quota["serverErrorsPerProjectPerHour"] = {"consumed": 0, "remaining": 10}
        quota["potentiallyThresholdedRequestsPerHour"] = {"consumed": 0, "remaining": 120}
        return quota

    def build_report(self, body: dict[str, Any], *, realtime: bool) -> dict[str, Any]:
        allowed_dimensions = REALTIME_DIMENSIONS if realtime else CORE_DIMENSIONS
        allowed_metrics = REALTIME_METRICS if realtime else CORE_METRICS
        if realtime and "dateRanges" in body:
            raise BadRequest('Invalid JSON payload received. Unknown name "dateRanges": Cannot find field.')
        if not realtime and not body.get("dateRanges"):
            raise BadRequest("Must specify at least one date range.")
        dimensions = [d["name"] for d in body.get("dimensions", [])]
        metrics = [m["name"] for m in body.get("metrics", [])]
        if not metrics:
            raise BadRequest("Must specify at least one metric.")
        for name in dimensions:
            if name not in allowed_dimensions:
                schema = "realtime-api-schema" if realtime else "api-schema"
                raise BadRequest(
                    f"Field {name} is not a valid dimension. For a list of valid dimensions and metrics, see "
                    f"https://developers.google.com/analytics/devguides/reporting/data/v1/{schema}"
                )
        for name in metrics:
            if name not in allowed_metrics:
                raise BadRequest(f"Field {name} is not a valid metric.")
        if "metricFilter" in body:
            raise BadRequest("fake: metricFilter is not implemented")
        ranges = body.get("minuteRanges", [])
        if len(ranges) > 2 or any(
            not 0 <= r.get("endMinutesAgo", 0) <= r.get("startMinutesAgo", 29) <= 29 for r in ranges
        ):
            raise BadRequest("minuteRanges: at most 2, with 0 <= endMinutesAgo <= startMinutesAgo <= 29.")

        expression = body.get("dimensionFilter")
        selected = [row for row in self.rows if expression is None or matches(expression, row, allowed_dimensions)]
        grouped = self._group(selected, dimensions, metrics, ranges)
        grouped = [row for row in grouped if any(v != 0 for v in row[1])]  # keepEmptyRows is false
        try:
            grouped = sort_rows(grouped, body.get("orderBys", []), dimensions, metrics)
        except (KeyError, ValueError):
            raise BadRequest("orderBys must name a requested metric or dimension.") from None
        limit = int(body.get("limit", 10_000))
        report: dict[str, Any] = {
            "dimensionHeaders": [{"name": n} for n in dimensions] if dimensions else None,
            "metricHeaders": [{"name": n, "type": "TYPE_INTEGER"} for n in metrics],
            "kind": "analyticsData#runRealtimeReport" if realtime else "analyticsData#runReport",
        }
        if not dimensions:
            del report["dimensionHeaders"]
        if grouped:
            report["rows"] = [
                {
                    **({"dimensionValues": [{"value": v} for v in dims]} if dims else {}),
                    "metricValues": [{"value": str(int(v))} for v in values],
                }
                for dims, values in grouped[:limit]
            ]
            report["rowCount"] = len(grouped)
        if not realtime:
            report["metadata"] = {"currencyCode": "USD", "timeZone": "Asia/Seoul"}
        return report

    def _group(
        self, rows: list[dict[str, Any]], dimensions: list[str], metrics: list[str], ranges: list[dict[str, Any]]
    ) -> Grouped:
        windows = ranges or [{"startMinutesAgo": 29, "endMinutesAgo": 0}]
        sums: dict[tuple[str, ...], dict[str, float]] = defaultdict(lambda: defaultdict(float))
        for index, window in enumerate(windows):
            for row in rows:
                if not window.get("endMinutesAgo", 0) <= row.get("minutesAgo", 0) <= window.get("startMinutesAgo", 29):
                    continue
                key = tuple(str(row.get(d, "(not set)")) for d in dimensions)
                if len(windows) > 1:
                    key += (window.get("name", f"date_range_{index}"),)
                for metric in metrics:
                    sums[key][metric] += row.get(metric, 0)
        if not dimensions:  # the total: active users come from the property-wide figure
            total = sums.get((), {})
            return [([], [self.active_users if m == "activeUsers" else total.get(m, 0) for m in metrics])]
        return [(list(key), [sums[key][m] for m in metrics]) for key in sums]


def matches(expression: dict[str, Any], row: dict[str, Any], allowed: set[str]) -> bool:
    """A FilterExpression (andGroup/orGroup/notExpression/filter) applied to one data row."""
    if "andGroup" in expression:
        return all(matches(e, row, allowed) for e in expression["andGroup"].get("expressions", []))
    if "orGroup" in expression:
        return any(matches(e, row, allowed) for e in expression["orGroup"].get("expressions", []))
    if "notExpression" in expression:
        return not matches(expression["notExpression"], row, allowed)
    spec = expression.get("filter", {})
    name = spec.get("fieldName", "")
    if name not in allowed:
        raise BadRequest(f"Field {name} is not a valid dimension.")
    value = str(row.get(name, "(not set)"))
    if "inListFilter" in spec:
        in_list = spec["inListFilter"]
        sensitive = in_list.get("caseSensitive", False)
        values = in_list.get("values", [])
        return value in values if sensitive else value.lower() in [v.lower() for v in values]
    string_filter = spec.get("stringFilter")
    if string_filter is None:
        raise BadRequest("fake: only stringFilter and inListFilter are implemented")
    wanted = string_filter.get("value", "")
    kind = string_filter.get("matchType", "EXACT")
    sensitive = string_filter.get("caseSensitive", False)
    if kind in ("PARTIAL_REGEXP", "FULL_REGEXP"):
        pattern = re.compile(wanted, 0 if sensitive else re.IGNORECASE)
        return bool(pattern.search(value) if kind == "PARTIAL_REGEXP" else pattern.fullmatch(value))
    if not sensitive:
        value, wanted = value.lower(), wanted.lower()
    checks = {
        "EXACT": value == wanted,
        "BEGINS_WITH": value.startswith(wanted),
        "ENDS_WITH": value.endswith(wanted),
        "CONTAINS": wanted in value,
    }
    if kind not in checks:
        raise BadRequest(f"Invalid matchType {kind}.")
    return checks[kind]


def sort_rows(rows: Grouped, order_bys: list[dict[str, Any]], dimensions: list[str], metrics: list[str]) -> Grouped:
    """orderBys applied last-first, so the first one wins (a stable multi-key sort)."""
    for order in reversed(order_bys):
        desc = bool(order.get("desc", False))
        if "metric" in order:
            index = metrics.index(order["metric"]["metricName"])
            rows = sorted(rows, key=lambda r, i=index: r[1][i], reverse=desc)
        elif "dimension" in order:
            index = dimensions.index(order["dimension"]["dimensionName"])
            rows = sorted(rows, key=lambda r, i=index: r[0][i], reverse=desc)
    return rows
