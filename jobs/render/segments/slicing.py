"""Where a plan may be cut, and the slices: each segment a plan of its own, frames [start, end) of the whole.

Segments are cut only at hard boundaries: frames where no transition, fade, crossfade overlap, animated,
reversed or speed-changed clip spans the cut, so a segment rendered on its own shows exactly the frames the
whole-plan graph would (`plan_slice` gives each part of a cut clip its own `src_in`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.conf import settings

from jobs.render.plan import Layer, RenderPlan
from jobs.render.segments.encode import video_encoder_args
from jobs.render.segments.keys import segment_key


@dataclass
class Segment:
    start: int  # timeline frames [start, end)
    end: int
    plan: RenderPlan  # the slice, video only, frame 0 = `start`
    key: str = ""
    smart: object | None = None  # smart.SmartCut when the segment is stream-copied around its cuts
    cached: bool = False
    files: list[Path] = field(default_factory=list)  # what the join reads, in order

    @property
    def frames(self) -> int:
        return self.end - self.start


def _forbidden(plan: RenderPlan) -> list[tuple[int, int]]:
    """Frame ranges [lo, hi) where no cut may fall (a cut at f splits frames f-1 and f)."""
    spans: list[tuple[int, int]] = []
    by_track: dict[int, list[Layer]] = {}
    for layer in plan.layers:
        by_track.setdefault(layer.track_index, []).append(layer)
        # A title drawn as a series of pictures (text.text_sequence) plays its series from its own first frame.
        series = bool(layer.steps) and len(layer.steps) > 1
        if layer.animated or series or layer.reverse or layer.speed != 1.0 or layer.kind not in (
                "video", "image", "text", "freeze"):
            spans.append((layer.start + 1, layer.end))
            continue
        if layer.fade_in:
            spans.append((layer.start + 1, layer.start + layer.fade_in))
        if layer.fade_out:
            spans.append((layer.end - layer.fade_out + 1, layer.end))
    for layers in by_track.values():
        ordered = sorted(layers, key=lambda item: item.start)
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end:  # a crossfade: both clips belong to one segment
                spans.append((after.start, before.end))
    return sorted(s for s in spans if s[1] > s[0])


def cut_allowed(plan: RenderPlan, frame: int, spans: list[tuple[int, int]] | None = None) -> bool:
    spans = _forbidden(plan) if spans is None else spans
    return 0 < frame < plan.frames and not any(lo <= frame < hi for lo, hi in spans)


def segments_split(plan: RenderPlan, target_frames: int, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """[start, end) frame ranges covering frames [lo, hi) of the plan, about `target_frames` long, cut only
    where allowed (`lo` and `hi` themselves must be allowed cuts).

    Clip starts and ends on the first track are preferred cut points (a clip that smart render can copy then
    lies in whole segments); inside a long stretch the cut goes to the first allowed frame at or after
    every `target_frames`.
    """
    spans = _forbidden(plan)
    total = plan.frames if hi is None else hi
    target = max(1, target_frames)
    base = min((layer.track_index for layer in plan.layers), default=None)
    edges = sorted({f for layer in plan.layers if layer.track_index == base for f in (layer.start, layer.end)
                    if cut_allowed(plan, f, spans)})
    cuts: list[int] = []
    position = lo
    edge_iter = [e for e in edges if lo < e < total]
    while total - position > target + target // 4:  # a short rest stays whole: one encode, not two
        wanted = position + target
        nxt_edge = next((e for e in edge_iter if e > position), None)
        if nxt_edge is not None and nxt_edge <= wanted + target // 4:
            candidate = nxt_edge
        else:
            candidate = wanted
            for span_lo, span_hi in spans:
                if span_lo <= candidate < span_hi:
                    candidate = span_hi
        if candidate >= total or (total - candidate < max(1, target // 4) and candidate not in edges):
            break
        cuts.append(candidate)
        position = candidate
    bounds = [lo, *cuts, total]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _cut_layer(layer: Layer, a: int, b: int, fps: float) -> Layer | None:
    """The part of `layer` inside timeline frames [a, b), shifted so that `a` is frame 0."""
    start, end = max(layer.start, a), min(layer.end, b)
    if end <= start:
        return None
    skipped = start - layer.start
    changes: dict = {"start": start - a, "end": end - a}
    if skipped:
        if layer.kind == "video":
            changes["src_in"] = layer.src_in + skipped / fps * layer.speed
        changes["fade_in"] = 0
        changes["crossfade"] = False
    if end < layer.end:
        changes["fade_out"] = 0
    return replace(layer, **changes)


def plan_slice(plan: RenderPlan, a: int, b: int) -> RenderPlan:
    """Frames [a, b) of the plan as a plan of its own (video only: the sound is mixed whole)."""
    fps = plan.output.fps
    layers = [cut for layer in plan.layers if (cut := _cut_layer(layer, a, b, fps)) is not None]
    return RenderPlan(output=replace(plan.output), frames=b - a, samples=0, layers=layers, audio=[],
                      poster_frame=0, captions=None)


def segments_plan(plan: RenderPlan, *, known_hashes: dict[str, str] | None = None,
                  segment_seconds: float | None = None, x264_params: str = "",
                  copies: list[tuple[int, int, object]] | None = None) -> list[Segment]:
    """The render's segments: `copies` (smart render's stream-copied ranges) as they are, and every frame
    between them in encoded segments of about RENDER_SEGMENT_SECONDS."""
    seconds = settings.RENDER_SEGMENT_SECONDS if segment_seconds is None else segment_seconds
    target = max(1, round(seconds * plan.output.fps))
    encoder = video_encoder_args(plan, x264_params)
    segments: list[Segment] = []

    def encoded(lo: int, hi: int) -> None:
        for a, b in segments_split(plan, target, lo, hi):
            sub = plan_slice(plan, a, b)
            segments.append(Segment(start=a, end=b, plan=sub, key=segment_key(sub, encoder, known_hashes)))

    cursor = 0
    for a, b, cut in sorted(copies or [], key=lambda item: item[0]):
        if a > cursor:
            encoded(cursor, a)
        segments.append(Segment(start=a, end=b, plan=plan_slice(plan, a, b), smart=cut))
        cursor = b
    if cursor < plan.frames:
        encoded(cursor, plan.frames)
    return segments
