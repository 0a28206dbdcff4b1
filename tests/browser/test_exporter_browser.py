"""The exporter's landing page in a real browser: a working host source and a Sentry source that cannot reach
its API, each shown with its state and reason."""

from __future__ import annotations

import pytest

from tests.support import Process, free_port, python_module

pytestmark = pytest.mark.slow


def test_browser_exporter_landing_page_tells_which_source_fails(tmp_path, tabs):
    port = free_port()
    env = {
        "SENTRY_TOKEN": "sentry-s3cret",
        "SENTRY_ORG": "acme",
        "SENTRY_API_BASE": f"http://127.0.0.1:{free_port()}",  # nothing listens there
        "HETRIXTOOLS_API_KEY": "",
        "GA4_PROPERTY_ID": "",
        "ALLIM_LANGUAGE": "",
        "ALLIM_TIMEZONE": "",
    }
    process = Process(python_module("exporter", "--web.listen-address", f"127.0.0.1:{port}"), tmp_path / "x.log", env)
    try:
        url = f"http://127.0.0.1:{port}"
        process.wait_http(f"{url}/readyz")
        tab = tabs()
        assert tab.visit(url, "exporter-landing").status == 200
        host = tab.page.inner_text('tr[data-source="host"]')
        sentry = tab.page.inner_text('tr[data-source="sentry"]')
        assert "up" in host and "down" in sentry and "network: ConnectError" in sentry
        assert "sentry-s3cret" not in tab.page.content()
        webhooks = tab.page.inner_text("table.webhooks")
        assert "POST /webhooks/sentry" in webhooks and "POST /webhooks/hetrixtools" in webhooks
        tab.assert_links_answer_200()
        assert tab.errors == []
    finally:
        process.stop()
