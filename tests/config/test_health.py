from __future__ import annotations

import pytest
from django.core.cache import caches

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_unreachable(settings):
    """Point every Redis user at a closed port: a real connection refusal, not a mock."""
    settings.REDIS_URL = UNREACHABLE_REDIS
    settings.RQ_QUEUES = {name: {**conf, "URL": UNREACHABLE_REDIS} for name, conf in settings.RQ_QUEUES.items()}
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": UNREACHABLE_REDIS},
    }
    yield
    caches["default"].close()


def test_healthz_answers_ok(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_missing_workers(client, db, redis_conn):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["workers"]
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "ok"


def test_readyz_is_ok_with_a_real_worker(client, rq_worker):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"


def test_readyz_names_redis_when_it_is_unreachable(client, db, redis_unreachable):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert "redis" in body["failed"]
    assert body["checks"]["redis"] == "unreachable"
    assert "127.0.0.1:1" not in response.content.decode()


def test_healthz_and_login_page_answer_while_redis_is_down(client, db, redis_unreachable):
    assert client.get("/healthz").status_code == 200
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"Log in" in response.content


def test_logged_in_pages_keep_working_while_redis_is_down(client, owner, redis_unreachable):
    assert client.login(username="owner", password="correct horse battery")
    assert client.get("/").status_code == 200
