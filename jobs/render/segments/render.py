"""The segmented render: segments taken from the cache, stream-copied (smart.py) or encoded (here or, fanned out,
by other workers), the sound mixed beside them, then the join."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from django.conf import settings

from jobs.render import segment_cache
from jobs.render.formats import format_get
from jobs.render.plan import RenderPlan
from jobs.render.progress import RenderMonitor
from jobs.render.segments.encode import audio_encode, segment_encode, video_encoder_args
from jobs.render.segments.join import segments_join
from jobs.render.segments.slicing import Segment, segments_plan

logger = logging.getLogger(__name__)

PART_POLL = 0.2  # seconds between looks at the cache while other workers encode


@dataclass
class SegmentedReport:
    segments: int = 0
    cached: int = 0
    encoded: int = 0
    smart: int = 0
    by_parts: int = 0  # segments other workers encoded (segment-parallel)
    copied_frames: int = 0
    encoded_frames: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.segments} segments: {self.cached} from the cache, {self.encoded} encoded"]
        if self.by_parts:
            parts.append(f"{self.by_parts} encoded by other workers")
        if self.smart:
            parts.append(f"{self.smart} smart ({self.copied_frames} frames stream-copied)")
        return ", ".join(parts) + "".join(f"; {note}" for note in self.notes)


def parent_owner() -> str:
    """The name one render's claims on its segments carry. Unique across machines (work horses in separate
    containers can share a pid) and across renders in one process, so no render refreshes or releases a claim
    another render took."""
    return f"parent:{os.getpid()}:{uuid.uuid4().hex}"


def _fan_out(plan: RenderPlan, segments: list[Segment], encoder: list[str]) -> tuple[ModuleType, str] | None:
    """(jobs.services.parts, the parent job's id) when this render fans its uncached segments out to other
    workers, else None."""
    try:
        from jobs.services import parts
    except ImportError:  # the renderer without the job service (a plain script)
        return None
    parent = parts.parts_parent()
    if parent is None:
        return None
    todo = [(i, s) for i, s in enumerate(segments) if s.smart is None and not segment_cache.cache_has(s.key)]
    seconds = sum(s.frames for _, s in todo) / plan.output.fps
    if len(todo) < 2 or seconds < settings.RENDER_PARTS_MIN_SECONDS:
        return None
    # The parent starts on the first segment itself; parts are queued last segment first, so the two meet
    # in the middle.
    try:
        parts.parts_enqueue(parent, [{"index": i, "key": s.key, "plan": s.plan.to_json(), "encoder": encoder,
                                      "frames": s.frames} for i, s in todo[1:]])
    except Exception:
        # Redis refused: this worker renders every segment itself (any part that did get queued finds the
        # stop flag, or its segment cached, and returns).
        logger.warning("job %s: could not fan out its segments; rendering them here", parent, exc_info=True)
        return None
    return parts, parent


class _AudioMix(threading.Thread):
    """The sound mix, encoded beside the segments (it needs none of them)."""

    def __init__(self, plan: RenderPlan, work: Path) -> None:
        super().__init__(daemon=True)
        self.plan, self.work, self.path = plan, work, work / "audio.m4a"
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            # Its own monitor: only the render's thread asks should_cancel (it may read the database).
            audio_encode(self.plan, self.path, self.work, RenderMonitor(None, self.stop.is_set, timeout=None))
        except BaseException as exc:
            self.error = exc

    def result(self) -> Path:
        self.join()
        if self.error is not None:
            raise self.error
        return self.path


def render_segmented(plan: RenderPlan, out_path: Path, work: Path, monitor: RenderMonitor, *,
                     known_hashes: dict[str, str] | None = None, smart: bool = True) -> SegmentedReport:
    """Render an mp4 plan segment by segment (cache first), then join; returns what was done."""
    mix = _AudioMix(plan, work) if format_get(plan.output.format).has_audio else None
    if mix is not None:
        mix.start()
    try:
        return _render_segments(plan, out_path, work, monitor, known_hashes=known_hashes, smart=smart, mix=mix)
    finally:
        if mix is not None and mix.is_alive():
            mix.stop.set()  # the render failed or was canceled: its encoder stops within a tenth of a second
            mix.join()


def _render_segments(plan: RenderPlan, out_path: Path, work: Path, monitor: RenderMonitor, *,
                     known_hashes: dict[str, str] | None, smart: bool, mix: _AudioMix | None) -> SegmentedReport:
    from jobs.render import smart as smart_render

    report = SegmentedReport()
    x264_params, smart_sources = "", {}
    if smart:
        x264_params, smart_sources, note = smart_render.smart_prepare(plan, work)
        if note:
            report.notes.append(note)
    copies = smart_render.smart_copies(plan, smart_sources) if smart_sources else []
    segments = segments_plan(plan, known_hashes=known_hashes, x264_params=x264_params, copies=copies)
    encoder = video_encoder_args(plan, x264_params)
    report.segments = len(segments)
    done_frames = 0
    total = max(1, plan.frames)
    monitor.encode_started()
    parts = work / ("parts" if smart else "parts-plain")
    parts.mkdir(exist_ok=True)

    def progress(extra: int) -> None:
        frames = min(total, done_frames + extra)
        monitor.encode_progress(frames / total, f"Encoding frame {frames} of {plan.frames}")

    reference = next((s.smart.source.param_sets for s in segments if s.smart is not None), None)
    verified = reference is None
    fanned = {s.key for s in segments if s.smart is None and not segment_cache.cache_has(s.key)}
    fan_out = _fan_out(plan, segments, encoder)
    # The parent job's id belongs to this call: renders in threads of one process each read their own parts'
    # progress.
    fan, fan_parent = fan_out if fan_out else (None, "")
    if not fan:
        fanned = set()
    owner = parent_owner()
    deferred: list[int] = []
    # Workers sharing the segments run one encoder each: a thread apiece (RENDER_PART_THREADS) keeps them from
    # fighting over the cores; alone, this worker's encoder has RENDER_THREADS like the single graph.
    threads = settings.RENDER_PART_THREADS if fan else None

    def encode_here(index: int, segment: Segment, target: Path) -> None:
        refreshed = [time.monotonic()]

        def on_frame(n: int) -> None:
            if fan and time.monotonic() - refreshed[0] >= 1.0:
                refreshed[0] = time.monotonic()
                fan.claim_refresh(segment.key, owner)
            progress(n)

        try:
            segment_encode(segment.plan, target, work, monitor, encoder, on_frame, name=f"seg{index:05d}",
                           threads=threads)
            segment_cache.cache_put(segment.key, target)
        finally:
            if fan:
                fan.claim_release(segment.key, owner)
        report.encoded += 1
        report.encoded_frames += segment.frames

    for index, segment in enumerate(segments):
        monitor.check()
        if segment.smart is not None:
            segment.files = [smart_render.smart_copy(segment, parts, work)]
            report.smart += 1
            report.copied_frames += segment.frames
        else:
            target = parts / f"seg{index:05d}.mp4"
            segment.files = [target]
            if segment_cache.cache_get(segment.key, target):
                segment.cached = True
                if segment.key in fanned:
                    report.by_parts += 1  # a part finished it before this worker got there
                else:
                    report.cached += 1
            elif fan and not fan.claim(segment.key, owner):
                deferred.append(index)  # a part on another worker has it
                continue
            else:
                encode_here(index, segment, target)
        if not verified and segment.smart is None:
            verified = True
            if not smart_render.smart_verify(segment.files[0], reference):
                # The re-encoded pieces' parameter sets differ from the copied GOPs': the join would not
                # decode everywhere. Start again without smart render.
                fallback = _render_segments(plan, out_path, work, monitor, known_hashes=known_hashes,
                                            smart=False, mix=mix)
                fallback.notes.append("smart render fell back to re-encoding: the re-encoded pieces' "
                                      "H.264 headers did not match the source's")
                return fallback
        done_frames += segment.frames
        progress(0)
    while deferred:
        # Wait for the parts: take each result from the cache; a part whose claim lapsed (its worker died)
        # or that never started is encoded here.
        for index in list(deferred):
            segment = segments[index]
            target = segment.files[0]
            if segment_cache.cache_get(segment.key, target):
                report.by_parts += 1
            elif not fan.claim_held(segment.key) and fan.claim(segment.key, owner):
                encode_here(index, segment, target)
            else:
                continue
            deferred.remove(index)
            done_frames += segment.frames
        progress(fan.parts_progress(fan_parent) if deferred else 0)
        monitor.check()
        if deferred:
            time.sleep(PART_POLL)
    monitor.check(force=True)
    audio = mix.result() if mix is not None else None
    segments_join([f for s in segments for f in s.files], audio, out_path, work, plan.output.fps_expr)
    return report
