"""Output presets: the size the timeline is rendered at and how hard the encoder works."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.even import even_floor
from jobs.render.errors import RenderFailed
from jobs.render.plan import AUDIO_BITRATE, SAMPLE_RATE

__all__ = [
    "ASPECTS", "AUDIO_BITRATE", "PRESETS", "SAMPLE_RATE", "Preset", "preset_box", "preset_catalog", "preset_get",
    "preset_output",
]


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
    "uhd": Preset("uhd", 3840, 2160, "veryfast", 23),
    "project": Preset("project", None, None, "veryfast", 23),
}


def preset_get(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise RenderFailed(f"Unknown preset {name!r}; use one of {', '.join(PRESETS)}.") from None


def preset_output(preset: str, timeline: dict[str, Any]) -> tuple[int, int, float]:
    """(width, height, fps) a render of `timeline` with `preset` produces.

    Fixed-size presets follow the timeline's orientation: their box is turned upright for a portrait
    timeline, and the timeline's aspect ratio is kept inside it. So a 16:9 timeline gets exactly
    640×360 / 1280×720 / 1920×1080 / 3840×2160, a 9:16 one 1080×1920 at full_hd, a 1:1 one 1080×1080.
    Never larger than the box; odd sizes round to even.
    """
    output = timeline.get("output") or {}
    tl_width = int(output.get("width") or 1280)
    tl_height = int(output.get("height") or 720)
    fps = float(output.get("fps") or 30)
    spec = preset_get(preset)
    if spec.width is None or spec.height is None:
        return even_floor(tl_width), even_floor(tl_height), fps
    box_w, box_h = preset_box(spec, portrait=tl_height > tl_width)
    scale = min(box_w / tl_width, box_h / tl_height)
    width, height = even_floor(round(tl_width * scale)), even_floor(round(tl_height * scale))
    return min(width, box_w), min(height, box_h), fps


# Output shapes the editor offers for a new timeline (`output.width`/`height`), by aspect ratio.
ASPECTS: dict[str, tuple[int, int]] = {
    "16:9": (1920, 1080),
    "9:16": (1080, 1920),
    "1:1": (1080, 1080),
    "4:5": (1080, 1350),
}


def _size(width: int, height: int) -> dict[str, int]:
    return {"width": width, "height": height}


def preset_catalog() -> dict[str, Any]:
    """What `GET /api/presets` answers: render presets (with their 16:9 and 9:16 sizes) and aspect shapes."""
    presets = []
    for spec in PRESETS.values():
        fixed = spec.width is not None and spec.height is not None
        item: dict[str, Any] = {
            "id": spec.name, "name": spec.name, "long_side": max(spec.width, spec.height) if fixed else None,
            "landscape": _size(*preset_box(spec, portrait=False)) if fixed else None,
            "portrait": _size(*preset_box(spec, portrait=True)) if fixed else None,
        }
        for aspect, (w, h) in ASPECTS.items():
            if spec.width is not None:
                pw, ph, _ = preset_output(spec.name, {"output": {"width": w, "height": h, "fps": 30}})
                item.setdefault("sizes", {})[aspect] = {"width": pw, "height": ph}
        presets.append(item)
    aspects = [{"id": name, "width": w, "height": h} for name, (w, h) in ASPECTS.items()]
    return {"presets": presets, "aspects": aspects}


def preset_box(spec: Preset, *, portrait: bool) -> tuple[int, int]:
    """The (width, height) a fixed-size preset fits a timeline into: landscape, or turned for portrait."""
    assert spec.width is not None and spec.height is not None
    return (spec.height, spec.width) if portrait else (spec.width, spec.height)
