"""How the wire contract writes shared values (CONTRACT.md): times, and the URLs clients follow.

Neutral ground: the jobs app (representations) and the realtime app (events) both build on it, so
neither has to import the other for a date format or a path.
"""

from __future__ import annotations

import uuid
from datetime import datetime


def is_uuid(value: object) -> bool:
    """True for a string the API would take as an object id (any form `uuid.UUID` reads)."""
    try:
        uuid.UUID(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with `Z`, as the contract writes times."""
    if moment is None:
        return None
    return moment.isoformat().replace("+00:00", "Z")


def result_download_url(job_id) -> str:
    return f"/api/jobs/{job_id}/result"


def job_thumbnail_url(job_id) -> str:
    return f"/api/jobs/{job_id}/thumbnail"


def job_events_url(job_id) -> str:
    return f"/api/jobs/{job_id}/events"


def job_ws_url(job_id) -> str:
    return f"/ws/jobs/{job_id}"
