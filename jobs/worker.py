"""The RQ worker Cutline runs (`RQ = {"WORKER_CLASS": "jobs.worker.CutlineWorker"}` in settings).

Three things RQ's own worker does not do:

- **Hand back on stop.** SIGTERM/SIGINT while rendering: the work horse is stopped at once (its encoders
  die with it, jobs/render/procs.py) and the job goes back to PENDING with its attempt unchanged, then
  onto the queue once RQ has recorded the horse's end, so another worker continues it. It is not
  counted as a failure and never becomes WORKER_LOST. RQ's default would wait for the render to end.
- **Stay registered through a Redis restart.** RQ registers a worker once, at birth; a Redis that
  restarted empty forgets it while it keeps working, and `/readyz` then says no worker is there. A
  thread re-asserts the registration every few seconds (idempotent: a set member and a hash).
- **Tidy this machine's scratch** at start and every `RENDER_SCRATCH_TIDY_INTERVAL` seconds: render
  directories no running attempt owns (a horse killed by the OOM killer leaves one) and the input cache
  past its size. A machine without a sweeper is tidied too.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.conf import settings
from django.db import close_old_connections, connection
from redis.exceptions import RedisError
from rq import Worker, worker_registration

logger = logging.getLogger("jobs.worker")

REGISTRATION_INTERVAL = 3.0


def scratch_tidy() -> tuple[int, int]:
    """(render directories removed, cache entries removed) on this machine."""
    from jobs.input_cache import input_cache_trim
    from jobs.services import work_dirs_tidy

    try:
        return work_dirs_tidy(), input_cache_trim()
    finally:
        connection.close()


class CutlineWorker(Worker):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._handed_back: str | None = None
        self._keeper_stop = threading.Event()
        self._keeper: threading.Thread | None = None

    # --- start, and the registration keeper ---------------------------------------------------------------
    def work(self, *args, **kwargs):
        try:
            dirs, cached = scratch_tidy()
            if dirs or cached:
                logger.info("worker start: removed %s leftover render directories and %s cached inputs", dirs, cached)
        except Exception:
            logger.exception("worker start: could not tidy the scratch directories")
        self._keeper = threading.Thread(target=self._keep_registered, name="cutline-registration", daemon=True)
        self._keeper.start()
        return super().work(*args, **kwargs)

    def _keep_registered(self) -> None:
        next_tidy = time.monotonic() + settings.RENDER_SCRATCH_TIDY_INTERVAL
        while not self._keeper_stop.wait(REGISTRATION_INTERVAL):
            try:
                if not self.connection.sismember(worker_registration.REDIS_WORKER_KEYS, self.key):
                    with self.connection.pipeline() as pipe:
                        pipe.hset(self.key, mapping=self.serialize())
                        worker_registration.register(self, pipe)
                        pipe.expire(self.key, self.worker_ttl + 60)
                        pipe.execute()
                    logger.warning("worker %s: Redis had forgotten this worker (restarted?); registered again",
                                   self.name)
            except RedisError as exc:
                logger.info("worker %s: Redis unreachable for the registration check: %s", self.name, exc)
            except Exception:
                logger.exception("worker %s: registration check failed", self.name)
            if time.monotonic() >= next_tidy:
                next_tidy = time.monotonic() + settings.RENDER_SCRATCH_TIDY_INTERVAL
                try:
                    close_old_connections()
                    scratch_tidy()
                except Exception:
                    logger.exception("worker %s: periodic scratch tidy failed", self.name)

    # --- stop: hand the job back --------------------------------------------------------------------------
    def request_stop(self, signum, frame):
        job_id = self.get_current_job_id()
        if job_id and self.horse_pid and self._handed_back is None:
            from jobs.services import job_hand_back

            self._handed_back = job_id
            # RQ then records the job as stopped (not failed) and runs its on_stopped cleanup.
            self._stopped_job_id = job_id
            self.kill_horse(signal.SIGKILL)
            try:
                job_hand_back(job_id=job_id, worker_name=self.name)
            except Exception:
                # The sweeper's lost-worker check recovers the job if this did not reach the database.
                logger.exception("job %s: could not hand the job back", job_id)
            finally:
                connection.close()
        super().request_stop(signum, frame)

    def teardown(self):
        self._keeper_stop.set()
        super().teardown()
        if self._handed_back and not self.is_horse:
            from jobs.services import job_enqueue

            # Only now: RQ has recorded the killed horse's job, so it cannot overwrite the new entry.
            job_enqueue(self._handed_back)
            logger.info("job %s: handed back to the queue for another worker", self._handed_back)
