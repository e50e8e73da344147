"""What one web process keeps about its open sockets: their share of the per-user limit, and catching up.

Two jobs, one periodic task per event loop (daphne runs one loop; tests run one per test):

- The per-user socket limit (CONTRACT §4, close 4429) is counted in Redis so that every web process
  behind the load balancer shares it: one sorted set per user whose members are channel names scored
  with the time they were last confirmed alive. This process re-confirms its members every
  `REALTIME_RESYNC_INTERVAL`; members of a process that died age out after `_STALE_AFTER` seconds
  instead of holding a user's slots forever.
- A group message can be lost (Redis restarting, a publish that failed after its event was stored). The
  database is the truth, so the same task compares each watched job's `last_seq` with what this
  process's sockets have sent, and a socket that is still behind on the next round is told to catch up
  from the stored events. A lost message therefore leaves a client late by seconds, never wrong.

Its clients live as long as the loop has sockets (or a connect in flight) and are closed with the last
one: the Redis client for the slots and the database connection on which connecting sockets read their
snapshots (realtime/snapshots.py).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol

from django.conf import settings
from redis import asyncio as aioredis
from redis.driver_info import DriverInfo
from redis.exceptions import NoScriptError, RedisError

from realtime.selectors import db_read
from realtime.snapshots import SnapshotReader

logger = logging.getLogger(__name__)

RESYNC_MESSAGE_TYPE = "job.resync"


def _stale_after() -> float:
    return max(60.0, 6 * settings.REALTIME_RESYNC_INTERVAL)


def _slot_key(user_id) -> str:
    return f"cutline:realtime:sockets:{user_id}"


# Taking a slot: drop members that aged out, add this socket, count. One command (EVALSHA) where a
# MULTI/EXEC pipeline of four cost 11 % of a connect's CPU in packing and parsing; the takes of sockets
# connecting at the same moment go out together (`_LoopPresence.slot_take`).
_SLOT_TAKE_LUA = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return redis.call('ZCARD', KEYS[1])
"""


@functools.cache
def _driver_info() -> DriverInfo:
    """What redis-py tells the server about itself, resolved once: without it, every new connection of the
    pool looks up redis-py's version in the installed packages' metadata (1.5-5 ms of CPU each, 50 per
    pool; a web process that had no socket left rebuilt its pool on the next connect storm)."""
    return DriverInfo()


class Watcher(Protocol):
    channel_name: str

    def lagging_jobs(self) -> dict[str, int]:
        """Job id → highest seq sent, for the jobs still expecting events."""


class _Batched:
    """Redis commands of sockets that arrive at the same moment, sent as one pipeline.

    One task sends: what arrived while its previous pipeline was out goes in the next one. In a reconnect
    storm that is one pool checkout, one write and one read for many sockets, where a command each cost a
    checkout, a write task (redis-py's socket timeout) and a syscall per socket. Each caller still gets
    its own command's result (or error).
    """

    def __init__(self, send: Callable[[list], Awaitable[list]]) -> None:
        self.execute = send
        self.pending: list[tuple[Any, asyncio.Future]] = []
        self.task: asyncio.Task | None = None

    async def send(self, command: Any) -> Any:
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self.pending.append((command, done))
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._run())
        return await done

    async def _run(self) -> None:
        while self.pending:
            batch, self.pending = self.pending, []
            try:
                results = await self.execute([command for command, _ in batch])
            except BaseException as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc if isinstance(exc, Exception) else RedisError(repr(exc)))
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, done), result in zip(batch, results, strict=True):
                if done.done():  # its socket went away meanwhile
                    continue
                if isinstance(result, Exception):
                    done.set_exception(result)
                else:
                    done.set_result(result)

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()


class _LoopPresence:
    def __init__(self) -> None:
        # A blocking pool: in a reconnect storm (hundreds of sockets closing and opening at once) commands
        # wait a moment for a connection instead of failing with "Too many connections" (redis-py's default
        # pool raises at 100), which let sockets in unchecked or left slots unreleased.
        self.redis = aioredis.Redis(connection_pool=aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            max_connections=settings.REALTIME_REDIS_MAX_CONNECTIONS,
            timeout=max(1.0, 5 * settings.REDIS_TIMEOUT),
            socket_timeout=settings.REDIS_TIMEOUT,
            socket_connect_timeout=settings.REDIS_TIMEOUT,
            driver_info=_driver_info(),
        ))
        self.slot_take_script = self.redis.register_script(_SLOT_TAKE_LUA)
        # The database connection connecting sockets read their snapshots on (PostgreSQL).
        self.snapshots = SnapshotReader()
        # Slot commands in flight: the client is closed only when the process has no socket left AND none
        # of these is running (closing it under a concurrent release broke that release, and its slot
        # then stayed taken until it aged out).
        self.inflight = 0
        self.takes = _Batched(self._eval_takes)
        self.forgets = _Batched(self._zrem_all)
        self.slots: dict[int, set[str]] = {}
        self.watchers: dict[str, Watcher] = {}
        self.behind: dict[tuple[str, str], int] = {}
        self.task: asyncio.Task | None = None

    def empty(self) -> bool:
        return not self.slots and not self.watchers

    def ensure_task(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def slot_take(self, key: str, args: list) -> int:
        """Run the slot script for one socket; the count of the user's sockets after adding it."""
        return await self.takes.send((key, args))

    async def slot_forget(self, key: str, member: str) -> None:
        await self.forgets.send((key, member))

    async def _eval_takes(self, takes: list[tuple[str, list]]) -> list:
        sha = self.slot_take_script.sha
        for _attempt in range(2):
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, args in takes:
                    pipe.evalsha(sha, 1, key, *args)
                results = await pipe.execute(raise_on_error=False)
            if not any(isinstance(result, NoScriptError) for result in results):
                return results
            # A restarted (or flushed) Redis forgot the script: load it once, send the batch again.
            await self.redis.script_load(_SLOT_TAKE_LUA)
        return results

    async def _zrem_all(self, forgets: list[tuple[str, str]]) -> list:
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, member in forgets:
                pipe.zrem(key, member)
            return await pipe.execute(raise_on_error=False)

    async def close(self) -> None:
        self.takes.cancel()
        self.forgets.cancel()
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):  # noqa: S110 - shutting down the housekeeping task
                pass
            self.task = None
        try:
            await self.redis.aclose()
        except Exception:  # noqa: S110 - closing a client whose server may be gone
            pass
        await self.snapshots.close()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(settings.REALTIME_RESYNC_INTERVAL)
            try:
                await self._refresh_slots()
            except RedisError as exc:
                logger.warning("could not refresh realtime socket counts: %s", exc)
            try:
                await self._resync()
            except Exception:
                logger.exception("realtime resync round failed")

    async def _refresh_slots(self) -> None:
        if not self.slots:
            return
        now = time.time()
        async with self.redis.pipeline(transaction=False) as pipe:
            for user_id, members in self.slots.items():
                key = _slot_key(user_id)
                pipe.zadd(key, dict.fromkeys(members, now))
                pipe.expire(key, int(_stale_after()))
            await pipe.execute()

    async def _resync(self) -> None:
        wanted: dict[str, list[tuple[Watcher, int]]] = {}
        for watcher in list(self.watchers.values()):
            for job_id, seq in watcher.lagging_jobs().items():
                wanted.setdefault(job_id, []).append((watcher, seq))
        if not wanted:
            self.behind = {}
            return
        latest = await db_read(_last_seqs)(wanted.keys())
        behind: dict[tuple[str, str], int] = {}
        nudges: list[tuple[str, str]] = []
        for job_id, entries in wanted.items():
            last_seq = latest.get(job_id, 0)
            for watcher, seq in entries:
                if seq >= last_seq:
                    continue
                key = (watcher.channel_name, job_id)
                # Behind twice in a row at the same seq: not an event still in flight, a lost one.
                if self.behind.get(key) == seq:
                    nudges.append(key)
                else:
                    behind[key] = seq
        self.behind = behind
        if nudges:
            from channels.layers import get_channel_layer

            layer = get_channel_layer()
            for channel_name, job_id in nudges:
                await layer.send(channel_name, {"type": RESYNC_MESSAGE_TYPE, "job_id": job_id})


def _last_seqs(job_ids: Iterable[str]) -> dict[str, int]:
    from jobs.models import RenderJob

    rows = RenderJob.objects.filter(pk__in=list(job_ids)).values_list("pk", "last_seq")
    return {str(pk): last_seq for pk, last_seq in rows}


_presence: dict[asyncio.AbstractEventLoop, _LoopPresence] = {}


def _for_loop() -> _LoopPresence:
    loop = asyncio.get_running_loop()
    presence = _presence.get(loop)
    if presence is None:
        presence = _presence[loop] = _LoopPresence()
    return presence


async def socket_slot_take(*, user_id: int, channel_name: str) -> bool:
    """Count this socket against the user's limit; False when it would exceed it (the caller closes 4429).

    When Redis cannot be reached the socket is let in: the limit protects the server from one user's
    runaway tabs, and refusing everyone while Redis restarts would be the worse failure.
    """
    presence = _for_loop()
    # Registered before the first await, so a concurrent release cannot find the process idle and close
    # the client this call is using.
    presence.slots.setdefault(user_id, set()).add(channel_name)
    presence.ensure_task()
    key = _slot_key(user_id)
    now = time.time()
    count = 0
    presence.inflight += 1
    try:
        count = await presence.slot_take(key, [now, now - _stale_after(), channel_name, int(_stale_after())])
    except RedisError as exc:
        logger.warning("socket limit not checked for user %s (Redis unavailable): %s", user_id, exc)
    finally:
        presence.inflight -= 1
    if count > settings.REALTIME_MAX_SOCKETS_PER_USER:
        await socket_slot_release(user_id=user_id, channel_name=channel_name)
        return False
    return True


async def socket_slot_release(*, user_id: int, channel_name: str) -> None:
    presence = _for_loop()
    members = presence.slots.get(user_id)
    if members is not None:
        members.discard(channel_name)
        if not members:
            del presence.slots[user_id]
    await _slot_forget(presence, user_id, channel_name)
    await _close_if_idle(presence)


async def _slot_forget(presence: _LoopPresence, user_id: int, channel_name: str) -> None:
    presence.inflight += 1
    try:
        await presence.slot_forget(_slot_key(user_id), channel_name)
    except RedisError as exc:
        logger.warning("could not release a socket slot of user %s: %s", user_id, exc)
    finally:
        presence.inflight -= 1


async def snapshots_read(*, user_id: int, job_id) -> list[dict]:
    """A connecting socket's snapshots, read on this loop's connection with those of the sockets
    connecting at the same moment (realtime/snapshots.py). `UserInactive` when the user is gone."""
    presence = _for_loop()
    presence.inflight += 1
    try:
        return await presence.snapshots.read(user_id=user_id, job_id=job_id)
    finally:
        presence.inflight -= 1


async def settle() -> None:
    """After a socket was refused (or failed) before taking a slot: close what an idle process keeps."""
    presence = _presence.get(asyncio.get_running_loop())
    if presence is not None:
        await _close_if_idle(presence)


def watch(watcher: Watcher) -> None:
    presence = _for_loop()
    presence.watchers[watcher.channel_name] = watcher
    presence.ensure_task()


async def unwatch(watcher: Watcher) -> None:
    presence = _for_loop()
    presence.watchers.pop(watcher.channel_name, None)
    await _close_if_idle(presence)


async def _close_if_idle(presence: _LoopPresence) -> None:
    # Tests run one event loop per test: leave nothing bound to a loop that is about to close.
    if presence.empty() and presence.inflight == 0:
        loop = asyncio.get_running_loop()
        if _presence.get(loop) is presence:
            del _presence[loop]
        await presence.close()
