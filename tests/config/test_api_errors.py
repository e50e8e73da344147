"""Requests no endpoint expects still get the contract's JSON body, never an HTML page or a 500."""

from __future__ import annotations

import json

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
