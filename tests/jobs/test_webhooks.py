"""Webhooks against a real HTTP receiver on 127.0.0.1, verified with the standardwebhooks verifier."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from jobs import services
from jobs.models import RenderJob, WebhookDelivery, WebhookEndpoint
from jobs.webhooks.services import webhook_deliveries_due_enqueue, webhook_delivery_attempt
from tests.factories import RenderJobFactory
from tests.jobs.webhook_receiver import start_receiver, stop_receiver

pytestmark = pytest.mark.django_db

LOCAL = ["127.0.0.1/32"]


@pytest.fixture
def local_allowed(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = LOCAL
    settings.WEBHOOK_RETRY_BASE = 0.0  # every failed attempt is due again at once


@pytest.fixture
def receiver():
    made = []

    def start(**options):
        made.append(start_receiver(**options))
        return made[-1]

    yield start
    for item in made:
        stop_receiver(item)


def endpoint_for(owner, url, events=("job.completed", "job.failed", "job.canceled")) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(owner=owner, url=url, events=list(events))


def failed_job(owner) -> RenderJob:
    job = RenderJobFactory(project__owner=owner, owner=owner)
    services.job_fail(job_id=job.id, error_code="RENDER_FAILED", error_message="The encoder stopped.")
    return job


def only_delivery(job) -> WebhookDelivery:
    return WebhookDelivery.objects.get(job=job)


def test_failed_job_delivers_a_signed_event_the_verifier_accepts(owner, local_allowed, receiver):
    target = receiver()
    endpoint = endpoint_for(owner, "")
    target.secret = endpoint.secret
    endpoint.url = target.url
    endpoint.save()

    job = failed_job(owner)
    delivery = webhook_delivery_attempt(delivery_id=only_delivery(job).id)

    assert delivery.status == "SUCCEEDED" and delivery.response_code == 204 and delivery.attempts == 1
    (got,) = target.received
    assert got.verified and got.webhook_id == f"msg_{delivery.id.hex}"
    assert got.payload["type"] == "job.failed"
    assert got.payload["data"]["job_id"] == str(job.id) and got.payload["data"]["error_code"] == "RENDER_FAILED"


def test_a_wrong_secret_does_not_verify(owner, local_allowed, receiver):
    target = receiver(secret="whsec_" + "QUJD" * 8)
    endpoint_for(owner, target.url)
    job = failed_job(owner)
    webhook_delivery_attempt(delivery_id=only_delivery(job).id)
    (got,) = target.received
    assert not got.verified


def test_only_subscribed_events_are_delivered(owner, local_allowed, receiver):
    target = receiver()
    endpoint_for(owner, target.url, events=["job.completed"])
    job = failed_job(owner)
    assert not WebhookDelivery.objects.filter(job=job).exists()


def test_progress_subscribers_get_progress_events_only(owner, local_allowed, receiver):
    target = receiver()
    endpoint_for(owner, target.url, events=["job.progress"])
    job = RenderJobFactory(project__owner=owner, owner=owner)  # submitted: job.progress (PENDING)
    services.job_claim(job_id=job.id)  # PENDING → RUNNING: job.progress
    services.job_fail(job_id=job.id, error_code="RENDER_FAILED", error_message="boom")  # job.failed: not sent
    sent = WebhookDelivery.objects.filter(job=job).order_by("event_seq")
    assert [(d.event_type, d.event_seq) for d in sent] == [("job.progress", 1), ("job.progress", 2)]


def test_failing_receiver_is_retried_until_one_delivery_is_accepted(owner, local_allowed, receiver):
    target = receiver(fail_first=3)
    target.secret = endpoint_for(owner, target.url).secret
    delivery_id = only_delivery(failed_job(owner)).id

    for _ in range(5):
        webhook_delivery_attempt(delivery_id=delivery_id)
    delivery = WebhookDelivery.objects.get(pk=delivery_id)

    assert delivery.status == "SUCCEEDED" and delivery.attempts == 4
    assert [r.status for r in target.received] == [500, 500, 500, 204]
    assert len({r.webhook_id for r in target.received}) == 1  # every attempt carries the same webhook-id
    assert len(target.accepted()) == 1


def test_failed_attempt_is_scheduled_with_exponential_backoff(owner, settings, receiver):
    settings.WEBHOOK_ALLOWED_NETWORKS = LOCAL
    settings.WEBHOOK_RETRY_BASE = 10.0
    target = receiver(fail_first=5)
    endpoint_for(owner, target.url)
    delivery_id = only_delivery(failed_job(owner)).id

    first = webhook_delivery_attempt(delivery_id=delivery_id)
    assert first.status == "PENDING" and first.response_code == 500 and "answered 500" in first.error
    gap = (first.next_attempt_at - first.last_attempt_at).total_seconds()
    assert 9 <= gap <= 11
    assert webhook_delivery_attempt(delivery_id=delivery_id) is None  # not due yet: nothing sent
    WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=first.last_attempt_at)
    second = webhook_delivery_attempt(delivery_id=delivery_id)
    assert 19 <= (second.next_attempt_at - second.last_attempt_at).total_seconds() <= 21
    assert len(target.received) == 2


def test_retries_stop_after_the_retry_window(owner, settings, receiver):
    settings.WEBHOOK_ALLOWED_NETWORKS = LOCAL
    settings.WEBHOOK_RETRY_BASE = 10.0
    settings.WEBHOOK_RETRY_FOR = 5.0  # shorter than the first backoff: one attempt only
    target = receiver(fail_first=5)
    endpoint_for(owner, target.url)
    delivery = webhook_delivery_attempt(delivery_id=only_delivery(failed_job(owner)).id)
    assert delivery.status == "FAILED" and delivery.next_attempt_at is None


def test_hanging_receiver_is_timed_out(owner, local_allowed, settings, receiver):
    settings.WEBHOOK_TIMEOUT = 0.5
    target = receiver(hang=True)
    endpoint_for(owner, target.url)
    delivery = webhook_delivery_attempt(delivery_id=only_delivery(failed_job(owner)).id)
    assert delivery.status == "PENDING" and delivery.response_code is None
    assert delivery.error == "No answer within 0.5 s."


def test_redirects_are_not_followed(owner, local_allowed, receiver):
    elsewhere = receiver()
    target = receiver(status=302, headers_out={"Location": elsewhere.url})
    endpoint_for(owner, target.url)
    delivery = webhook_delivery_attempt(delivery_id=only_delivery(failed_job(owner)).id)
    assert delivery.status == "PENDING" and delivery.response_code == 302
    assert "redirects are not followed" in delivery.error
    assert elsewhere.received == []


def test_only_the_first_kilobyte_of_the_answer_is_kept(owner, local_allowed, receiver):
    target = receiver(status=200, body=b"x" * 50_000)
    endpoint_for(owner, target.url)
    delivery = webhook_delivery_attempt(delivery_id=only_delivery(failed_job(owner)).id)
    assert delivery.status == "SUCCEEDED" and delivery.response_body == "x" * 1024


def test_a_binary_answer_is_stored_readably(owner, local_allowed, receiver):
    target = receiver(status=200, body=b"ok\x00\xff")
    endpoint_for(owner, target.url)
    delivery = webhook_delivery_attempt(delivery_id=only_delivery(failed_job(owner)).id)
    assert delivery.status == "SUCCEEDED" and delivery.response_body == "ok\ufffd\ufffd"


def test_endpoint_is_disabled_after_repeated_failures_with_a_notice(owner, local_allowed, settings, receiver):
    settings.WEBHOOK_DISABLE_AFTER = 3
    target = receiver(fail_first=100)
    endpoint = endpoint_for(owner, target.url)
    first, second = only_delivery(failed_job(owner)), only_delivery(failed_job(owner))
    for _ in range(2):
        webhook_delivery_attempt(delivery_id=first.id)
    webhook_delivery_attempt(delivery_id=second.id)

    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert "after 3 failed delivery attempts" in endpoint.disabled_reason
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"FAILED"}
    failed_job(owner)  # a disabled endpoint gets no new deliveries
    assert WebhookDelivery.objects.count() == 2


def test_target_is_checked_again_at_delivery_time(owner, settings, receiver):
    settings.WEBHOOK_ALLOWED_NETWORKS = LOCAL
    target = receiver()
    endpoint_for(owner, target.url)
    delivery_id = only_delivery(failed_job(owner)).id
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    delivery = webhook_delivery_attempt(delivery_id=delivery_id)
    assert delivery.status != "SUCCEEDED" and delivery.error.startswith("Refused:")
    assert target.received == []


def test_sweeper_enqueues_due_retries_once(owner, local_allowed, receiver, redis_conn):
    import django_rq

    target = receiver(fail_first=5)
    endpoint_for(owner, target.url)
    delivery_id = only_delivery(failed_job(owner)).id
    webhook_delivery_attempt(delivery_id=delivery_id)
    queue = django_rq.get_queue("default")
    before = queue.count
    assert webhook_deliveries_due_enqueue() == 1
    assert webhook_deliveries_due_enqueue() == 0
    assert queue.count == before + 1


def test_signature_matches_the_spec_example():
    # The Standard Webhooks spec's own example: our signing is the library's, checked end to end above.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    from datetime import UTC, datetime

    from jobs.webhooks.services import webhook_sign

    headers = webhook_sign(secret=secret, webhook_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
                           sent_at=datetime.fromtimestamp(1614265330, tz=UTC),
                           body='{"test": 2432232314}')
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert headers["webhook-timestamp"] == "1614265330"
    Webhook(secret)  # the verifier accepts the secret format we generate too
