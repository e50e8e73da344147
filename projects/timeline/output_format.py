"""Validation of `output.format` and `output.still_at` (docs/text-and-captions.md), called from validate.py.

Both fields are optional; the canonical document holds them only when given, so schema-1 documents come back
unchanged. A GIF is limited to GIF_MAX_SECONDS of timeline (the whole file is one palette-mapped picture
stream, and longer ones are huge); a still must lie within the timeline.
"""

from __future__ import annotations

from typing import Any

OUTPUT_FIELDS = ("format", "still_at")
# The renderer's formats (jobs.render.formats.FORMATS) have exactly these names; a test keeps them equal.
OUTPUT_FORMATS = ("mp4", "mp4_hevc", "webm", "mov_prores", "gif", "mp3", "wav", "png")
GIF_MAX_SECONDS = 30.0


def output_format_extra(v: Any, value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "format" in value:
        out["format"] = v.choice(value, "format", "output", OUTPUT_FORMATS)
    if "still_at" in value:
        out["still_at"] = v.number(value, "still_at", "output", minimum=0)
    return out


def output_format_check(v: Any, output: dict[str, Any], duration: float) -> None:
    """Checks that need the whole timeline: a GIF's length, a still's time."""
    fmt = output.get("format")
    if fmt == "gif" and duration > GIF_MAX_SECONDS + 0.001:
        v.error("output.format", f"a GIF can be at most {GIF_MAX_SECONDS:g} s long (this timeline is "
                                 f"{round(duration, 3)} s); pick mp4 or webm, or shorten it", "limit")
    still_at = output.get("still_at")
    if isinstance(still_at, float) and duration > 0 and still_at >= duration:
        v.error("output.still_at", f"still_at ({round(still_at, 3)} s) is past the end of the timeline "
                                   f"({round(duration, 3)} s)", "out_of_range")
