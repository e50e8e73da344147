"""OpenAPI pieces for the text style, captions track and output format fields (docs/text-and-captions.md).

Merged into the timeline schema by openapi.py; the validators (text_style.py, captions.py, output_format.py)
remain the authority on what is accepted.
"""

from __future__ import annotations

from projects.timeline.captions import MAX_CUE_TEXT, MAX_INLINE_CUES
from projects.timeline.output_format import GIF_MAX_SECONDS, OUTPUT_FORMATS
from projects.timeline.text_style import ALIGNS, ANIMATIONS, FONT_FAMILIES, MAX_BOX, WEIGHT_RANGE

_COLOR = {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}


def _int(low: int, high: int, default: int | None = None, **extra) -> dict:
    schema = {"type": "integer", "minimum": low, "maximum": high, **extra}
    if default is not None:
        schema["default"] = default
    return schema


TEXT_STYLE_OPENAPI = {
    "type": "object", "additionalProperties": False,
    "description": "How a title or caption looks. Every field is optional; GET /api/fonts lists the fonts.",
    "properties": {
        "size": _int(8, 512, 64, description="font size in timeline pixels"),
        "color": {**_COLOR, "default": "#ffffff"},
        "position": {"oneOf": [
            {"type": "string", "enum": ["center", "top", "bottom"]},
            {"type": "object", "additionalProperties": False, "properties": {
                "x": {"type": "number", "minimum": 0, "maximum": 1},
                "y": {"type": "number", "minimum": 0, "maximum": 1}}}]},
        "font": {"type": "string", "enum": list(FONT_FAMILIES), "default": "noto_sans",
                 "description": "a font id; lines the font cannot draw fall back to a font that can"},
        "weight": _int(*WEIGHT_RANGE, 400, description="600 and above draw the bold face"),
        "italic": {"type": "boolean", "default": False},
        "align": {"type": "string", "enum": list(ALIGNS), "default": "center"},
        "max_width": _int(16, MAX_BOX, description="wrap lines to this width (timeline pixels)"),
        "line_height": {"type": "number", "minimum": 0.5, "maximum": 4, "default": 1.2,
                        "description": "distance between baselines, times the size"},
        "background": {"type": "object", "nullable": True, "additionalProperties": False, "properties": {
            "color": {**_COLOR, "default": "#000000"},
            "opacity": {"type": "number", "minimum": 0, "maximum": 1, "default": 1},
            "padding": _int(0, 512, 0), "radius": _int(0, 512, 0)}},
        "stroke": {"type": "object", "additionalProperties": False,
                   "description": "outline; without it titles get a thin dark outline, width 0 turns it off",
                   "properties": {"color": {**_COLOR, "default": "#000000"}, "width": _int(0, 64, 2)}},
        "shadow": {"type": "object", "nullable": True, "additionalProperties": False, "properties": {
            "color": {**_COLOR, "default": "#000000"}, "x": _int(-256, 256, 2), "y": _int(-256, 256, 2),
            "blur": {"type": "number", "minimum": 0, "maximum": 64, "default": 0}}},
        "animation": {"type": "object", "nullable": True, "additionalProperties": False, "properties": {
            "in": {"type": "string", "enum": list(ANIMATIONS), "default": "none"},
            "out": {"type": "string", "enum": list(ANIMATIONS), "default": "none"},
            "duration": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": 10, "default": 0.5}}},
    },
}

CAPTIONS_TRACK_PROPERTIES = {
    "asset_id": {"type": "string", "format": "uuid",
                 "description": "captions tracks: a subtitles asset (.srt/.vtt upload); or give `cues`"},
    "offset": {"type": "number", "default": 0, "description": "captions tracks: seconds added to every cue"},
    "cues": {"type": "array", "maxItems": MAX_INLINE_CUES, "description": "captions tracks: inline cues",
             "items": {"type": "object", "additionalProperties": False, "required": ["start", "end", "text"],
                       "properties": {"start": {"type": "number", "minimum": 0},
                                      "end": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
                                      "text": {"type": "string", "maxLength": MAX_CUE_TEXT}}}},
    "style": TEXT_STYLE_OPENAPI,
}

OUTPUT_PROPERTIES = {
    "format": {"type": "string", "enum": list(OUTPUT_FORMATS), "default": "mp4",
               "description": f"the result's format; gif at most {GIF_MAX_SECONDS:g} s; mp3/wav sound only; png one "
                              "frame at still_at"},
    "still_at": {"type": "number", "minimum": 0, "default": 0, "description": "png: the second shown"},
}
