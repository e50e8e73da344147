"""Webhook delivery through the real `default` queue: an rqworker process and the sweeper for retries."""

from __future__ import annotations

import pytest

from jobs import services
from jobs.models import WebhookDelivery, WebhookEndpoint
from tests.factories import RenderJobFactory
from tests.jobs.conftest import wait_for
from tests.jobs.webhook_receiver import start_receiver, stop_receiver

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db", "redis_conn")]

ENV = {"WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32", "WEBHOOK_RETRY_BASE": "0.2"}


@pytest.fixture
def target():
    receiver = start_receiver(fail_first=3)
    yield receiver
    stop_receiver(receiver)


def test_receiver_failing_three_times_gets_exactly_one_accepted_delivery(owner, processes, target):
    target.secret = WebhookEndpoint.objects.create(owner=owner, url=target.url, events=["job.failed"]).secret
    worker = processes.worker(**ENV)
    processes.sweeper(**ENV)
    job = RenderJobFactory(project__owner=owner, owner=owner)
    services.job_fail(job_id=job.id, error_code="RENDER_FAILED", error_message="boom")  # commits: enqueued

    try:
        delivery = wait_for(lambda: WebhookDelivery.objects.filter(job=job, status="SUCCEEDED").first(),
                            timeout=60, what="the delivery to succeed")
    except AssertionError:
        raise AssertionError(worker.log()[-3000:]) from None
    assert delivery.attempts == 4 and delivery.response_code == 204
    assert [r.status for r in target.received] == [500, 500, 500, 204]
    assert all(r.verified for r in target.received)
    (accepted,) = target.accepted()
    assert accepted.payload["data"]["job_id"] == str(job.id)
    assert delivery.committed_at is not None and delivery.delivered_at > delivery.committed_at
