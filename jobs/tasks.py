"""The RQ task that renders one job, and the callback RQ runs when it kills a stopped job's work horse."""

from __future__ import annotations

import logging
import os
import shutil
import signal
from pathlib import Path

from django.conf import settings
from django.db import connections

from jobs.render.procs import process_cmdline, process_table, process_uid
from jobs.services.run import job_render, work_dir_for  # noqa: F401  (work_dir_for: kept importable here)

logger = logging.getLogger(__name__)


def render(job_id: str) -> None:
    """Render job `job_id` if it is still PENDING; record the outcome on the job. Runs in an RQ work horse."""
    try:
        job_render(job_id=job_id, worker_name=os.environ.get("RQ_WORKER_ID", ""))
    finally:
        # The work horse exits after this, but never leave a connection for a forked sibling to inherit.
        connections.close_all()


def render_part(**kwargs) -> str:
    """One segment of a fanned-out render (jobs.services.parts), encoded into the segment cache."""
    from jobs.services.parts import part_render

    try:
        return part_render(**kwargs)
    finally:
        connections.close_all()


# --- After RQ killed a work horse ----------------------------------------------------------------------


def render_stopped(rq_job, connection) -> None:
    """RQ's `on_stopped` callback, run by the worker after `send_stop_job_command` killed the work horse.

    The horse had no chance to clean up: end the job's encoders and remove its scratch directories on
    this machine. The job row was already marked CANCELED by whoever sent the command.
    """
    for work_dir in Path(settings.RENDER_WORK_DIR).glob(f"{rq_job.id}.*"):
        encoders_kill(work_dir)
        shutil.rmtree(work_dir, ignore_errors=True)
        logger.info("job %s: removed the scratch files of the stopped render", rq_job.id)


def encoders_kill(work_dir: Path) -> list[int]:
    """SIGKILL this user's processes whose command line names `work_dir` (an encoder writing into it).

    Encoders run in their own process group, so killing the work horse's group does not reach them.
    Linux only (reads /proc); elsewhere a dead horse's encoder ends by itself when its pipe closes.
    """
    needle = str(work_dir).encode()
    killed: list[int] = []
    me, uid = os.getpid(), os.getuid()
    for info in process_table():
        if info.pid == me or process_uid(info.pid) != uid or needle not in process_cmdline(info.pid):
            continue
        try:
            os.kill(info.pid, signal.SIGKILL)
        except OSError:
            continue
        killed.append(info.pid)
    if killed:
        logger.warning("killed leftover encoder processes %s of %s", killed, work_dir.name)
    return killed
