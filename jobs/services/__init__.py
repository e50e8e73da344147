"""The jobs app's services, by concern:

- `queue`: the RQ connection, enqueuing and forgetting jobs;
- `transitions`: the job state machine (every RenderJob change and JobEvent goes through `job_change`);
- `submit`: what people ask for: submit, cancel, retry;
- `run`: a worker running one job (the RQ task is one call to `job_render`);
- `recovery`: the sweeper's passes and retention.

Everything public is re-exported here, so `from jobs import services; services.job_cancel(...)` works.
"""

from __future__ import annotations

from jobs.errors import JobStateConflict, QueueUnavailable, QuotaExceeded, StorageError
from jobs.services.cleanup import project_delete_with_renders, storage_delete_on_commit
from jobs.services.progress import ProgressReporter
from jobs.services.queue import (
    job_enqueue,
    queue_check,
    queue_connection,
    render_queue,
    rq_job_discard,
    rq_job_fetch,
)
from jobs.services.recovery import (
    ENQUEUE_GRACE,
    job_stop_now,
    lost_jobs_recover,
    old_results_purge,
    overdue_cancels_stop,
    sweep_run,
    unqueued_jobs_enqueue,
    work_dirs_tidy,
)
from jobs.services.run import job_render, work_dir_for
from jobs.services.submit import job_cancel, job_retry, render_submit
from jobs.services.transitions import (
    NEVER_RETRIED,
    TRANSIENT,
    StoredResult,
    job_change,
    job_claim,
    job_fail,
    job_hand_back,
    job_heartbeat,
    job_mark_canceled,
    job_progress_record,
    job_requeue,
    job_succeed,
)

__all__ = [
    "ENQUEUE_GRACE",
    "NEVER_RETRIED",
    "TRANSIENT",
    "JobStateConflict",
    "ProgressReporter",
    "QueueUnavailable",
    "QuotaExceeded",
    "StorageError",
    "StoredResult",
    "job_cancel",
    "job_change",
    "job_claim",
    "job_enqueue",
    "job_fail",
    "job_hand_back",
    "job_heartbeat",
    "job_mark_canceled",
    "job_progress_record",
    "job_render",
    "job_requeue",
    "job_retry",
    "job_stop_now",
    "job_succeed",
    "lost_jobs_recover",
    "old_results_purge",
    "overdue_cancels_stop",
    "project_delete_with_renders",
    "queue_check",
    "queue_connection",
    "render_queue",
    "render_submit",
    "rq_job_discard",
    "rq_job_fetch",
    "storage_delete_on_commit",
    "sweep_run",
    "unqueued_jobs_enqueue",
    "work_dir_for",
    "work_dirs_tidy",
]
