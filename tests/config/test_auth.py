from __future__ import annotations


def test_token_endpoint_returns_a_token_that_authenticates(client, owner):
    response = client.post("/api/auth/token", {"username": "owner", "password": "correct horse battery"})
    assert response.status_code == 200
    token = response.json()["token"]

    me = client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["username"] == "owner"


def test_token_endpoint_answers_with_and_without_trailing_slash(client, owner):
    response = client.post("/api/auth/token/", {"username": "owner", "password": "correct horse battery"})
    assert response.status_code == 200


def test_wrong_password_gets_the_contract_error_body(client, owner):
    response = client.post("/api/auth/token", {"username": "owner", "password": "nope"})
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] is None
    assert "Unable to log in" in body["errors"][0]["detail"]


def test_missing_field_is_reported_with_its_name(client, db):
    response = client.post("/api/auth/token", {"username": "owner"})
    assert response.status_code == 400
    assert {"code": "required", "detail": "This field is required.", "attr": "password"} in response.json()["errors"]


def test_api_refuses_anonymous_and_bad_tokens(client, db):
    assert client.get("/api/auth/me").status_code == 401
    response = client.get("/api/auth/me", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 401
    assert response.json()["type"] == "client_error"


def test_api_docs_and_schema_load(client, db):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_admin_loads_for_staff(client, staff):
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200


def test_queue_dashboard_is_for_superusers_only(client, staff, db, redis_conn):
    from tests.factories import UserFactory

    operator = UserFactory(username="operator", is_staff=True)
    client.force_login(operator)
    assert client.get("/admin/django_rq/dashboard/").status_code in (403, 302)
    client.force_login(staff)
    response = client.get("/admin/django_rq/dashboard/")
    assert response.status_code == 200
    assert b"render" in response.content


def test_api_docs_load_no_asset_from_a_cdn(client, db):
    page = client.get("/api/docs/").content.decode()
    assert "cdn.jsdelivr.net" not in page
    assert "/static/drf_spectacular_sidecar/" in page
