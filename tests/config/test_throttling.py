"""Throttling in the Redis cache (429 + Retry-After with the contract's body) and CORS, off by default."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings, redis_conn):
    settings.API_THROTTLE_RATES = {"read": "5/minute", "write": "3/minute", "auth": "4/minute"}
    return settings.API_THROTTLE_RATES


def test_wrong_passwords_in_a_row_are_throttled_with_retry_after(rates):
    UserFactory(username="victim")
    client = APIClient(REMOTE_ADDR="10.9.8.7")
    statuses = [client.post("/api/auth/token", {"username": "victim", "password": f"guess{i}"}).status_code
                for i in range(40)]
    assert statuses[:4] == [400] * 4
    assert set(statuses[4:]) == {429}
    response = client.post("/api/auth/token", {"username": "victim", "password": "again"})
    assert int(response["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "THROTTLED" and body["type"] == "client_error" and body["errors"]


def test_the_login_page_is_throttled_too(client, rates):
    UserFactory(username="victim2")
    statuses = [client.post("/accounts/login/", {"username": "victim2", "password": f"g{i}"},
                            REMOTE_ADDR="10.9.8.6").status_code for i in range(6)]
    assert statuses[:4] == [200] * 4 and statuses[4:] == [429, 429]


def test_another_address_is_not_throttled_by_someone_elses_attempts(rates):
    UserFactory(username="victim3")
    noisy = APIClient(REMOTE_ADDR="10.0.0.1")
    for i in range(6):
        noisy.post("/api/auth/token", {"username": "victim3", "password": f"g{i}"})
    quiet = APIClient(REMOTE_ADDR="10.0.0.2")
    assert quiet.post("/api/auth/token", {"username": "victim3", "password": "x"}).status_code == 400


def test_api_reads_and_writes_have_their_own_rates(owner_client, rates):
    reads = [owner_client.get("/api/projects/").status_code for _ in range(7)]
    assert reads[:5] == [200] * 5 and reads[5:] == [429, 429]
    writes = [owner_client.post("/api/projects/", {"name": f"p{i}"}, format="json").status_code for i in range(4)]
    assert writes == [201, 201, 201, 429]


def test_cors_is_off_by_default(owner_client):
    response = owner_client.get("/api/projects/", HTTP_ORIGIN="https://spa.example")
    assert "Access-Control-Allow-Origin" not in response


def test_cors_allows_configured_origins_only(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://spa.example"]
    preflight = client.options("/api/projects/", HTTP_ORIGIN="https://spa.example",
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type")
    assert preflight["Access-Control-Allow-Origin"] == "https://spa.example"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    other = client.options("/api/projects/", HTTP_ORIGIN="https://evil.example",
                           HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in other
