"""The timeline document (schema 2) as an OpenAPI schema, served at /api/schema/ on every `timeline` field.

It describes the shape clients code against (docs/timeline.md has the prose and examples); the validator
(validate.py, composition.py) stays the authority on what is accepted, with one error per problem.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.timeline.composition import (
    ADJUST_RANGES,
    CROP_MAX_TOTAL,
    MAX_KEYFRAMES,
    POSITION_RANGE,
    ROTATION_LIMIT,
    SCALE_RANGE,
    SPEED_RANGE,
)
from projects.timeline.document import EASES, FITS, TRANSITIONS
from projects.timeline.openapi_text import CAPTIONS_TRACK_PROPERTIES, OUTPUT_PROPERTIES, TEXT_STYLE_OPENAPI

_COLOR = {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"}


def _num(low: float, high: float, default: float | None = None, **extra) -> dict:
    schema = {"type": "number", "minimum": low, "maximum": high, **extra}
    if default is not None:
        schema["default"] = default
    return schema


_TRANSITION = {
    "type": "object", "nullable": True, "additionalProperties": False, "required": ["type", "duration"],
    "properties": {"type": {"type": "string", "enum": list(TRANSITIONS)},
                   "duration": {"type": "number", "exclusiveMinimum": True, "minimum": 0}},
    "description": "crossfade/dissolve: with the previous clip (which must overlap by exactly `duration`); any "
                   "other type pairs with the previous clip when it overlaps so, else plays against what lies "
                   "beneath. `transition_out` never takes crossfade/dissolve.",
}
_TRANSFORM = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "x": _num(*POSITION_RANGE, 0.5, description="centre of the clip box, fraction of the frame width"),
        "y": _num(*POSITION_RANGE, 0.5, description="centre of the clip box, fraction of the frame height"),
        "scale": _num(*SCALE_RANGE, 1.0, description="multiplies the fitted size"),
        "rotation": _num(-ROTATION_LIMIT, ROTATION_LIMIT, 0.0, description="degrees clockwise"),
        "opacity": _num(0, 1, 1.0),
        "crop": {"type": "object", "additionalProperties": False,
                 "description": f"fractions of the source cut away before fitting; left+right and top+bottom "
                                f"at most {CROP_MAX_TOTAL}",
                 "properties": {side: _num(0, CROP_MAX_TOTAL, 0.0) for side in ("left", "top", "right", "bottom")}},
    },
}
_KEYFRAME_LIST = {
    "type": "array", "minItems": 1, "maxItems": MAX_KEYFRAMES,
    "items": {"type": "object", "additionalProperties": False, "required": ["t", "v"],
              "properties": {"t": {"type": "number", "minimum": 0, "description": "seconds from the clip's start"},
                             "v": {"type": "number"},
                             "ease": {"type": "string", "enum": list(EASES), "default": "linear"}}},
}
_ADJUST = {"type": "object", "additionalProperties": False,
           "properties": {key: _num(low, high) for key, (low, high) in ADJUST_RANGES.items()}}
_CLIP = {
    "type": "object",
    "description": "A clip. Video tracks: video (asset_id, in, out), image (asset_id, duration), freeze "
                   "(asset_id, freeze), colour (color, duration). Audio tracks: asset_id, in, out. Text tracks: "
                   "text, duration, style. See docs/timeline.md.",
    "required": ["id", "start"],
    "properties": {
        "id": {"type": "string", "maxLength": 64},
        "asset_id": {"type": "string", "format": "uuid"},
        "start": {"type": "number", "minimum": 0},
        "in": {"type": "number", "minimum": 0}, "out": {"type": "number", "minimum": 0},
        "duration": {"type": "number", "exclusiveMinimum": True, "minimum": 0},
        "volume": _num(0, 2, 1.0), "fade_in": {"type": "number", "minimum": 0},
        "fade_out": {"type": "number", "minimum": 0},
        "fit": {"type": "string", "enum": list(FITS), "default": "contain"},
        "transition": _TRANSITION, "transition_out": _TRANSITION,
        "transform": _TRANSFORM,
        "keyframes": {"type": "object", "additionalProperties": False,
                      "properties": {prop: _KEYFRAME_LIST for prop in ("x", "y", "scale", "rotation", "opacity",
                                                                       "volume")}},
        "adjust": _ADJUST,
        "speed": _num(*SPEED_RANGE, 1.0, description="timeline length = (out - in) / speed; sound keeps its pitch"),
        "reverse": {"type": "boolean", "default": False},
        "freeze": {"type": "object", "additionalProperties": False, "required": ["at", "duration"],
                   "properties": {"at": {"type": "number", "minimum": 0},
                                  "duration": {"type": "number", "exclusiveMinimum": True, "minimum": 0}}},
        "color": _COLOR,
        "gradient": {"type": "object", "additionalProperties": False, "required": ["to"],
                     "properties": {"to": _COLOR, "angle": _num(0, 360, 180.0)}},
        "text": {"type": "string", "maxLength": 500},
        "style": TEXT_STYLE_OPENAPI,
    },
}
TIMELINE_OPENAPI = {
    "type": "object",
    "description": "The timeline document, schema 2 (docs/timeline.md). Schema 1 documents are accepted as they "
                   "are and answered as schema 2.",
    "additionalProperties": False,
    "properties": {
        "schema": {"type": "integer", "enum": [1, 2], "default": 2},
        "output": {"type": "object", "properties": {
            "width": {"type": "integer"}, "height": {"type": "integer"}, "fps": {"type": "number"},
            "background": _COLOR, **OUTPUT_PROPERTIES}},
        "tracks": {"type": "array", "items": {"type": "object", "required": ["id", "kind"], "properties": {
            "id": {"type": "string"}, "kind": {"type": "string", "enum": ["video", "audio", "text", "captions"]},
            "muted": {"type": "boolean", "description": "video, audio: no sound from this track"},
            "solo": {"type": "boolean", "description": "video, audio: when any track is solo, only solo tracks "
                                                       "are heard"},
            "hidden": {"type": "boolean", "description": "video, text, captions: nothing of this track is drawn"},
            "locked": {"type": "boolean", "description": "editor state: the editor refuses to change the track's "
                                                         "clips; never rendered"},
            "clips": {"type": "array", "items": _CLIP},
            **CAPTIONS_TRACK_PROPERTIES}}},
        "markers": {"type": "array", "items": {"type": "object"}},
        "view": {"type": "object"},
    },
}


@extend_schema_field(TIMELINE_OPENAPI)
class TimelineField(serializers.JSONField):
    """A JSON field documented as the timeline document (validation happens in the service)."""
