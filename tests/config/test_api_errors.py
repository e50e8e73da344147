"""Requests no endpoint expects still get the contract's JSON body, never an HTML page or a 500."""

from __future__ import annotations

import json
import time

import pytest

from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def test_unknown_api_path_gets_a_json_404(owner_client):
    response = owner_client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json()["type"] == "client_error"


def test_healthz_answers_with_a_trailing_slash(client):
    assert client.get("/healthz/").json() == {"status": "ok"}


def test_readyz_answers_200_with_a_trailing_slash_when_everything_is_up(client, rq_worker):
    response = client.get("/readyz/")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_deeply_nested_json_is_a_400_not_a_crash(owner_client, owner):
    project = ProjectFactory(owner=owner)
    body = '{"timeline": ' + "[" * 5000 + "]" * 5000 + "}"
    response = owner_client.patch(f"/api/projects/{project.id}", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "The request body is nested too deeply."


def test_numbers_too_long_to_read_get_a_plain_message(owner_client, owner):
    project = ProjectFactory(owner=owner)
    body = '{"version": ' + "9" * 5000 + "}"
    response = owner_client.patch(f"/api/projects/{project.id}", body, content_type="application/json")
    assert response.status_code == 400
    detail = response.json()["errors"][0]["detail"]
    assert "sys." not in detail and "not valid JSON" in detail


def test_malformed_json_gets_a_parse_error(owner_client):
    response = owner_client.post("/api/projects/", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "client_error"
    json.dumps(response.json())


def test_a_lone_surrogate_in_a_timeline_string_is_a_400_naming_its_path(owner_client, owner):
    project = ProjectFactory(owner=owner)
    before = (project.version, project.timeline)
    body = ('{"timeline": {"schema": 1, "output": {"width": 320, "height": 180, "fps": 30}, "tracks": '
            '[{"id": "t1", "kind": "text", "clips": [{"id": "x1", "text": "a\\ud800b", "start": 0, "duration": 1}]}]}}')
    response = owner_client.patch(f"/api/projects/{project.id}", body, content_type="application/json")
    assert response.status_code == 400
    item = response.json()["errors"][0]
    assert item["code"] == "surrogate_characters_not_allowed" and item["attr"] == "timeline.tracks.0.clips.0.text"
    project.refresh_from_db()
    assert (project.version, project.timeline) == before


def test_a_json_body_over_the_limit_is_a_413(owner_client, owner, settings):
    project = ProjectFactory(owner=owner)
    body = json.dumps({"name": "x", "description": "y" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = owner_client.patch(f"/api/projects/{project.id}", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "REQUEST_TOO_LARGE" and "MB" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize("path", ["/api/assets/", "/api/projects/"])
def test_multipart_without_a_boundary_is_a_json_400_for_session_and_token_clients(client, owner_client, owner, path):
    client.force_login(owner)
    for who in (client, owner_client):
        response = who.generic("POST", path, b"--x\r\n", content_type="multipart/form-data")
        assert response.status_code == 400
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "PARSE_ERROR"


def test_session_requests_must_carry_the_csrf_token(owner):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    refused = browser.post("/api/projects/", {"name": "no token"}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "PERMISSION_DENIED" and "CSRF" in refused.json()["errors"][0]["detail"]
    browser.get("/")  # the pages set the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post("/api/projects/", {"name": "with token"}, content_type="application/json",
                            HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_database_down_answers_503_json_for_the_api_and_the_stream(process_logs, owner):
    import uuid

    import httpx
    from rest_framework.authtoken.models import Token

    from tests.processes import service_env, start_daphne

    key = Token.objects.create(user=owner).key
    env = service_env(DATABASE_URL="postgres://postgres@127.0.0.1:1/cutline_down", DATABASE_POOL="0")
    proc, base = start_daphne(env, process_logs)
    try:
        headers = {"Authorization": f"Token {key}"}
        api = httpx.get(f"{base}/api/projects/", headers=headers, timeout=30)
        assert api.status_code == 503 and api.headers["content-type"].startswith("application/json")
        assert api.json()["code"] == "DATABASE_UNAVAILABLE" and "Retry-After" in api.headers
        stream = httpx.get(f"{base}/api/jobs/{uuid.uuid4()}/events", headers=headers, timeout=30)
        assert stream.status_code == 503 and stream.json()["code"] == "DATABASE_UNAVAILABLE"
        assert "127.0.0.1:1" not in api.text + stream.text
    finally:
        proc.stop()


@pytest.mark.django_db(transaction=True)
def test_database_down_answers_503_before_the_pool_timeout_with_the_pool_on(process_logs, owner):
    """The pool retries in the background and used to let each request wait its whole timeout first."""
    import uuid

    import httpx
    from rest_framework.authtoken.models import Token

    from tests.processes import service_env, start_daphne

    key = Token.objects.create(user=owner).key
    env = service_env(DATABASE_URL="postgres://postgres@127.0.0.1:1/cutline_down", DATABASE_POOL="1",
                      DATABASE_POOL_TIMEOUT="60")
    proc, base = start_daphne(env, process_logs)
    try:
        headers = {"Authorization": f"Token {key}"}
        # The client gives up long before the pool's 60 s: a 503 within it is one the pool did not wait for.
        for _ in range(3):  # the first request of the process, then while the failure is remembered
            api = httpx.get(f"{base}/api/projects/", headers=headers, timeout=20)
            assert api.status_code == 503 and api.json()["code"] == "DATABASE_UNAVAILABLE"
        stream = httpx.get(f"{base}/api/jobs/{uuid.uuid4()}/events", headers=headers, timeout=20)
        assert stream.status_code == 503 and stream.json()["code"] == "DATABASE_UNAVAILABLE"
        time.sleep(2.5)  # past the remembered failure: the next request tries the database again itself
        again = httpx.get(f"{base}/api/projects/", headers=headers, timeout=20)
        assert again.status_code == 503 and again.json()["code"] == "DATABASE_UNAVAILABLE"
        assert "127.0.0.1:1" not in api.text + again.text
    finally:
        proc.stop()
