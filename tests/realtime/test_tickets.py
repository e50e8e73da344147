from __future__ import annotations

import time

import pytest
from django.core import signing

from realtime.tickets import ticket_issue, ticket_user_id

pytestmark = pytest.mark.django_db


def test_ticket_endpoint_issues_a_ticket_for_the_caller(owner, owner_client):
    response = owner_client.post("/api/realtime/ticket")
    assert response.status_code == 200
    assert response.json()["expires_in"] == 60
    assert ticket_user_id(response.json()["ticket"]) == owner.pk


def test_ticket_endpoint_answers_without_a_trailing_slash_and_with_one(owner_client):
    assert owner_client.post("/api/realtime/ticket/").status_code == 200


def test_ticket_endpoint_requires_authentication(client):
    assert client.post("/api/realtime/ticket").status_code == 401


def test_ticket_expires_after_its_time_to_live(owner, monkeypatch):
    issued = signing.b62_encode(int(time.time()) - 61)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: issued)
    ticket = ticket_issue(user=owner)
    monkeypatch.undo()
    assert ticket_user_id(ticket) is None


def test_a_signature_from_elsewhere_does_not_make_a_ticket(owner):
    assert ticket_user_id(signing.TimestampSigner().sign_object({"u": owner.pk})) is None
