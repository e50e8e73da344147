"""The per-user limit on open SSE streams (like the socket limit, CONTRACT §4's 4429), shared in Redis.

One sorted set per user; members are stream ids scored with the time they were last confirmed alive. An
open stream re-confirms itself at least every keep-alive; a stream of a web process that died ages out
after `STALE_AFTER` seconds instead of holding the user's slot forever. When Redis does not answer the
limit is not enforced (streams still work from the database), like the cache.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import weakref

from django.conf import settings
from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

STALE_AFTER = 60.0
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def _redis() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=settings.REDIS_TIMEOUT,
                                         socket_connect_timeout=settings.REDIS_TIMEOUT)
        _clients[loop] = client
    return client


def _key(user_id) -> str:
    return f"cutline:realtime:sse:{user_id}"


# Atomic: drop stale members, count, add if under the limit. Returns 1 when the slot was taken.
_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


async def sse_slot_take(*, user_id: int) -> str | None:
    """A slot id for a new stream, or None when the user already has REALTIME_MAX_SSE_PER_USER open."""
    slot = uuid.uuid4().hex
    now = time.time()
    try:
        taken = await _redis().eval(_TAKE, 1, _key(user_id), now - STALE_AFTER, now,
                                    settings.REALTIME_MAX_SSE_PER_USER, slot, int(STALE_AFTER * 2))
    except (RedisError, OSError) as exc:
        logger.warning("SSE limit not enforced (Redis unavailable): %s", exc)
        return slot
    return slot if taken else None


async def sse_slot_refresh(*, user_id: int, slot: str) -> None:
    try:
        await _redis().zadd(_key(user_id), {slot: time.time()}, xx=True)
    except (RedisError, OSError) as exc:
        logger.debug("SSE slot refresh failed: %s", exc)


async def sse_slot_release(*, user_id: int, slot: str) -> None:
    try:
        await _redis().zrem(_key(user_id), slot)
    except (RedisError, OSError) as exc:
        logger.debug("SSE slot release failed: %s", exc)
