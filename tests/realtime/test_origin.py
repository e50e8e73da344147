from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from tests.realtime.conftest import close_code, session_cookie, ticket_for


@pytest.mark.asyncio
async def test_websocket_from_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(application, "/ws/jobs", headers=[(b"origin", b"http://evil.example")])
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


async def _connect(path: str, headers: list[tuple[bytes, bytes]]):
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    return communicator, connected


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_script_without_origin_is_accepted_with_a_ticket(owner, owner_job):
    ticket = await ticket_for(owner)
    communicator, connected = await _connect(f"/ws/jobs/{owner_job.pk}?token={ticket}", headers=[])
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "job.snapshot"
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_foreign_origin_is_refused_even_with_a_ticket(owner, owner_job):
    ticket = await ticket_for(owner)
    communicator, connected = await _connect(f"/ws/jobs/{owner_job.pk}?token={ticket}",
                                             headers=[(b"origin", b"http://evil.example")])
    assert not connected
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_no_origin_and_only_a_cookie_is_refused(owner, owner_job):
    cookie = await database_sync_to_async(session_cookie)(owner)
    communicator, connected = await _connect(f"/ws/jobs/{owner_job.pk}", headers=[cookie])
    assert not connected
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_no_origin_with_a_bad_ticket_is_closed_as_unauthenticated():
    communicator, connected = await _connect("/ws/jobs?token=forged", headers=[])
    assert connected  # refusals accept first, then close (CONTRACT §4)
    assert await close_code(communicator) == 4401
