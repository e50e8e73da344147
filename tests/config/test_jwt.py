"""JWT for SPA clients (djangorestframework-simplejwt): access + refresh, rotation, blacklist on logout."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"


def obtain(client) -> dict:
    response = client.post("/api/auth/jwt/create", {"username": "owner", "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_access_token_authenticates_api_requests(client, owner):
    pair = obtain(client)
    me = bearer(pair["access"]).get("/api/auth/me")
    assert me.status_code == 200 and me.json()["username"] == "owner"
    assert bearer(pair["access"]).get("/api/projects/").status_code == 200


def test_refresh_rotates_and_the_old_refresh_token_is_blacklisted(client, owner):
    pair = obtain(client)
    rotated = client.post("/api/auth/jwt/refresh", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200, rotated.content
    body = rotated.json()
    assert body["refresh"] != pair["refresh"] and body["access"]
    assert bearer(body["access"]).get("/api/auth/me").status_code == 200

    reused = client.post("/api/auth/jwt/refresh", {"refresh": pair["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["type"] == "client_error" and reused.json()["errors"]


def test_logout_blacklists_the_refresh_token(client, owner):
    pair = obtain(client)
    assert client.post("/api/auth/jwt/logout", {"refresh": pair["refresh"]}, format="json").status_code == 200
    after = client.post("/api/auth/jwt/refresh", {"refresh": pair["refresh"]}, format="json")
    assert after.status_code == 401


def test_a_refresh_token_is_not_an_access_token(client, owner):
    pair = obtain(client)
    assert bearer(pair["refresh"]).get("/api/auth/me").status_code == 401


def test_wrong_password_gets_the_contract_error_body(client, owner):
    response = client.post("/api/auth/jwt/create", {"username": "owner", "password": "nope"}, format="json")
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "client_error" and body["errors"][0]["detail"]


def test_tampered_access_token_is_refused(client, owner):
    access = obtain(client)["access"]
    tampered = access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")
    assert bearer(tampered).get("/api/auth/me").status_code == 401


def test_tokens_and_sessions_still_work_beside_jwt(owner_client, client, owner):
    assert owner_client.get("/api/auth/me").status_code == 200
    client.force_login(owner)
    assert client.get("/api/auth/me").status_code == 200


def test_a_jwt_gets_a_websocket_ticket(client, owner):
    response = bearer(obtain(client)["access"]).post("/api/realtime/ticket")
    assert response.status_code == 200 and response.json()["ticket"]
