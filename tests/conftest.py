from __future__ import annotations

import pytest
import redis
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.processes import service_env, start_daphne, start_worker


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test writes media under its own temporary MEDIA_ROOT."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def owner(db):
    return UserFactory(username="owner")


@pytest.fixture
def stranger(db):
    return UserFactory(username="stranger")


@pytest.fixture
def staff(db):
    return UserFactory(username="staff", is_staff=True, is_superuser=True)


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def owner_client(owner) -> APIClient:
    return token_client(owner)


@pytest.fixture
def stranger_client(stranger) -> APIClient:
    return token_client(stranger)


@pytest.fixture
def redis_conn():
    """The test Redis database, emptied before and after the test."""
    conn = redis.Redis.from_url(settings.REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def process_logs(tmp_path):
    return tmp_path / "process-logs"


@pytest.fixture
def rq_worker(transactional_db, redis_conn, process_logs):
    """A real `rqworker render default` process on the test database and Redis."""
    proc = start_worker(service_env(), process_logs)
    yield proc
    proc.stop()


@pytest.fixture
def live_server_url(transactional_db, redis_conn, process_logs):
    """A real daphne process serving config.asgi on a free port; yields its base URL."""
    proc, base_url = start_daphne(service_env(), process_logs)
    yield base_url
    proc.stop()
