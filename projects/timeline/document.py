"""The timeline document (CONTRACT.md §2; schema 2 in docs/timeline.md): its constants and common reads."""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 2
SCHEMAS_ACCEPTED = (1, 2)  # schema 1 is a subset of schema 2: accepted as it is, answered as schema 2

TRACK_KINDS = ("video", "audio", "text")
FITS = ("contain", "cover", "stretch")
TRANSITIONS = (
    "fade", "crossfade", "dissolve", "wipe_left", "wipe_right", "wipe_up", "wipe_down",
    "slide_left", "slide_right", "slide_up", "slide_down", "zoom_in", "circle_open", "fade_white",
)
# Only ever between neighbours: they need the previous clip to overlap by exactly their duration.
NEIGHBOUR_TRANSITIONS = ("crossfade", "dissolve")
EASES = ("linear", "ease_in", "ease_out", "ease_in_out", "hold")
VISUAL_KEYFRAMES = ("x", "y", "scale", "rotation", "opacity")
DEFAULT_TRANSFORM = {"x": 0.5, "y": 0.5, "scale": 1.0, "rotation": 0.0, "opacity": 1.0,
                     "crop": {"left": 0.0, "top": 0.0, "right": 0.0, "bottom": 0.0}}
DEFAULT_ADJUST = {"brightness": 0.0, "contrast": 1.0, "saturation": 1.0, "blur": 0.0}
POSITIONS = ("center", "top", "bottom")

DEFAULT_OUTPUT = {"width": 1280, "height": 720, "fps": 30, "background": "#000000"}
DEFAULT_VIEW = {"current_time": 0.0, "zoom": 1.0}
DEFAULT_TEXT_STYLE = {"size": 64, "color": "#ffffff", "position": "center"}


def timeline_empty() -> dict[str, Any]:
    """A valid, canonical document with no tracks: 1280×720 at 30 fps on black."""
    return {
        "schema": SCHEMA_VERSION,
        "output": dict(DEFAULT_OUTPUT),
        "tracks": [],
        "markers": [],
        "view": dict(DEFAULT_VIEW),
    }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def clip_length(clip: dict[str, Any]) -> float | None:
    """Seconds a clip occupies on the timeline: `duration` (images, colours, text), `freeze.duration`, or
    `(out - in) / speed` (video, audio)."""
    freeze = clip.get("freeze")
    if isinstance(freeze, dict):
        return _number(freeze.get("duration"))
    if "duration" in clip:
        return _number(clip.get("duration"))
    source_in, source_out = _number(clip.get("in", 0.0)), _number(clip.get("out"))
    if source_in is None or source_out is None:
        return None
    speed = _number(clip.get("speed", 1.0)) or 1.0
    return (source_out - source_in) / speed


def _clips(document: Any):
    if not isinstance(document, dict) or not isinstance(document.get("tracks"), list):
        return
    for track in document["tracks"]:
        if isinstance(track, dict) and isinstance(track.get("clips"), list):
            for clip in track["clips"]:
                if isinstance(clip, dict):
                    yield track, clip


def timeline_duration(document: Any) -> float:
    """Where the last clip ends, in seconds (0.0 for an empty timeline). Tolerates malformed documents."""
    end = 0.0
    for _track, clip in _clips(document):
        start, length = _number(clip.get("start", 0.0)), clip_length(clip)
        if start is not None and length is not None:
            end = max(end, start + length)
    return end


def timeline_clip_count(document: Any) -> int:
    return sum(1 for _ in _clips(document))


def timeline_asset_ids(document: Any) -> set[str]:
    """Every asset id the document's clips point at, as given (strings)."""
    return {clip["asset_id"] for _track, clip in _clips(document) if isinstance(clip.get("asset_id"), str)}
