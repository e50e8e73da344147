"""Per-frame transforms of a plan layer (schema 2): keyframe curves, transitions in/out, placement.

One description, two executions. `layer_state` says, for a timeline frame, how big a layer is drawn, where,
turned how far, how opaque, and which transition mask applies; the moviepy compositor calls it frame by
frame, and the ffmpeg path turns the very same formulas into filter expressions (`curve_expr`, `mask_expr`),
so both paths place every pixel alike. Plain Python (no Django, no numpy): the compositor child imports it.

Conventions (docs/timeline.md): a keyframe's `ease` shapes the move from it to the next one; before the first
keyframe the value is the first's, after the last the last's. A transition's progress q runs 0→1 over its
frames (frame i of n has q = i/n going in; the last frame going out has 1/n), as the v1 fades did.
"""

from __future__ import annotations

import itertools
import math
import struct
from dataclasses import dataclass

from config.even import even_round

# How far a zoom_in transition scales: from half size in, to one and a half out.
ZOOM_FROM = 0.5
# A picture is never drawn larger than this many frame widths/heights: anything beyond is off-screen, and
# drawing it would cost memory in proportion to the document instead of the output (docs/rendering.md).
MAX_DRAWN = 3.0

EASE_PY = {
    "linear": lambda p: p,
    "ease_in": lambda p: p * p,
    "ease_out": lambda p: p * (2 - p),
    "ease_in_out": lambda p: p * p * (3 - 2 * p),
    "hold": lambda p: 0.0,
}
EASE_EXPR = {
    "linear": "({p})",
    "ease_in": "(({p})*({p}))",
    "ease_out": "(({p})*(2-({p})))",
    "ease_in_out": "(({p})*({p})*(3-2*({p})))",
    "hold": "0",
}
MASKED = ("wipe_left", "wipe_right", "wipe_up", "wipe_down", "circle_open")
SLIDES = {"slide_left": (1, 0), "slide_right": (-1, 0), "slide_up": (0, 1), "slide_down": (0, -1)}
FADING = ("fade", "crossfade", "dissolve", "zoom_in", "")


def round_half_up(value: float) -> int:
    """floor(x + 0.5): ffmpeg's expressions and Python must round alike (Python's round() is to even)."""
    return math.floor(value + 0.5)


def curve_value(points: list[list], frame: float) -> float:
    """A keyframe curve at a clip-local frame; points are [frame, value, ease], ascending."""
    if frame <= points[0][0]:
        return points[0][1]
    for (f0, v0, ease), (f1, v1, _) in itertools.pairwise(points):
        if frame < f1:
            return v0 + (v1 - v0) * EASE_PY[ease]((frame - f0) / (f1 - f0))
    return points[-1][1]


def curve_expr(points: list[list], var: str) -> str:
    """The same curve as an ffmpeg expression of the clip-local frame variable `var`."""
    expr = f"({points[-1][1]!r})"
    for (f0, v0, ease), (f1, v1, _) in reversed(list(itertools.pairwise(points))):
        p = f"({var}-({f0!r}))/({(f1 - f0)!r})"
        segment = f"({v0!r})+({(v1 - v0)!r})*{EASE_EXPR[ease].format(p=p)}"
        expr = f"if(lt({var},{f1!r}),{segment},{expr})"
    return f"if(lt({var},{points[0][0]!r}),({points[0][1]!r}),{expr})"


@dataclass(frozen=True)
class LayerState:
    """How a layer is drawn on one frame: size before rotation, top-left of the (rotated) box, and effects."""

    width: int
    height: int
    left: int
    top: int
    box_w: int  # the box the picture is turned in (= width/height when not rotated)
    box_h: int
    rotation: float  # degrees clockwise
    opacity: float
    mask: str  # "" or a MASKED type
    mask_q: float  # the mask's visible fraction 0..1
    mask_out: bool  # the mask closes (transition_out) rather than opens
    white: float  # fade_white: how far the picture is tinted white, 0..1


def _progress(layer, local: int) -> tuple[str, float, bool]:
    """(transition type, q, is_out) for a local frame, or ("", 1.0, False) outside the transitions."""
    if layer.fade_in and local < layer.fade_in:
        return layer.trans_in or "fade", local / layer.fade_in, False
    remaining = layer.frames - local
    if layer.fade_out and remaining <= layer.fade_out:
        return layer.trans_out or "fade", remaining / layer.fade_out, True
    return "", 1.0, False


def layer_value(layer, prop: str, local: int) -> float:
    points = (layer.keys or {}).get(prop)
    if points:
        return curve_value(points, local)
    return {"x": layer.center_x, "y": layer.center_y, "scale": layer.scale, "rotation": layer.rotation,
            "opacity": layer.static_opacity}[prop]


def scale_factor(layer, local: int) -> float:
    """The size multiplier of the fitted picture at a local frame: keyframes × zoom transition, capped."""
    scale = layer_value(layer, "scale", local)
    kind, q, out = _progress(layer, local)
    if kind == "zoom_in":
        scale *= (1 + (1 - ZOOM_FROM) * (1 - q)) if out else (ZOOM_FROM + (1 - ZOOM_FROM) * q)
    return min(scale, layer.scale_cap)


def layer_state(layer, frame: int, canvas: tuple[int, int]) -> LayerState:
    local = frame - layer.start
    canvas_w, canvas_h = canvas
    factor = scale_factor(layer, local)
    width, height = even_round(layer.base_w * factor), even_round(layer.base_h * factor)
    rotation = layer_value(layer, "rotation", local)
    box_w, box_h = (layer.box_w, layer.box_h) if layer.box_w else (width, height)
    opacity = max(0.0, min(1.0, layer_value(layer, "opacity", local)))
    kind, q, out = _progress(layer, local)
    dx = dy = 0.0
    white = 0.0
    mask = ""
    if kind in FADING:
        opacity *= q
    elif kind in SLIDES:
        sx, sy = SLIDES[kind]
        sign = -1 if out else 1
        dx, dy = sign * sx * (1 - q) * canvas_w, sign * sy * (1 - q) * canvas_h
    elif kind == "fade_white":
        opacity *= min(1.0, 2 * q)
        white = 1.0 - max(0.0, 2 * q - 1)
    elif kind in MASKED:
        mask = kind
    cx = layer_value(layer, "x", local) + dx
    cy = layer_value(layer, "y", local) + dy
    return LayerState(
        width=width, height=height, left=round_half_up(cx - box_w / 2), top=round_half_up(cy - box_h / 2),
        box_w=box_w, box_h=box_h, rotation=rotation, opacity=opacity,
        mask=mask if q < 1 or kind != "circle_open" else "", mask_q=q, mask_out=out, white=white,
    )


def _f32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def wipe_edge(kind: str, q: float, out: bool, size: int) -> int:
    """The last hidden (opening) or last shown (closing) column or row of a wipe, as ffmpeg's xfade draws it:
    in single-precision floats, progress p = 1 − q going in (p = q going out), edge ⌊size·p⌋ for left/up and
    ⌊size·(1 − p)⌋ for right/down. The ffmpeg path draws wipes with xfade, so the compositor uses its edges,
    quirks included: at p = 1 a wipe_right/wipe_down shows (going in) or hides (going out) the first column/row."""
    progress = _f32(1.0 - _f32(1.0 - q)) if out else _f32(1.0 - _f32(q))
    if kind in ("wipe_left", "wipe_up"):
        return math.floor(_f32(size * progress))
    return math.floor(_f32(size * _f32(1.0 - progress)))


def mask_visible(kind: str, q: float, out: bool, x, y, w: int, h: int):
    """Which pixels of a (box_w × box_h) picture show during a masked transition. x, y: pixel coordinates
    (numbers or numpy arrays). Closing masks (out) move on in the same direction as opening ones."""
    if kind in ("wipe_left", "wipe_right"):
        edge = wipe_edge(kind, q, out, w)
        return (x > edge) if (kind == "wipe_left") != out else (x <= edge)
    if kind in ("wipe_up", "wipe_down"):
        edge = wipe_edge(kind, q, out, h)
        return (y > edge) if (kind == "wipe_up") != out else (y <= edge)
    # circle_open: a disc from the centre, reaching the corners at q = 1.
    return ((x + 0.5 - w / 2) ** 2 + (y + 0.5 - h / 2) ** 2) <= (q * math.hypot(w / 2, h / 2)) ** 2


def mask_expr(kind: str, q: str, out: bool) -> str:
    """`mask_visible` for ffmpeg's geq (X, Y, W, H of the alpha plane), 1 where the picture shows (in double
    precision: an edge falling exactly on a pixel may differ by one from xfade's)."""
    if kind == "wipe_left":
        return f"lte(X,floor(W*{q}))" if out else f"gt(X,floor(W*(1-{q})))"
    if kind == "wipe_right":
        return f"gt(X,floor(W*(1-{q})))" if out else f"lte(X,floor(W*{q}))"
    if kind == "wipe_up":
        return f"lte(Y,floor(H*{q}))" if out else f"gt(Y,floor(H*(1-{q})))"
    if kind == "wipe_down":
        return f"gt(Y,floor(H*(1-{q})))" if out else f"lte(Y,floor(H*{q}))"
    return f"lte((X+0.5-W/2)*(X+0.5-W/2)+(Y+0.5-H/2)*(Y+0.5-H/2),({q})*({q})*(W*W+H*H)/4)"


# --- the same formulas as ffmpeg expressions of the clip-local frame `n` ---------------------------------
def _value_expr(layer, prop: str, var: str) -> str:
    points = (layer.keys or {}).get(prop)
    if points:
        return curve_expr(points, var)
    return f"({layer_value(layer, prop, 0)!r})"


def _in_q(layer, var: str) -> str:
    return f"({var})/{layer.fade_in}"


def _out_q(layer, var: str) -> str:
    return f"({layer.frames}-({var}))/{layer.fade_out}"


def _in_window(layer, var: str) -> str:
    return f"lt({var},{layer.fade_in})" if layer.fade_in else "0"


def _out_window(layer, var: str) -> str:
    # Only outside the way in (motion._progress checks the way in first).
    if not layer.fade_out:
        return "0"
    return f"(gte({var},{layer.fade_in})*lte({layer.frames}-({var}),{layer.fade_out}))"


def _kinds(layer) -> tuple[str, str]:
    return (layer.trans_in or "fade") if layer.fade_in else "", (layer.trans_out or "fade") if layer.fade_out else ""


def scale_expr(layer, var: str) -> str:
    """`scale_factor` as an expression."""
    kind_in, kind_out = _kinds(layer)
    expr = _value_expr(layer, "scale", var)
    if kind_in == "zoom_in":
        expr += f"*if({_in_window(layer, var)},{ZOOM_FROM!r}+{1 - ZOOM_FROM!r}*{_in_q(layer, var)},1)"
    if kind_out == "zoom_in":
        expr += f"*if({_out_window(layer, var)},1+{1 - ZOOM_FROM!r}*(1-{_out_q(layer, var)}),1)"
    return f"min({layer.scale_cap!r},{expr})"


def scale_animated(layer) -> bool:
    return bool((layer.keys or {}).get("scale")) or "zoom_in" in _kinds(layer)


def opacity_expr(layer, var: str) -> str:
    kind_in, kind_out = _kinds(layer)
    expr = f"clip({_value_expr(layer, 'opacity', var)},0,1)"
    for kind, window, q in ((kind_in, _in_window(layer, var), _in_q(layer, var)),
                            (kind_out, _out_window(layer, var), _out_q(layer, var))):
        if kind in FADING:
            expr += f"*if({window},{q},1)"
        elif kind == "fade_white":
            expr += f"*if({window},min(1,2*{q}),1)"
    return expr


def mask_full_expr(layer, var: str) -> str:
    kind_in, kind_out = _kinds(layer)
    expr = "1"
    if kind_in in MASKED:
        expr += f"*if({_in_window(layer, var)},{mask_expr(kind_in, _in_q(layer, var), False)},1)"
    if kind_out in MASKED:
        expr += f"*if({_out_window(layer, var)},{mask_expr(kind_out, _out_q(layer, var), True)},1)"
    return expr


def white_expr(layer, var: str) -> str | None:
    kind_in, kind_out = _kinds(layer)
    parts = []
    if kind_in == "fade_white":
        parts.append(f"if({_in_window(layer, var)},1-max(0,2*{_in_q(layer, var)}-1),0)")
    if kind_out == "fade_white":
        parts.append(f"if({_out_window(layer, var)},1-max(0,2*{_out_q(layer, var)}-1),0)")
    return "+".join(parts) or None


def slide_expr(layer, var: str, axis: int, canvas: int) -> str:
    kind_in, kind_out = _kinds(layer)
    expr = "0"
    if kind_in in SLIDES and SLIDES[kind_in][axis]:
        expr += f"+if({_in_window(layer, var)},{SLIDES[kind_in][axis] * canvas}*(1-{_in_q(layer, var)}),0)"
    if kind_out in SLIDES and SLIDES[kind_out][axis]:
        expr += f"+if({_out_window(layer, var)},{-SLIDES[kind_out][axis] * canvas}*(1-{_out_q(layer, var)}),0)"
    return expr


def drawn_in_yuv(layer) -> bool:
    """Whether the ffmpeg path draws this animated layer in YUV 4:2:0 with the canvas: it stays where it is
    and does not turn (a zoom, a wipe, a fade, an opacity), and needs no expression per pixel (keyframed
    opacity, fade_white, circle_open). Anything else is drawn in RGB, which keeps a moving or turning
    picture's edges to the pixel. In 4:2:0 a picture lands on chroma pairs: its box's top-left and the
    picture's offset in the box are floored to even pixels, and the compositor snaps such a layer alike."""
    keys = layer.keys or {}
    turning = bool(layer.rotation % 360) or bool(keys.get("rotation"))
    moving = bool(keys.get("x") or keys.get("y")) or bool(set(_kinds(layer)) & set(SLIDES))
    kinds = set(_kinds(layer)) - {""}
    return not (turning or moving or keys.get("opacity") or kinds & {"fade_white", "circle_open"})


def needs_alpha_pass(layer) -> bool:
    """Whether the picture's alpha (or colour, for fade_white) changes during the clip."""
    kind_in, kind_out = _kinds(layer)
    fading = {kind_in, kind_out} - {""} - set(SLIDES)
    return bool(fading) or bool((layer.keys or {}).get("opacity")) or layer.static_opacity < 1.0


# --- sound ----------------------------------------------------------------------------------------------
def tempo_filters(speed: float) -> list[str]:
    """atempo steps for a speed (pitch kept); one step covers 0.5–100×, slower takes two."""
    steps = []
    while speed < 0.5:
        steps.append("atempo=0.5")
        speed /= 0.5
    if speed != 1.0:
        steps.append(f"atempo={speed!r}")
    return steps


def sound_timing(part, rate: int) -> list[str]:
    """A part's source sound as 48 kHz stereo, reversed and re-timed as the plan says (both paths use it:
    moviepy has no pitch-keeping tempo change)."""
    filters = [f"aresample={rate}", "aformat=sample_fmts=fltp:channel_layouts=stereo"]
    if part.reverse:
        filters += [f"atrim=end_sample={round((part.src_length or 0) * rate)}", "areverse"]
    if part.speed != 1.0:
        filters += tempo_filters(part.speed)
    return filters
