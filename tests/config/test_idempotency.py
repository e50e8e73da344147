"""`Idempotency-Key` on POSTs that create something: stored 24 h, the first answer replayed."""

from __future__ import annotations

import pytest

from projects.models import Project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _redis(redis_conn):
    return redis_conn


def post_project(client, name: str, key: str | None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/projects/", {"name": name}, format="json", **headers)


def test_replayed_key_returns_the_first_answer_and_creates_nothing_more(owner_client):
    first = post_project(owner_client, "Once", "key-1")
    assert first.status_code == 201
    again = post_project(owner_client, "Once", "key-1")
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Project.objects.filter(name="Once").count() == 1


def test_without_a_key_each_post_creates(owner_client):
    post_project(owner_client, "Twice", None)
    post_project(owner_client, "Twice", None)
    assert Project.objects.filter(name="Twice").count() == 2


def test_same_key_with_another_body_is_refused(owner_client):
    post_project(owner_client, "A", "key-2")
    response = post_project(owner_client, "B", "key-2")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "IDEMPOTENCY_KEY_REUSED" and body["errors"][0]["attr"] == "Idempotency-Key"
    assert not Project.objects.filter(name="B").exists()


def test_keys_are_per_user(owner_client, stranger_client):
    mine = post_project(owner_client, "Shared key", "key-3")
    theirs = post_project(stranger_client, "Shared key", "key-3")
    assert theirs.status_code == 201 and theirs.json()["id"] != mine.json()["id"]


def test_a_key_in_flight_answers_409(owner, owner_client, redis_conn):
    from config.idempotency import _Guard

    class Request:
        method, path = "POST", "/api/projects/"
        headers = {"Idempotency-Key": "key-4", "Content-Type": "application/json",
                   "Content-Length": "15", "Authorization": owner_client._credentials["HTTP_AUTHORIZATION"]}
        body = b'{"name":"Slow"}'

    assert _Guard(Request()).before() is None  # the first request is now running
    response = post_project(owner_client, "Slow", "key-4")
    assert response.status_code == 409 and response.json()["code"] == "IDEMPOTENCY_KEY_IN_USE"


def test_validation_errors_are_replayed_too(owner_client):
    first = owner_client.post("/api/projects/", {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="key-5")
    assert first.status_code == 400
    again = owner_client.post("/api/projects/", {"name": ""}, format="json", HTTP_IDEMPOTENCY_KEY="key-5")
    assert again.status_code == 400 and again["Idempotent-Replayed"] == "true"


def test_an_overlong_key_is_refused(owner_client):
    response = post_project(owner_client, "Long", "k" * 300)
    assert response.status_code == 400 and response.json()["code"] == "INVALID_IDEMPOTENCY_KEY"
