"""What people read for job states, phases and presets: one table for the Python pages and the JavaScript.

The pages emit `labels_for_js()` once into every page (`{% cutline_labels %}` in base.html); the
modules in projects/static/cutline/js/format.js read it from there, so a label is written only here.
"""

from __future__ import annotations

from typing import Any

from jobs.models import RenderJob

STATUS_LABELS: dict[str, str] = {
    RenderJob.Status.PENDING: "Waiting",
    RenderJob.Status.RUNNING: "Rendering",
    RenderJob.Status.SUCCEEDED: "Done",
    RenderJob.Status.FAILED: "Failed",
    RenderJob.Status.CANCELED: "Canceled",
}
PHASE_LABELS: dict[str, str] = {
    "QUEUED": "Waiting for a worker",
    "PREPARE": "Preparing",
    "ENCODE": "Encoding",
    "FINALIZE": "Finishing",
    "DONE": "Done",
}
PRESET_LABELS: dict[str, str] = {
    RenderJob.Preset.DRAFT: "Draft (fast, small)",
    RenderJob.Preset.HD: "HD 720p",
    RenderJob.Preset.FULL_HD: "Full HD 1080p",
    RenderJob.Preset.PROJECT: "Project settings",
}


def labels_for_js() -> dict[str, Any]:
    return {
        "status": {str(k): v for k, v in STATUS_LABELS.items()},
        "phase": dict(PHASE_LABELS),
        "preset": {str(k): v for k, v in PRESET_LABELS.items()},
    }
