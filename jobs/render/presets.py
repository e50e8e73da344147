"""Output presets: the size the timeline is rendered at and how hard the encoder works."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobs.render.errors import RenderFailed
from jobs.render.plan import AUDIO_BITRATE, SAMPLE_RATE

__all__ = ["AUDIO_BITRATE", "PRESETS", "SAMPLE_RATE", "Preset", "preset_get", "preset_output"]


@dataclass(frozen=True)
class Preset:
    name: str
    width: int | None  # None: the timeline's own output size
    height: int | None
    x264_preset: str
    crf: int


PRESETS: dict[str, Preset] = {
    "draft": Preset("draft", 640, 360, "ultrafast", 28),
    "hd": Preset("hd", 1280, 720, "veryfast", 23),
    "full_hd": Preset("full_hd", 1920, 1080, "veryfast", 23),
    "project": Preset("project", None, None, "veryfast", 23),
}


def preset_get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise RenderFailed(f"Unknown preset {name!r}; use one of {', '.join(PRESETS)}.") from None


def _even(value: float) -> int:
    """H.264 in yuv420p needs even sizes: round down to even, never below 2."""
    return max(2, int(value) // 2 * 2)


def preset_output(preset: str, timeline: dict[str, Any]) -> tuple[int, int, float]:
    """(width, height, fps) a render of `timeline` with `preset` produces.

    Fixed-size presets keep the timeline's aspect ratio inside their box, so a 16:9 timeline gets
    exactly 640×360 / 1280×720 / 1920×1080 and a portrait one is not squashed. Odd sizes round to even.
    """
    output = timeline.get("output") or {}
    tl_width = int(output.get("width") or 1280)
    tl_height = int(output.get("height") or 720)
    fps = float(output.get("fps") or 30)
    spec = preset_get(preset)
    if spec.width is None or spec.height is None:
        return _even(tl_width), _even(tl_height), fps
    scale = min(spec.width / tl_width, spec.height / tl_height)
    width, height = _even(round(tl_width * scale)), _even(round(tl_height * scale))
    return min(width, spec.width), min(height, spec.height), fps
