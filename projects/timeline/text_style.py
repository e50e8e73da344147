"""Validation of the schema-2 text style fields (docs/text-and-captions.md), called from the validator's `style()`.

Kept apart from validate.py so the text fields (font, weight, italic, align, max_width, line_height,
background, stroke, shadow, animation) live in one place. Every field is optional; the canonical document
holds only the fields that were given, so schema-1 documents come back unchanged.
"""

from __future__ import annotations

from typing import Any

STYLE_FIELDS = ("font", "weight", "italic", "align", "max_width", "line_height", "background", "stroke", "shadow",
                "animation")
# The renderer's font registry (jobs.render.fonts.FAMILIES) has exactly these ids; a test keeps them equal.
# They are listed here because the timeline schema owns its values and projects do not import jobs.
FONT_FAMILIES = (
    "noto_sans", "noto_serif", "noto_sans_kr", "noto_serif_kr", "noto_sans_jp", "noto_sans_arabic",
    "noto_naskh_arabic", "noto_sans_hebrew", "dejavu_sans", "dejavu_serif", "dejavu_sans_mono", "liberation_sans",
    "liberation_serif", "liberation_mono",
)
ALIGNS = ("left", "center", "right")
ANIMATIONS = ("none", "fade", "slide_up", "pop", "typewriter")
WEIGHT_RANGE = (100, 900)
MAX_BOX = 3840  # pixels: max_width, padding, radius, shadow offsets, stroke (in timeline pixels)


def text_style_extra(v: Any, value: dict[str, Any], path: str) -> dict[str, Any]:
    """The canonical extra style fields of `value`; problems are reported on the validator `v`."""
    out: dict[str, Any] = {}
    if "font" in value:
        out["font"] = v.choice(value, "font", path, FONT_FAMILIES)
    if "weight" in value:
        out["weight"] = v.number(value, "weight", path, whole=True, minimum=WEIGHT_RANGE[0], maximum=WEIGHT_RANGE[1])
    if "italic" in value:
        out["italic"] = v.boolean(value, "italic", path, default=False)
    if "align" in value:
        out["align"] = v.choice(value, "align", path, ALIGNS)
    if "max_width" in value:
        out["max_width"] = v.number(value, "max_width", path, whole=True, minimum=16, maximum=MAX_BOX)
    if "line_height" in value:
        out["line_height"] = v.number(value, "line_height", path, minimum=0.5, maximum=4)
    if "background" in value:
        out["background"] = _background(v, value["background"], f"{path}.background")
    if "stroke" in value:
        out["stroke"] = _stroke(v, value["stroke"], f"{path}.stroke")
    if "shadow" in value:
        out["shadow"] = _shadow(v, value["shadow"], f"{path}.shadow")
    if "animation" in value:
        out["animation"] = _animation(v, value["animation"], f"{path}.animation")
    return out


def _background(v: Any, raw: Any, path: str) -> Any:
    if raw is None:
        return None
    value = v.obj(raw, path, "background")
    if value is None:
        return None
    v.unknown_keys(value, ("color", "opacity", "padding", "radius"), path, "background")
    return {
        "color": v.color(value, "color", path, default="#000000"),
        "opacity": v.number(value, "opacity", path, default=1.0, minimum=0, maximum=1),
        "padding": v.number(value, "padding", path, default=0, whole=True, minimum=0, maximum=512),
        "radius": v.number(value, "radius", path, default=0, whole=True, minimum=0, maximum=512),
    }


def _stroke(v: Any, raw: Any, path: str) -> Any:
    value = v.obj(raw, path, "stroke")
    if value is None:
        return None
    v.unknown_keys(value, ("color", "width"), path, "stroke")
    return {
        "color": v.color(value, "color", path, default="#000000"),
        "width": v.number(value, "width", path, default=2, whole=True, minimum=0, maximum=64),
    }


def _shadow(v: Any, raw: Any, path: str) -> Any:
    if raw is None:
        return None
    value = v.obj(raw, path, "shadow")
    if value is None:
        return None
    v.unknown_keys(value, ("color", "x", "y", "blur"), path, "shadow")
    return {
        "color": v.color(value, "color", path, default="#000000"),
        "x": v.number(value, "x", path, default=2, whole=True, minimum=-256, maximum=256),
        "y": v.number(value, "y", path, default=2, whole=True, minimum=-256, maximum=256),
        "blur": v.number(value, "blur", path, default=0, minimum=0, maximum=64),
    }


def _animation(v: Any, raw: Any, path: str) -> Any:
    if raw is None:
        return None
    value = v.obj(raw, path, "animation")
    if value is None:
        return None
    v.unknown_keys(value, ("in", "out", "duration"), path, "animation")
    return {
        "in": v.choice(value, "in", path, ANIMATIONS, default="none"),
        "out": v.choice(value, "out", path, ANIMATIONS, default="none"),
        "duration": v.number(value, "duration", path, default=0.5, above=0, maximum=10),
    }
