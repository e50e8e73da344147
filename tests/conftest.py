from __future__ import annotations

import uuid

import pytest
import redis
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connections
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.processes import service_env, start_daphne, start_s3_server, start_worker


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """pytest-django's test database, with the connection async tests leave open closed before it is dropped.

    Channels' test communicators turn `channels.db.close_old_connections` into a no-op while they send and
    receive, so `database_sync_to_async` calls made then (a consumer's reads) leave a connection open in
    asgiref's one thread-sensitive executor thread, which lives as long as the session. Django closes its
    pool before dropping the database, but a pool does not close a connection still checked out, and one
    left open makes DROP DATABASE fail ("being accessed by other users"). Django connections are per thread,
    so that thread closes its own."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(timeout=10)


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


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "cutline-test", "AWS_SECRET_ACCESS_KEY": "cutline-test-secret",
                  "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    """A real S3 API server (moto's server mode) in a separate process for the whole test session."""
    proc, endpoint = start_s3_server(tmp_path_factory.mktemp("s3-server-logs"))
    yield endpoint
    proc.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint, monkeypatch):
    """`default_storage` on a fresh bucket of the S3 server; yields `(STORAGE_URL, boto3 bucket)`.

    The credentials and STORAGE_URL are also put in the environment, so server and worker processes
    started by the test (tests/processes.service_env) use the same bucket.
    """
    import boto3

    for key, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    name = f"cutline-{uuid.uuid4().hex[:12]}"
    bucket = boto3.resource("s3", endpoint_url=s3_endpoint, region_name="us-east-1").Bucket(name)
    bucket.create()
    url = f"s3://{name}/media?endpoint_url={s3_endpoint}&region=us-east-1&addressing_style=path"
    monkeypatch.setenv("STORAGE_URL", url)
    from config.storage import storage_backend_from_env

    settings.STORAGES = {**settings.STORAGES, "default": storage_backend_from_env()}
    yield url, bucket
    bucket.objects.all().delete()
    bucket.delete()
