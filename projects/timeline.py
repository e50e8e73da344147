"""The timeline document (CONTRACT.md §2, schema 1)."""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1


def timeline_empty() -> dict[str, Any]:
    """A valid, canonical document with no tracks: 1280×720 at 30 fps on black."""
    return {
        "schema": SCHEMA_VERSION,
        "output": {"width": 1280, "height": 720, "fps": 30, "background": "#000000"},
        "tracks": [],
        "markers": [],
        "view": {"current_time": 0.0, "zoom": 1.0},
    }
