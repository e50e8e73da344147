from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from jobs import services
from realtime.tickets import ticket_issue
from tests.factories import ProjectFactory, RenderJobFactory

ORIGIN = (b"origin", b"http://127.0.0.1")


@pytest.fixture(autouse=True)
def clean_redis(redis_conn):
    """Socket counts and sessions live in the test Redis database; every test starts from an empty one."""
    return redis_conn


def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def ticket_for(user) -> str:
    return await database_sync_to_async(ticket_issue)(user=user)


async def open_socket(path: str, *, headers: list[tuple[bytes, bytes]] | None = None) -> WebsocketCommunicator:
    """Connect and return the communicator; refusals also accept first (CONTRACT §4), so this never fails."""
    communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, *(headers or [])])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def close_code(communicator: WebsocketCommunicator) -> int:
    """The next output must be the close: no job message may come before it."""
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close", f"expected the socket to close, got {output}"
    return output.get("code")


def running_job(owner):
    """A job as a worker sees it after claiming: RUNNING; event 1 is the submit's, the claim's is `last_seq`."""
    job = RenderJobFactory(project=ProjectFactory(owner=owner))
    return services.job_claim(job_id=job.pk, worker_name="test")


@pytest.fixture
def owner_job(owner):
    return running_job(owner)
