"""`/metrics`: Prometheus text parsed with prometheus_client's parser; numbers match the database."""

from __future__ import annotations

import pytest
from django.db.models import F
from prometheus_client.parser import text_string_to_metric_families

from config import metrics
from jobs.models import RenderJob
from tests.conftest import token_client
from tests.jobs.conftest import wait_for

pytestmark = pytest.mark.usefixtures("redis_conn")


@pytest.fixture
def enabled(settings):
    settings.METRICS_ENABLED = True
    settings.METRICS_TOKEN = "scrape-me"


def scrape(client) -> dict[str, list]:
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    families = text_string_to_metric_families(response.content.decode())
    return {family.name: family.samples for family in families}


def value(samples, name: str, **labels) -> float:
    matching = [s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert matching, (name, labels)
    return matching[0]


@pytest.mark.django_db
def test_metrics_is_404_unless_enabled(client, settings):
    settings.METRICS_ENABLED = False
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_metrics_wants_the_token(client, enabled):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


@pytest.mark.django_db
def test_pending_render_shows_in_queue_depth_and_job_counts(client, enabled, owner, make_project):
    response = token_client(owner).post(f"/api/projects/{make_project().id}/renders", {"preset": "draft"},
                                        format="json")
    assert response.status_code == 202
    from jobs.services import job_enqueue

    job_enqueue(response.json()["job"]["id"])  # the on-commit enqueue (this test runs inside a transaction)
    samples = scrape(client)
    assert value(samples["cutline_queue_depth"], "cutline_queue_depth", queue="render") == 1
    assert value(samples["cutline_queue_oldest_age_seconds"], "cutline_queue_oldest_age_seconds", queue="render") >= 0
    assert value(samples["cutline_jobs"], "cutline_jobs", status="PENDING") == 1


@pytest.mark.django_db
def test_http_requests_and_event_latency_are_pushed_through_redis(client, enabled, owner_client):
    owner_client.get("/api/projects/")
    metrics.event_delivered({"ts": "2026-01-01T00:00:00Z"}, via="sse")  # very late: lands in +Inf only
    metrics.sse_streams_add(2)
    samples = scrape(client)
    http = samples["cutline_http_request_duration_seconds"]
    assert value(http, "cutline_http_request_duration_seconds_count", method="GET", status="2xx") >= 1
    latency = samples["cutline_event_delivery_latency_seconds"]
    assert value(latency, "cutline_event_delivery_latency_seconds_count", via="sse") == 1
    assert value(latency, "cutline_event_delivery_latency_seconds_bucket", via="sse", le="5.0") == 0
    assert value(samples["cutline_sse_streams_open"], "cutline_sse_streams_open") == 2
    metrics.sse_streams_add(-2)


@pytest.mark.e2e
def test_numbers_match_the_database_after_a_few_renders(client, enabled, owner, make_project, processes,
                                                        transactional_db):
    api = token_client(owner)
    worker = processes.worker()
    ids = []
    for seconds in (1.0, 2.0):
        project = make_project(seconds=seconds)
        response = api.post(f"/api/projects/{project.id}/renders", {"preset": "draft"}, format="json")
        ids.append(response.json()["job"]["id"])
    canceled = api.post(f"/api/projects/{make_project().id}/renders", {"preset": "draft"}, format="json").json()
    api.post(f"/api/jobs/{canceled['job']['id']}/cancel")
    try:
        wait_for(lambda: RenderJob.objects.filter(pk__in=ids, status="SUCCEEDED").count() == 2, timeout=120,
                 what="two renders")
    except AssertionError:
        raise AssertionError(worker.log()[-3000:]) from None

    samples = scrape(client)
    for status in RenderJob.Status.values:
        assert value(samples["cutline_jobs"], "cutline_jobs", status=status) == \
            RenderJob.objects.filter(status=status).count()
    done = list(RenderJob.objects.filter(status="SUCCEEDED").annotate(took=F("finished_at") - F("started_at")))
    render_seconds = samples["cutline_render_seconds"]
    assert value(render_seconds, "cutline_render_seconds_count") == 2
    assert value(render_seconds, "cutline_render_seconds_sum") == pytest.approx(
        sum(job.took.total_seconds() for job in done), rel=1e-6)
    factor = samples["cutline_render_realtime_factor"]
    assert value(factor, "cutline_render_realtime_factor_sum") == pytest.approx(
        sum(job.result_duration / job.took.total_seconds() for job in done), rel=1e-6)
    assert value(samples["cutline_queue_depth"], "cutline_queue_depth", queue="render") == 0


@pytest.mark.django_db
def test_the_grafana_dashboard_uses_only_metrics_we_serve(client, enabled, owner_client):
    import json
    import re
    from pathlib import Path

    owner_client.get("/api/projects/")
    metrics.event_delivered({"ts": "2026-01-01T00:00:00Z"}, via="socket")
    metrics.webhook_attempt_observe(outcome="SUCCEEDED", latency_ms=12.0)
    served = set(scrape(client))
    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text())
    used = {re.sub(r"_(bucket|count|sum)$", "", name)
            for panel in dashboard["panels"] for target in panel["targets"]
            for name in re.findall(r"cutline_[a-z_]+", target["expr"])}
    assert used and used <= served, used - served
