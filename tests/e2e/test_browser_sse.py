"""A real `EventSource` in Chromium keeps following a job across server-closed streams, long after its
ticket's lifetime (REALTIME_TICKET_TTL, shortened to 5 s for the server here instead of waiting 60 s)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from django.db import connections
from rest_framework.authtoken.models import Token

from jobs import services
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.factories import ProjectFactory, RenderJobFactory
from tests.processes import service_env, start_daphne

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.usefixtures("transactional_db", "redis_conn")]

TICKET_TTL = 5

FOLLOW = """([url]) => {
  window.sse = { opens: [], events: [], errors: 0 };
  const source = new EventSource(url);
  window.sse.source = source;
  source.onopen = () => window.sse.opens.push(Date.now());
  source.onerror = () => { window.sse.errors += 1; };
  for (const type of ["job.snapshot", "job.progress", "job.canceled"]) {
    source.addEventListener(type, (event) => {
      window.sse.events.push({ type, id: event.lastEventId, data: JSON.parse(event.data) });
      if (type === "job.canceled") source.close();
    });
  }
}"""


def _wait(page, expression: str, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        page.wait_for_timeout(100)
    state = page.evaluate("JSON.stringify(window.sse)")
    raise AssertionError(f"timed out after {timeout} s waiting for {what}: {state}")


@pytest.fixture
def short_ticket_server(process_logs):
    proc, base_url = start_daphne(service_env(REALTIME_TICKET_TTL=str(TICKET_TTL)), process_logs)
    yield base_url
    proc.stop()


@pytest.fixture
def chromium_page(short_ticket_server, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; run `make browser-deps`.")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            base_url=short_ticket_server,
        )
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()
            connections.close_all()


def test_eventsource_resumes_its_stream_after_the_ticket_expired(owner, short_ticket_server, chromium_page):
    page = chromium_page
    job = RenderJobFactory(project=ProjectFactory(owner=owner))
    services.job_claim(job_id=job.id, worker_name="test")
    token, _ = Token.objects.get_or_create(user=owner)
    ticket = httpx.post(f"{short_ticket_server}/api/realtime/ticket",
                        headers={"Authorization": f"Token {token.key}"}).json()["ticket"]

    page.goto("/healthz")  # the API's origin: EventSource needs no CORS there
    issued_at = page.evaluate("Date.now()")
    # The server closes an idle stream after 2 s; the browser reconnects by itself with Last-Event-ID.
    page.evaluate(FOLLOW, [f"/api/jobs/{job.id}/events?token={ticket}&timeout=2"])
    _wait(page, "window.sse.events.some(e => e.type === 'job.snapshot')", timeout=20, what="the snapshot")

    # Wait for a reconnect that happens after the ticket's lifetime is over.
    expired_at = issued_at + (TICKET_TTL + 1) * 1000
    _wait(page, f"window.sse.opens.some(t => t > {expired_at})", timeout=40, what="a reconnect after expiry")
    assert page.evaluate("window.sse.source.readyState") != 2, "the browser gave up on the stream"

    services.job_progress_record(job_id=job.id, attempt=1, phase="ENCODE", progress=70.0, message="Late news")
    progress = _wait(page, "window.sse.events.find(e => e.type === 'job.progress' && e.data.progress === 70)",
                     timeout=30, what="progress sent after the ticket expired")
    assert progress["data"]["message"] == "Late news"

    services.job_mark_canceled(job_id=job.id)
    _wait(page, "window.sse.events.some(e => e.type === 'job.canceled')", timeout=30, what="the terminal event")
    sse = page.evaluate("({opens: window.sse.opens.length, ids: window.sse.events.map(e => Number(e.id))})")
    assert sse["opens"] >= 2
    # Every event once, in order, across the reconnects.
    assert sse["ids"] == sorted(set(sse["ids"]))
