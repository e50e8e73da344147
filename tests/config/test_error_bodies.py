"""Every error body has the contract's shape, `type`, `code` and `errors`, whoever produced it (CONTRACT §7)."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from tests.factories import ProjectFactory, RenderJobFactory

pytestmark = pytest.mark.django_db


def assert_contract_body(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) >= {"type", "code", "errors"}, body
    assert body["code"] == code
    assert body["errors"] and all({"code", "detail", "attr"} <= set(item) for item in body["errors"])
    return body


def test_401_without_credentials_has_a_code():
    assert_contract_body(APIClient().get("/api/projects/"), 401, "NOT_AUTHENTICATED")


def test_401_with_a_wrong_token_has_a_code():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_contract_body(client.get("/api/projects/"), 401, "AUTHENTICATION_FAILED")


def test_404_for_another_users_project_has_a_code(owner_client, stranger):
    project = ProjectFactory(owner=stranger)
    assert_contract_body(owner_client.get(f"/api/projects/{project.id}/"), 404, "NOT_FOUND")


def test_404_for_an_unknown_api_path_has_a_code(owner_client):
    assert_contract_body(owner_client.get("/api/nothing-here"), 404, "NOT_FOUND")


def test_405_has_a_code(owner_client):
    assert_contract_body(owner_client.delete("/api/auth/me"), 405, "METHOD_NOT_ALLOWED")


def test_400_from_a_serializer_has_a_code(owner_client):
    body = assert_contract_body(owner_client.post("/api/projects/", {}, format="json"), 400, "INVALID")
    assert body["type"] == "validation_error" and body["errors"][0]["attr"] == "name"


@pytest.mark.django_db(transaction=True)
def test_sse_errors_have_a_code(owner_client, owner, stranger):
    assert_contract_body(APIClient().get(f"/api/jobs/{uuid.uuid4()}/events"), 401, "NOT_AUTHENTICATED")
    foreign = RenderJobFactory(owner=stranger)
    assert_contract_body(owner_client.get(f"/api/jobs/{foreign.id}/events"), 404, "NOT_FOUND")
    mine = RenderJobFactory(owner=owner)
    body = assert_contract_body(owner_client.get(f"/api/jobs/{mine.id}/events?timeout=abc"), 400, "INVALID")
    assert body["errors"][0]["attr"] == "timeout"


def test_a_document_with_thousands_of_problems_lists_the_first_hundred_and_counts_them(owner_client, owner):
    project = ProjectFactory(owner=owner)
    clips = [{"id": f"x{i}", "text": "t", "start": -1.0, "duration": -1.0} for i in range(300)]
    timeline = {"schema": 1, "output": {"width": 320, "height": 180, "fps": 30},
                "tracks": [{"id": "t1", "kind": "text", "clips": clips}]}
    response = owner_client.patch(f"/api/projects/{project.id}/", {"timeline": timeline}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert len(body["errors"]) == 100
    assert body["error_count"] > 100
