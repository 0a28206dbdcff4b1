"""The Sentry source: pure mapping on recorded payloads, polling against the fake, the webhook, the real process."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from allim.settings import ConfigError
from exporter.app import create_app
from exporter.config import ExporterConfig, config_from_mapping
from exporter.scheduler import poll_once
from exporter.snapshot import Snapshot, render
from exporter.sources.sentry import SentryConfig, SentrySource
from exporter.sources.sentry.api import next_cursor
from exporter.sources.sentry.config import period_text
from exporter.sources.sentry.metrics import (
    SentryReading,
    errors_from_stats,
    families_from_reading,
    new_issues_from_issues,
    slow_from_events,
    slugs_from_projects,
    unresolved_from_issues,
)
from exporter.sources.upstream import SourceError
from tests.fakes.sentry import ORG, TOKEN, FakeSentry, make_issue
from tests.support import Clock, Process, ThreadedServer, free_port, python_module, recorded, samples, wait_until

CLIENT_SECRET = "integration-client-secret"
URL_TOKEN = "legacy-url-token"


def load_fixture(name: str) -> Any:
    return recorded("sentry", name)


def value(families: list[Metric], name: str, **labels: str) -> float | None:
    return samples(families).get((name, tuple(sorted(labels.items()))))


def scraped(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None


# -- pure mapping on recorded payloads ------------------------------------------------------
def test_sentry_next_cursor_follows_only_results_true() -> None:
    base = "https://sentry.io/api/0/organizations/acme/issues/"
    more = (
        f'<{base}?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", '
        f'<{base}?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"'
    )
    assert next_cursor(more) == "0:100:0"
    assert next_cursor(more.replace('results="true"', 'results="false"')) is None
    assert next_cursor(None) is None


def test_sentry_stats_map_int_project_ids_to_slugs_and_skip_unknown() -> None:
    slugs = slugs_from_projects(load_fixture("projects.json"))
    assert slugs == {"2": "pump-station", "17": "front-end", "23": "quiet"}
    assert errors_from_stats(load_fixture("stats_v2.json"), slugs, ()) == {"pump-station": 6, "front-end": 1}
    assert errors_from_stats(load_fixture("stats_v2.json"), slugs, ("front-end",)) == {"front-end": 1}


def test_sentry_unresolved_counts_by_level_despite_string_counts_and_null_permalinks() -> None:
    counts = unresolved_from_issues(load_fixture("issues_unresolved.json"), ())
    assert counts == {
        ("pump-station", "error"): 2,
        ("pump-station", "warning"): 1,
        ("front-end", "fatal"): 1,
        ("front-end", "unknown"): 1,  # "critical" is no Sentry level: kept bounded
    }


def test_sentry_new_issues_count_every_status_once() -> None:
    rows = load_fixture("issues_new.json")
    assert new_issues_from_issues(rows + rows[:1], ()) == {"front-end": 2, "pump-station": 1}


def test_sentry_slow_transactions_from_discover_table() -> None:
    slugs = slugs_from_projects(load_fixture("projects.json"))
    assert slow_from_events(load_fixture("events.json")["data"], slugs, ()) == {"pump-station": 42, "front-end": 3}
    assert slow_from_events([{"project": 17, "count()": "5"}], slugs, ()) == {"front-end": 5}


@pytest.mark.parametrize(
    ("call", "body"),
    [
        (lambda b: errors_from_stats(b, {}, ()), {"groups": "nope"}),
        (lambda b: errors_from_stats(b, {"2": "x"}, ()), {"groups": [{"by": {"project": 2}, "totals": {}}]}),
        (
            lambda b: errors_from_stats(b, {"2": "x"}, ()),
            {"groups": [{"by": {"project": 2}, "totals": {"sum(quantity)": "many"}}]},
        ),
        (lambda b: unresolved_from_issues(b, ()), [{"id": "1"}]),
        (lambda b: slow_from_events(b, {}, ()), [{"project": "x"}]),
        (lambda b: slugs_from_projects(b), [{"slug": "x"}]),
    ],
)
def test_sentry_mapping_rejects_unexpected_shapes_as_parse_errors(call: Any, body: Any) -> None:
    with pytest.raises(SourceError) as caught:
        call(body)
    assert caught.value.reason == "parse"


def test_sentry_families_show_zero_for_quiet_projects_and_render() -> None:
    reading = SentryReading(
        projects=["front-end", "quiet"],
        errors={"front-end": 1},
        new_issues={},
        unresolved={("front-end", "error"): 2},
        slow={"front-end": 3},
    )
    families = families_from_reading(reading, {("front-end", "created"): 1}, {"issues_unresolved": 2})
    assert value(families, "sentry_project_errors", project="quiet") == 0
    assert value(families, "sentry_project_new_issues", project="front-end") == 0
    assert value(families, "sentry_project_unresolved_issues", project="front-end", level="error") == 2
    assert value(families, "sentry_project_slow_transactions", project="front-end") == 3
    assert value(families, "sentry_webhook_issues_total", project="front-end", action="created") == 1
    assert value(families, "sentry_page_cap_reached_total", listing="issues_unresolved") == 2
    text = render(families).decode()
    assert "# TYPE sentry_webhook_issues_total counter" in text
    assert 'sentry_project_errors{project="front-end"} 1.0' in text


# -- configuration ------------------------------------------------------------------------
def load(section: dict[str, Any], env: dict[str, str] | None = None) -> SentryConfig:
    config = config_from_mapping({"host": {"enabled": False}, "sentry": section}, env or {})
    sentry = config.sources["sentry"]
    assert isinstance(sentry, SentryConfig)
    return sentry


def test_sentry_enabled_by_default_only_with_token_and_org() -> None:
    assert not load({}).enabled
    assert not load({}, {"SENTRY_TOKEN": "t"}).enabled
    config = load({}, {"SENTRY_TOKEN": "sntrys_secret_value", "SENTRY_ORG": "acme"})
    assert config.enabled and config.interval == 60 and config.window == 3600 and config.slow_threshold == 2.0
    assert config.api_base == "https://sentry.io" and config.dataset == "spans" and config.max_pages == 50
    assert "sntrys_secret_value" not in repr(config)


def test_sentry_enabled_without_credentials_names_the_missing_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        load({"enabled": True, "window": "90s", "dataset": "bogus"})
    message = str(caught.value)
    for key in ("sentry.token", "sentry.org", "sentry.window", "sentry.dataset"):
        assert key in message


def test_sentry_self_hosted_defaults_to_transactions_dataset() -> None:
    config = load({"token": "t", "org": "acme", "api_base": "https://sentry.example.com/", "slow_threshold": "500ms"})
    assert config.api_base == "https://sentry.example.com"
    assert config.dataset == "transactions" and config.slow_query == "transaction.duration:>500"
    assert period_text(3600) == "1h" and period_text(90 * 60) == "90m" and period_text(14 * 86400) == "2w"


# -- against the fake Sentry ---------------------------------------------------------------
@pytest.fixture(scope="module")
def fake_server() -> Iterator[tuple[FakeSentry, str]]:
    fake = FakeSentry()
    with ThreadedServer(fake.app) as server:
        yield fake, server.url


@pytest.fixture
def fake(fake_server: tuple[FakeSentry, str]) -> FakeSentry:
    fake_server[0].reset()
    return fake_server[0]


@pytest.fixture
def fake_url(fake_server: tuple[FakeSentry, str]) -> str:
    return fake_server[1]


def seed(fake: FakeSentry, extra_projects: int = 0) -> None:
    """backend: 6 errors, 3 unresolved errors (2 new) + 1 warning, 2 slow; web: 1 error, 1 new fatal, 1 slow."""
    backend, web, _worker = (fake.data.add_project(slug) for slug in ("backend", "web", "worker"))
    fake.data.errors = {int(backend["id"]): 6, int(web["id"]): 1}
    fake.data.issues = [
        make_issue(10, backend, age=86400, events=150),
        make_issue(11, backend, age=600),
        make_issue(12, backend, age=1200),
        make_issue(13, backend, level="warning", age=7200),
        make_issue(14, backend, status="resolved", age=300),
        make_issue(15, web, level="fatal", age=60),
    ]
    fake.data.transactions = [("backend", 2500), ("backend", 3000), ("backend", 100), ("web", 2001), ("web", 1999)]
    for n in range(extra_projects):
        project = fake.data.add_project(f"extra-{n}")
        fake.data.errors[int(project["id"])] = n
        fake.data.issues.append(make_issue(1000 + n, project, age=120))


def source_for(url: str, client: httpx.AsyncClient, clock: Any = time.time, **section: Any) -> SentrySource:
    config = load({"token": TOKEN, "org": ORG, "api_base": url, "interval": "60s", **section})
    return SentrySource(config, client, clock=clock)


async def test_sentry_values_equal_what_the_fake_serves(fake: FakeSentry, fake_url: str) -> None:
    seed(fake)
    async with httpx.AsyncClient() as client:
        families = await source_for(fake_url, client).collect()
    expected = {
        ("sentry_project_errors", "backend"): 6,
        ("sentry_project_errors", "web"): 1,
        ("sentry_project_errors", "worker"): 0,
        ("sentry_project_new_issues", "backend"): 3,  # 11, 12 and the resolved 14
        ("sentry_project_new_issues", "web"): 1,
        ("sentry_project_new_issues", "worker"): 0,
        ("sentry_project_slow_transactions", "backend"): 2,
        ("sentry_project_slow_transactions", "web"): 1,
        ("sentry_project_slow_transactions", "worker"): 0,
    }
    for (name, project), number in expected.items():
        assert value(families, name, project=project) == number, (name, project)
    assert value(families, "sentry_project_unresolved_issues", project="backend", level="error") == 3
    assert value(families, "sentry_project_unresolved_issues", project="backend", level="warning") == 1
    assert value(families, "sentry_project_unresolved_issues", project="web", level="fatal") == 1
    events_query = next(q for name, q in fake.requests if name == "events")
    assert events_query["dataset"] == "transactions" and events_query["query"] == "transaction.duration:>2000"


async def test_sentry_project_allow_list_limits_calls_and_series(fake: FakeSentry, fake_url: str) -> None:
    seed(fake)
    async with httpx.AsyncClient() as client:
        families = await source_for(fake_url, client, projects=["web"]).collect()
    assert {labels for (name, labels) in samples(families) if name == "sentry_project_errors"} == {
        (("project", "web"),)
    }
    stats_query = next(q for name, q in fake.requests if name == "stats_v2")
    assert stats_query.getlist("project") == [fake.data.projects[1]["id"]]


async def test_sentry_calls_per_cycle_do_not_grow_with_projects(fake: FakeSentry, fake_url: str) -> None:
    async def calls_for_one_cycle(extra_projects: int) -> int:
        fake.reset()
        seed(fake, extra_projects)
        async with httpx.AsyncClient() as client:
            source = source_for(fake_url, client)
            await source.collect()
            first = fake.calls()
            await source.collect()  # the id -> slug map is cached: no projects call this time
            assert fake.calls("projects") == 1
            return fake.calls() - first

    assert await calls_for_one_cycle(0) == await calls_for_one_cycle(60) == 4


async def test_sentry_follows_pagination_and_counts_the_page_cap(fake: FakeSentry, fake_url: str) -> None:
    project = fake.data.add_project("busy")
    fake.data.issues = [make_issue(n, project, age=86400) for n in range(250)]
    async with httpx.AsyncClient() as client:
        families = await source_for(fake_url, client).collect()
        assert value(families, "sentry_project_unresolved_issues", project="busy", level="error") == 250
        assert fake.calls("issues") == 3 + 1  # three unresolved pages, one (empty) new-issues page
        capped = await source_for(fake_url, client, max_pages=2).collect()
    assert value(capped, "sentry_project_unresolved_issues", project="busy", level="error") == 200
    assert value(capped, "sentry_page_cap_reached_total", listing="issues_unresolved") == 1


async def test_sentry_429_defers_the_next_call_until_reset(fake: FakeSentry, fake_url: str) -> None:
    seed(fake)
    clock = Clock(2_000_000_000.0)
    fake.rate_limited_until = 2_000_000_120
    async with httpx.AsyncClient() as client:
        source = source_for(fake_url, client, clock=clock)
        with pytest.raises(SourceError) as caught:
            await source.collect()
        assert caught.value.reason == "rate_limited" and fake.calls() == 1
        assert source.gate.remaining == 0
        fake.rate_limited_until, fake.remaining = None, 40  # the fake's window resets
        clock.now = 2_000_000_119.0
        for _ in range(3):
            with pytest.raises(SourceError) as caught:
                await source.collect()
            assert caught.value.reason == "rate_limited"
        assert fake.calls() == 1  # no call at all while deferred
        clock.now = 2_000_000_121.0
        await source.collect()
    assert fake.calls() == 1 + 5
    assert source.gate.remaining == 40 - 5  # read from X-Sentry-Rate-Limit-Remaining


@pytest.mark.parametrize(
    ("switch", "reason"),
    [
        ({"fail_status": 500}, "http_5xx"),
        ({"fail_status": 403}, "http_4xx"),
        ({"garbage": True}, "parse"),
        ({"delay": 0.5}, "timeout"),
    ],
)
async def test_sentry_upstream_failures_are_classified_without_leaking_the_token(
    fake: FakeSentry, fake_url: str, switch: dict[str, Any], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    seed(fake)
    for key, setting in switch.items():
        setattr(fake, key, setting)
    async with httpx.AsyncClient() as client:
        source = source_for(fake_url, client, timeout="0.2s")
        snapshot = Snapshot([source])
        assert await poll_once(source, snapshot) == reason
    assert snapshot.states["sentry"].errors[reason] == 1
    assert TOKEN not in caplog.text


# -- the exporter app: health isolation and the webhook --------------------------------------
def exporter_config(url: str, host: bool = False) -> ExporterConfig:
    section = {
        "token": TOKEN,
        "org": ORG,
        "api_base": url,
        "client_secret": CLIENT_SECRET,
        "webhook_token": URL_TOKEN,
    }
    return config_from_mapping({"host": {"enabled": host}, "sentry": section}, {})


def wait_ready(client: TestClient) -> None:
    wait_until(lambda: client.get("/readyz").status_code == 200, timeout=10, what="first poll")


def test_sentry_failing_upstream_marks_only_sentry_down(fake: FakeSentry, fake_url: str) -> None:
    fake.fail_status = 502
    with TestClient(create_app(exporter_config(fake_url, host=True))) as client:
        wait_ready(client)
        text = client.get("/metrics").text
    assert scraped(text, "allim_source_up", source="sentry") == 0
    assert scraped(text, "allim_source_up", source="host") == 1
    assert scraped(text, "allim_source_errors_total", source="sentry", reason="http_5xx") == 1
    assert scraped(text, "host_load1") is not None
    assert scraped(text, "sentry_project_errors", project="backend") is None


@pytest.fixture
def exporter(fake: FakeSentry, fake_url: str) -> Iterator[TestClient]:
    seed(fake)
    with TestClient(create_app(exporter_config(fake_url))) as client:
        wait_ready(client)
        yield client


def sign(body: bytes, secret: str = CLIENT_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def issue_body(action: str, project: str = "web", level: str = "error") -> bytes:
    payload = load_fixture("webhook_issue_created.json")
    payload["action"] = action
    payload["data"]["issue"]["project"]["slug"] = project
    payload["data"]["issue"]["level"] = level
    return json.dumps(payload).encode()


def post_hook(
    client: TestClient, body: bytes, signature: str | None, request_id: str = "", **headers: str
) -> httpx.Response:
    sent = {"Content-Type": "application/json", "Sentry-Hook-Resource": "issue", "Request-ID": request_id, **headers}
    if signature is not None:
        sent["Sentry-Hook-Signature"] = signature
    return client.post("/webhooks/sentry", content=body, headers=sent)


def metric(client: TestClient, name: str, **labels: str) -> float | None:
    return scraped(client.get("/metrics").text, name, **labels)


def test_sentry_signed_webhooks_change_the_metrics_at_once(exporter: TestClient) -> None:
    assert metric(exporter, "sentry_project_new_issues", project="web") == 1
    body = issue_body("created")
    answer = post_hook(exporter, body, sign(body), request_id="a1")
    assert answer.status_code == 200, answer.text
    assert metric(exporter, "sentry_project_new_issues", project="web") == 2
    assert metric(exporter, "sentry_project_unresolved_issues", project="web", level="error") == 1
    assert metric(exporter, "sentry_webhook_issues_total", project="web", action="created") == 1
    for n, action in enumerate(("resolved", "archived")):
        body = issue_body(action, project="backend")
        assert post_hook(exporter, body, sign(body), request_id=f"b{n}").status_code == 200
    assert metric(exporter, "sentry_project_unresolved_issues", project="backend", level="error") == 1
    assert metric(exporter, "sentry_webhook_issues_total", project="backend", action="archived") == 1
    assert metric(exporter, "allim_webhook_requests_total", source="sentry", code="200") == 3


def test_sentry_webhook_repeated_request_id_is_ignored(exporter: TestClient) -> None:
    body = issue_body("created")
    for _ in range(3):
        assert post_hook(exporter, body, sign(body), request_id="same-id").status_code == 200
    assert metric(exporter, "sentry_webhook_issues_total", project="web", action="created") == 1
    assert metric(exporter, "sentry_project_new_issues", project="web") == 2


def test_sentry_webhook_tampered_or_missing_signature_is_401(exporter: TestClient) -> None:
    body = issue_body("created")
    good = sign(body)
    reordered = json.dumps(dict(reversed(json.loads(body).items()))).encode()
    spaced = body.replace(b'", "', b'","')
    for sent, signature in ((spaced, good), (reordered, good), (body, sign(body, "wrong")), (body, None)):
        answer = post_hook(exporter, sent, signature, request_id="x")
        assert answer.status_code == 401, answer.text
        assert "\n" not in answer.text.strip() and CLIENT_SECRET not in answer.text
    assert metric(exporter, "sentry_project_new_issues", project="web") == 1
    assert metric(exporter, "allim_webhook_requests_total", source="sentry", code="401") == 4
    # a rejected request must not burn its Request-ID: the genuine delivery still counts
    assert post_hook(exporter, body, good, request_id="x").status_code == 200


def test_sentry_webhook_bad_input_gets_a_one_line_4xx(exporter: TestClient) -> None:
    garbage = b"not json at all"
    assert post_hook(exporter, garbage, sign(garbage)).status_code == 400
    no_issue = b'{"action": "created", "data": {}}'
    assert post_hook(exporter, no_issue, sign(no_issue)).status_code == 400
    bad_slug = issue_body("created", project="Not A Slug/../x")
    assert post_hook(exporter, bad_slug, sign(bad_slug)).status_code == 400
    body = issue_body("created")
    answer = post_hook(exporter, body, sign(body), **{"Content-Type": "text/plain"})
    assert answer.status_code == 415
    huge = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert post_hook(exporter, huge, sign(huge)).status_code == 413
    other = b'{"action": "critical", "data": {"metric_alert": {}}}'
    answer = post_hook(exporter, other, sign(other), **{"Sentry-Hook-Resource": "metric_alert"})
    assert answer.status_code == 200 and "ignored" in answer.text
    assert metric(exporter, "sentry_project_new_issues", project="web") == 1


def test_sentry_legacy_plugin_needs_the_url_token(exporter: TestClient) -> None:
    body = json.dumps(load_fixture("webhook_legacy_plugin.json")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "sentry-webhooks/24.1.0"}
    assert exporter.post("/webhooks/sentry", content=body, headers=headers).status_code == 401
    assert exporter.post("/webhooks/sentry?token=wrong", content=body, headers=headers).status_code == 401
    answer = exporter.post(f"/webhooks/sentry?token={URL_TOKEN}", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    assert metric(exporter, "sentry_webhook_issues_total", project="front-end", action="triggered") == 1
    unsigned_integration = issue_body("created")
    answer = exporter.post(f"/webhooks/sentry?token={URL_TOKEN}", content=unsigned_integration, headers=headers)
    assert answer.status_code == 401


# -- the real process ----------------------------------------------------------------------
def test_sentry_process_shows_a_signed_webhook_within_a_second(fake: FakeSentry, fake_url: str, tmp_path: Path) -> None:
    seed(fake)
    port = free_port()
    config_file = tmp_path / "exporter.yml"
    config_file.write_text("host:\n  enabled: false\n")
    env = {
        "SENTRY_TOKEN": TOKEN,
        "SENTRY_ORG": ORG,
        "SENTRY_API_BASE": fake_url,
        "SENTRY_CLIENT_SECRET": CLIENT_SECRET,
    }
    args = python_module("exporter", "--config.file", str(config_file), "--web.listen-address", f"127.0.0.1:{port}")
    process = Process(args, tmp_path / "exporter.log", env)
    base = f"http://127.0.0.1:{port}"
    try:
        process.wait_http(f"{base}/readyz", timeout=20)
        assert scraped(httpx.get(f"{base}/metrics").text, "sentry_project_new_issues", project="web") == 1
        body = issue_body("created")
        headers = {
            "Content-Type": "application/json",
            "Sentry-Hook-Resource": "issue",
            "Request-ID": "6c4e1f0b2d9a4a5e8f1b3c7d9e0a1b2c",
            "Sentry-Hook-Signature": sign(body),
        }
        started = time.monotonic()
        answer = httpx.post(f"{base}/webhooks/sentry", content=body, headers=headers, timeout=1.0)
        assert answer.status_code == 200
        wait_until(
            lambda: scraped(httpx.get(f"{base}/metrics").text, "sentry_project_new_issues", project="web") == 2,
            timeout=1.0,
            what="the webhook to show in /metrics",
        )
        assert time.monotonic() - started < 1.0
        assert TOKEN not in process.log() and CLIENT_SECRET not in process.log()
    finally:
        process.stop()
