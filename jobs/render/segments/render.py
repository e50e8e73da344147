"""The segmented path: the plan cut into a few seconds' segments, each encoded once and cached, then joined.

Segments are cut only at hard boundaries: frames where no transition, fade, crossfade overlap, animated,
reversed or speed-changed clip spans the cut, so a segment rendered on its own shows exactly the frames the
whole-plan graph would (`plan_slice` gives each part of a cut clip its own `src_in`). Each segment is an
ordinary single-graph render (ffmpeg_graph.FilterGraph) of its slice, video only; the sound is mixed once for
the whole timeline (one AAC stream: no priming gap at the joins) and muxed with the segments, which the
concat demuxer joins by stream copy.

A segment's cache key is a sha256 over the renderer version, the output settings, the encoder arguments and
the slice with every file named by its content hash, so a changed title (a new PNG), a changed input file or
a new RENDERER_VERSION misses, and nothing else does. smart.py may replace segments over plain cuts of
matching sources with stream-copied GOPs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from django.conf import settings

from config.tools import ffmpeg_exe
from jobs.render import segment_cache
from jobs.render.errors import RenderFailed
from jobs.render.ffmpeg_graph import READ_TIMEOUT, FilterGraph, _failure
from jobs.render.formats import format_get
from jobs.render.plan import Layer, RenderPlan
from jobs.render.procs import ChildProcess, run_quiet
from jobs.render.progress import RenderMonitor

logger = logging.getLogger(__name__)

MUX_TIMEOUT = 600.0
PART_POLL = 0.2  # seconds between looks at the cache while other workers encode


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


def segmented_suits(plan: RenderPlan) -> bool:
    """Whether "auto" renders segment by segment: H.264 MP4 of at least two segments, cache or smart render on.

    A shorter render is one segment anyway: the single graph does the same work without the extra sound pass
    and join.
    """
    long_enough = plan.frames >= 2 * settings.RENDER_SEGMENT_SECONDS * plan.output.fps
    return plan.output.format == "mp4" and long_enough and (settings.RENDER_SEGMENT_CACHE_MB > 0
                                                             or settings.RENDER_SMART)


def segmented_refine(plan: RenderPlan, known_hashes: dict[str, str] | None = None) -> tuple[str, str, list[Segment]]:
    """For "auto" on a plan segmented_suits: ("segmented" | "ffmpeg", why, the plain segments).

    The segmented path wins when it has something to skip: stream-copyable cuts, segments already in the
    cache, or idle workers to share the encode. Otherwise one graph is fastest, and the runner stores its
    output's segments in the cache (keyframes forced at the cuts) so that the next render can skip them.
    """
    from jobs.render import smart as smart_render

    segments = segments_plan(plan, known_hashes=known_hashes)
    if settings.RENDER_SMART:
        try:
            _, sources, _ = smart_render.smart_prepare(plan, Path("."))
        except RenderFailed:
            sources = {}  # a source ffprobe cannot read is no candidate; the render itself will say more
        if sources and smart_render.smart_copies(plan, sources):
            return "segmented", "plain cuts of matching H.264 sources are stream-copied (smart render)", segments
    hits = sum(1 for segment in segments if segment_cache.cache_has(segment.key))
    if hits:
        return "segmented", f"{hits} of {len(segments)} segments are already in the cache", segments
    idle = _idle_workers()
    if idle:
        return "segmented", f"{idle} idle worker(s) can share the {len(segments)} segments", segments
    why = "nothing to skip and no idle worker: one graph is fastest; its segments are stored in the cache"
    return "ffmpeg", why, segments


def _idle_workers() -> int:
    try:
        from jobs.services import parts
    except ImportError:
        return 0
    if parts.parts_parent() is None:
        return 0
    return parts.idle_workers()


def segments_force_keys(plan: RenderPlan, segments: list[Segment]) -> list[str]:
    """Output options that put a keyframe on every segment's first frame (half a frame early: ffmpeg keys
    the first frame at or after each time)."""
    fps = plan.output.fps
    times = [f"{(s.start - 0.5) / fps:.6f}" for s in segments if s.start > 0]
    return ["-force_key_frames", ",".join(times)] if times else []


def segments_store(encoded: Path, plan: RenderPlan, segments: list[Segment], work: Path) -> int:
    """Cut a finished single-graph MP4 at its forced keyframes (stream copy) and cache each segment."""

    if not segment_cache.cache_enabled() or len(segments) < 2:
        return 0
    try:
        return _segments_store(encoded, plan, segments, work)
    except Exception:
        # The render itself is done and good: a cache that could not be filled costs the next render only.
        logger.warning("segments of a single-graph render could not be cached", exc_info=True)
        return 0


def _segments_store(encoded: Path, plan: RenderPlan, segments: list[Segment], work: Path) -> int:
    # Two processes whatever the number of segments: one lists the keyframes (smart.packet_list), one stream
    # copy cuts the file at those of them that start a segment (the segment muxer counts video packets; with
    # closed GOPs an IDR's place in decode order is its frame number). A segment whose first or last frame the
    # encoder did not key stays whole with its neighbour in one piece, which is not stored.
    from jobs.render import smart as smart_render

    entries = sorted(smart_render.packet_list(encoded)[1])
    keys = {index for index, (_, key) in enumerate(entries) if key}
    if len(entries) != plan.frames:
        return 0
    cuts = [s.start for s in segments[1:] if s.start in keys]
    folder = work / "store"
    folder.mkdir(exist_ok=True)
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(encoded),
            "-map", "0:v:0", "-c", "copy", "-an", "-sn", "-dn", "-f", "segment", "-segment_format", "mp4",
            "-reset_timestamps", "1"]
    if cuts:
        args += ["-segment_frames", ",".join(str(frame) for frame in cuts)]
    code = run_quiet([*args, str(folder / "piece%05d.mp4")], timeout=MUX_TIMEOUT, log_path=work / "store.log")
    if code != 0:
        logger.warning("segments of a single-graph render could not be cut: %s",
                       (work / "store.log").read_text(errors="replace")[-2000:])
        return 0
    bounds = [0, *cuts, plan.frames]
    by_start = {s.start: s for s in segments}
    stored = 0
    for index, (a, b) in enumerate(itertools.pairwise(bounds)):
        segment = by_start.get(a)
        path = folder / f"piece{index:05d}.mp4"
        if segment is not None and segment.end == b and path.is_file():
            segment_cache.cache_put(segment.key, path)
            stored += 1
    return stored


def segmented_why(plan: RenderPlan, requested: str, chosen: str) -> str:
    """One line for the job log: why this strategy."""
    if requested != "auto":
        return f"the {requested} path was asked for"
    if chosen == "moviepy":
        return "too many pictures for one ffmpeg graph"
    if chosen == "segmented":
        return ("segments already encoded are reused from the cache, plain cuts of matching H.264 sources are "
                "stream-copied, the rest is encoded")
    if plan.output.format != "mp4":
        return f"{plan.output.format} is encoded as one graph (segments join only as H.264)"
    if plan.frames < 2 * settings.RENDER_SEGMENT_SECONDS * plan.output.fps:
        return "shorter than two segments: one graph does it without a separate sound pass and join"
    return "the segment cache and smart render are switched off"


# --- where a plan may be cut ---

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


# --- cache keys ---

_HASHES: dict[tuple[str, int, int], str] = {}


def content_hash(path: str | Path) -> str:
    """sha256 of a file's bytes, remembered per (path, size, mtime) within the process."""
    stat = os.stat(path)
    memo = (str(path), stat.st_size, stat.st_mtime_ns)
    if memo not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
        _HASHES[memo] = digest.hexdigest()
    return _HASHES[memo]


def segment_key(sub: RenderPlan, encoder: list[str], known: dict[str, str] | None = None) -> str:
    """The cache key of a slice: what changes its encoded bytes, and nothing else."""
    known = known or {}
    output = asdict(sub.output)
    output.pop("threads", None)  # any thread count gives a valid encoding of the same pictures
    layers = []
    for layer in sub.layers:
        data = asdict(layer)
        if layer.steps and len(layer.steps) > 1:
            data["path"] = "series"  # its playlist names scratch files: the pictures' bytes are what matter
        else:
            data["path"] = known.get(layer.path) or content_hash(layer.path)
        if layer.steps:
            data["steps"] = [[content_hash(png), first, end] for png, first, end in layer.steps]
        layers.append(data)
    from jobs.render import segments  # RENDERER_VERSION lives on the package; read it at each call

    document = {"renderer": segments.RENDERER_VERSION, "output": output, "frames": sub.frames, "layers": layers,
                "encoder": encoder}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


# --- encoding ---

def video_encoder_args(plan: RenderPlan, x264_params: str = "") -> list[str]:
    o = plan.output
    args = ["-c:v", "libx264", "-preset", o.x264_preset, "-crf", str(o.crf), "-pix_fmt", "yuv420p"]
    if x264_params:
        args += ["-x264-params", x264_params]
    return args


def run_ffmpeg(args: list[str], log_path: Path, monitor: RenderMonitor, on_frame=None) -> None:
    """Run one ffmpeg with `-progress pipe:1`, calling `on_frame(n)`, checking cancel and the deadline."""
    child = ChildProcess(args, log_path=log_path, cwd=log_path.parent)
    try:
        while not child.eof:
            for line in child.read_lines(READ_TIMEOUT):
                key, _, value = line.partition("=")
                if key == "frame" and value.strip().isdigit() and on_frame is not None:
                    on_frame(int(value))
            monitor.check()
        code = child.wait(timeout=30)
    finally:
        child.stop()
    if code != 0:
        raise RenderFailed("The encoder failed while rendering a segment.")


def segment_encode(sub: RenderPlan, out_path: Path, work: Path, monitor: RenderMonitor, encoder: list[str],
                   on_frame=None, name: str = "segment", threads: int | None = None) -> None:
    """Encode a slice (video only) to an MP4 with the single-graph filters, x264 on `threads` threads (the
    plan's RENDER_THREADS by default; not part of the cache key: any count encodes the same pictures)."""
    graph = FilterGraph(sub)
    fmt = format_get("mp4")
    video = graph.build_video(fmt)
    graph_path = work / f"{name}.graph.txt"
    graph_path.write_text(";\n".join(graph.chains))
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
            "-progress", "pipe:1", "-stats_period", "0.2"]
    for item in graph.inputs:
        args += item
    threads = sub.output.threads if threads is None else threads
    args += ["-/filter_complex", str(graph_path), "-map", f"[{video}]", "-an", *encoder, "-threads", str(threads),
             "-frames:v", str(sub.frames), "-f", "mp4", str(out_path)]
    try:
        run_ffmpeg(args, work / f"{name}.log", monitor, on_frame)
    except RenderFailed:
        log = (work / f"{name}.log").read_text(errors="replace")[-4000:]
        logger.error("segment encode failed: %s", log)
        raise _failure(graph, log) from None


def audio_encode(plan: RenderPlan, out_path: Path, work: Path, monitor: RenderMonitor) -> None:
    """The whole timeline's sound mix as one AAC stream (an .m4a)."""
    graph = FilterGraph(plan)
    audio = graph.build_audio()
    graph_path = work / "audio.graph.txt"
    graph_path.write_text(";\n".join(graph.chains))
    o = plan.output
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-y",
            "-progress", "pipe:1"]
    for item in graph.inputs:
        args += item
    args += ["-/filter_complex", str(graph_path), "-map", f"[{audio}]", "-c:a", "aac", "-b:a", o.audio_bitrate,
             "-f", "mp4", str(out_path)]
    try:
        run_ffmpeg(args, work / "audio.log", monitor)
    except RenderFailed:
        log = (work / "audio.log").read_text(errors="replace")[-4000:]
        logger.error("audio mix failed: %s", log)
        raise _failure(graph, log) from None


def segments_join(files: list[Path], audio: Path | None, out_path: Path, work: Path, fps_expr: str) -> None:
    """Join encoded pieces by stream copy (concat demuxer) and mux the sound beside them."""
    listing = work / "join.txt"
    listing.write_text("".join(f"file '{path.resolve()}'\n" for path in files))
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "concat", "-safe", "0", "-i", str(listing)]
    if audio is not None:
        args += ["-i", str(audio), "-map", "0:v", "-map", "1:a"]
    else:
        args += ["-map", "0:v"]
    args += ["-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(out_path)]
    code = run_quiet(args, timeout=MUX_TIMEOUT, log_path=work / "join.log")
    if code != 0 or not out_path.is_file():
        logger.error("segment join failed: %s", (work / "join.log").read_text(errors="replace")[-2000:])
        raise RenderFailed("The rendered segments could not be joined.")


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


def _fan_out(plan: RenderPlan, segments: list[Segment], encoder: list[str]):
    """jobs.services.parts when this render fans its uncached segments out to other workers, else None."""
    global fan_parent
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
    fan_parent = parent
    try:
        parts.parts_enqueue(parent, [{"index": i, "key": s.key, "plan": s.plan.to_json(), "encoder": encoder,
                                      "frames": s.frames} for i, s in todo[1:]])
    except Exception:
        # Redis refused: this worker renders every segment itself (any part that did get queued finds the
        # stop flag, or its segment cached, and returns).
        logger.warning("job %s: could not fan out its segments; rendering them here", parent, exc_info=True)
        return None
    return parts


fan_parent = ""


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
    fan = _fan_out(plan, segments, encoder)
    if not fan:
        fanned = set()
    owner = f"parent:{os.getpid()}"
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
