"""`/api/webhooks/` and `/api/webhook-deliveries/`: secrets shown once, SSRF refused, the log, redelivery."""

from __future__ import annotations

import pytest

from jobs import services
from jobs.models import WebhookDelivery, WebhookEndpoint
from jobs.webhooks.services import webhook_delivery_attempt
from tests.factories import RenderJobFactory
from tests.jobs.webhook_receiver import start_receiver, stop_receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = start_receiver()
    yield receiver
    stop_receiver(receiver)


def create(client, url, events=("job.completed",)):
    return client.post("/api/webhooks/", {"url": url, "events": list(events)}, format="json")


def test_create_shows_the_secret_once(owner_client, target):
    response = create(owner_client, target.url)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["is_active"] is True
    listed = owner_client.get("/api/webhooks/").json()["results"]
    assert [item["id"] for item in listed] == [body["id"]] and "secret" not in listed[0]
    assert "secret" not in owner_client.get(f"/api/webhooks/{body['id']}").json()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/", "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data", "http://[::1]/", "http://0.0.0.0/", "http://[fd00::1]/",
    "http://[::ffff:127.0.0.1]/",
])
def test_internal_targets_are_refused(owner_client, url):
    response = create(owner_client, url)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "INVALID_WEBHOOK" and body["errors"][0]["attr"] == "url"
    assert "public addresses only" in body["errors"][0]["detail"]
    assert not WebhookEndpoint.objects.exists()


def test_non_http_schemes_are_refused(owner_client):
    response = create(owner_client, "ftp://example.com/hook")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "url"


def test_unknown_event_names_the_field(owner_client, target):
    response = create(owner_client, target.url, events=["job.exploded"])
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "events.0"


def test_the_allowed_network_setting_lets_loopback_through(owner_client, target, settings):
    assert create(owner_client, target.url).status_code == 201
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    assert create(owner_client, target.url).status_code == 400


def test_delivery_log_and_redelivery_with_the_same_webhook_id(owner, owner_client, target):
    endpoint_id = create(owner_client, target.url, events=["job.failed"]).json()["id"]
    job = RenderJobFactory(project__owner=owner, owner=owner)
    services.job_fail(job_id=job.id, error_code="RENDER_FAILED", error_message="boom")
    delivery = WebhookDelivery.objects.get(job=job)
    webhook_delivery_attempt(delivery_id=delivery.id)

    log = owner_client.get(f"/api/webhooks/{endpoint_id}/deliveries").json()["results"]
    assert len(log) == 1
    entry = log[0]
    assert entry["status"] == "SUCCEEDED" and entry["response_code"] == 204 and entry["latency_ms"] > 0
    assert entry["job_id"] == str(job.id) and entry["event_type"] == "job.failed"
    assert owner_client.get(f"/api/webhook-deliveries/?job={job.id}").json()["count"] == 1

    response = owner_client.post(f"/api/webhook-deliveries/{delivery.id}/redeliver")
    assert response.status_code == 202 and response.json()["status"] == "PENDING"
    webhook_delivery_attempt(delivery_id=delivery.id)
    assert [r.webhook_id for r in target.received] == [entry["webhook_id"]] * 2


def test_redelivery_to_a_disabled_endpoint_is_refused(owner, owner_client, target):
    endpoint = WebhookEndpoint.objects.create(owner=owner, url=target.url, events=["job.failed"])
    job = RenderJobFactory(project__owner=owner, owner=owner)
    services.job_fail(job_id=job.id, error_code="RENDER_FAILED", error_message="boom")
    delivery = WebhookDelivery.objects.get(job=job)
    endpoint.is_active = False
    endpoint.save()
    response = owner_client.post(f"/api/webhook-deliveries/{delivery.id}/redeliver")
    assert response.status_code == 409


def test_reactivating_clears_the_notice(owner, owner_client, target):
    endpoint = WebhookEndpoint.objects.create(owner=owner, url=target.url, events=["job.failed"], is_active=False,
                                              consecutive_failures=50, disabled_reason="Disabled after 50")
    response = owner_client.patch(f"/api/webhooks/{endpoint.id}", {"is_active": True}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_active"] and body["disabled_reason"] == "" and body["consecutive_failures"] == 0


def test_others_endpoints_and_deliveries_are_404(owner, stranger_client, target):
    endpoint = WebhookEndpoint.objects.create(owner=owner, url=target.url, events=["job.failed"])
    job = RenderJobFactory(project__owner=owner, owner=owner)
    services.job_fail(job_id=job.id, error_code="RENDER_FAILED", error_message="boom")
    delivery = WebhookDelivery.objects.get(job=job)
    assert stranger_client.get(f"/api/webhooks/{endpoint.id}").status_code == 404
    assert stranger_client.delete(f"/api/webhooks/{endpoint.id}").status_code == 404
    assert stranger_client.get(f"/api/webhook-deliveries/{delivery.id}").status_code == 404
    assert stranger_client.post(f"/api/webhook-deliveries/{delivery.id}/redeliver").status_code == 404
    assert stranger_client.get("/api/webhook-deliveries/").json()["count"] == 0


def test_admin_lists_endpoints_and_deliveries_and_redelivers(owner, staff, client, target):
    endpoint = WebhookEndpoint.objects.create(owner=owner, url=target.url, events=["job.failed"])
    job = RenderJobFactory(project__owner=owner, owner=owner)
    services.job_fail(job_id=job.id, error_code="RENDER_FAILED", error_message="boom")
    delivery = WebhookDelivery.objects.get(job=job)
    webhook_delivery_attempt(delivery_id=delivery.id)
    client.force_login(staff)
    assert client.get("/admin/jobs/webhookendpoint/").status_code == 200
    assert client.get(f"/admin/jobs/webhookendpoint/{endpoint.id}/change/").status_code == 200
    assert client.get("/admin/jobs/webhookdelivery/").status_code == 200
    response = client.post("/admin/jobs/webhookdelivery/", {"action": "redeliver", "_selected_action": [delivery.id]})
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "PENDING"
