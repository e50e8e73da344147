"""Django's PostgreSQL backend, with a pool that answers "database down" at once instead of after its timeout.

With the connection pool on (the web process), a request that needs a connection while PostgreSQL is down
used to wait the pool's whole timeout (`DATABASE_POOL_TIMEOUT`, 10 s) before its 503: psycopg_pool keeps
retrying the connection in the background, with growing pauses, and never tells the waiting request that
the attempts fail. Here every connection attempt, the pool's and our own, is recorded:

- while the last attempt failed, less than `RECHECK_SECONDS` ago, a request fails at once;
- after that, a request tries a connection of its own (bounded by `DATABASE_CONNECT_TIMEOUT`): if it
  fails, so does the request (at once for a refused port); if it succeeds, the request goes on to the pool;
- before any attempt has ended (start-up), a request waiting in the pool looks every `SLICE_SECONDS`
  whether one failed meanwhile.

Once the database has answered, a wait in the pool is a busy pool (every connection lent out): it is
served in turn and still waits up to the full timeout.
The failure surfaces as psycopg's OperationalError, which Django wraps and the API answers with 503
`DATABASE_UNAVAILABLE` (config/exceptions.py).
"""

from __future__ import annotations

import time

import psycopg
from django.db.backends.postgresql import base

RECHECK_SECONDS = 2.0
SLICE_SECONDS = 0.1


class DatabaseHealth:
    """What the latest connection attempt of this process found (all threads, the pool's workers too)."""

    def __init__(self) -> None:
        self.ok: bool | None = None  # None until a first attempt ended
        self.failed_at = 0.0  # monotonic time of the latest failure

    def record(self, ok: bool) -> None:
        if not ok:
            self.failed_at = time.monotonic()
        self.ok = ok

    def down_recently(self) -> bool:
        return self.ok is False and time.monotonic() - self.failed_at < RECHECK_SECONDS


health = DatabaseHealth()


class WatchedConnection(psycopg.Connection):
    """psycopg's connection; each attempt to open one is recorded in `health`."""

    @classmethod
    def connect(cls, *args, **kwargs):
        try:
            connection = super().connect(*args, **kwargs)
        except psycopg.OperationalError:
            health.record(False)
            raise
        health.record(True)
        return connection


def _unavailable() -> psycopg.OperationalError:
    return psycopg.OperationalError("the database did not accept a connection a moment ago")


class FailFastPool:
    """The pool Django made, except that `getconn` gives up as soon as the database is known to be down."""

    def __init__(self, pool) -> None:
        self._pool = pool

    def __getattr__(self, name):
        return getattr(self._pool, name)

    def getconn(self, timeout: float | None = None):
        from psycopg_pool import PoolTimeout

        pool = self._pool
        if health.down_recently():
            raise _unavailable()
        if health.ok is False:
            # The pool's own retries may be far apart by now: one attempt of our own decides.
            WatchedConnection.connect(**pool.kwargs).close()
        deadline = time.monotonic() + (pool.timeout if timeout is None else timeout)
        while health.ok is None:
            # No attempt has ended yet (start-up): wait in short slices, so that a failure stops the wait.
            left = deadline - time.monotonic()
            try:
                return pool.getconn(timeout=max(0.001, min(SLICE_SECONDS, left)))
            except PoolTimeout:
                if left <= SLICE_SECONDS:
                    raise
        if health.ok is False:
            raise _unavailable()
        # The database answered at the last attempt: a wait here is a busy pool, served in turn.
        return pool.getconn(timeout=max(0.001, deadline - time.monotonic()))


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        options = self.settings_dict["OPTIONS"].get("pool")
        if isinstance(options, dict):
            options.setdefault("connection_class", WatchedConnection)
        pool = super().pool
        return None if pool is None else FailFastPool(pool)
