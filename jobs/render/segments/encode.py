"""Encoding a slice (video only) with the single-graph filters, and the whole timeline's sound mix."""

from __future__ import annotations

import logging
from pathlib import Path

from config.tools import ffmpeg_exe
from jobs.render.errors import RenderFailed
from jobs.render.ffmpeg_graph import READ_TIMEOUT, FilterGraph, _failure
from jobs.render.formats import format_get
from jobs.render.plan import RenderPlan
from jobs.render.procs import ChildProcess
from jobs.render.progress import RenderMonitor

logger = logging.getLogger(__name__)


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
