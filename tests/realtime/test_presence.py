"""Socket slots (realtime/presence.py) are released however sockets close: one by one or all at once."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis
from django.conf import settings as django_settings

from realtime.presence import _slot_key
from tests.realtime.conftest import close_code, open_socket, ticket_for

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_sockets_closing_all_at_once_release_every_slot(owner, owner_job, settings, caplog):
    settings.REALTIME_MAX_SOCKETS_PER_USER = 40
    ticket = await ticket_for(owner)
    sockets = [await open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}") for _ in range(40)]
    for communicator in sockets:
        assert (await communicator.receive_json_from(timeout=10))["type"] == "job.snapshot"
    counts = redis.Redis.from_url(django_settings.REDIS_URL)
    assert counts.zcard(_slot_key(owner.pk)) == 40
    with caplog.at_level(logging.WARNING):
        await asyncio.gather(*(communicator.disconnect() for communicator in sockets))
    assert counts.zcard(_slot_key(owner.pk)) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING and "slot" in r.getMessage()]
    # The user comes straight back (a browser reconnecting after a web process stopped): not 4429.
    again = [await open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}") for _ in range(40)]
    for communicator in again:
        assert (await communicator.receive_json_from(timeout=10))["type"] == "job.snapshot"
    extra = await open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}")
    assert await close_code(extra) == 4429
    await asyncio.gather(*(communicator.disconnect() for communicator in again))


async def test_sockets_connecting_all_at_once_get_exactly_the_limit(owner, owner_job, settings):
    # Their slot takes reach Redis together (one pipeline): each still gets its own count.
    settings.REALTIME_MAX_SOCKETS_PER_USER = 8
    ticket = await ticket_for(owner)
    sockets = await asyncio.gather(*(open_socket(f"/ws/jobs/{owner_job.pk}?token={ticket}") for _ in range(20)))
    firsts = await asyncio.gather(*(communicator.receive_output(timeout=10) for communicator in sockets))
    snapshots = [s for s, first in zip(sockets, firsts, strict=True) if first["type"] == "websocket.send"]
    refused = [first.get("code") for first in firsts if first["type"] == "websocket.close"]
    assert len(snapshots) == 8
    assert refused == [4429] * 12
    assert redis.Redis.from_url(django_settings.REDIS_URL).zcard(_slot_key(owner.pk)) == 8
    await asyncio.gather(*(communicator.disconnect() for communicator in snapshots))
