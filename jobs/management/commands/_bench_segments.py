"""bench_render's smart render and segment cache lines, each a ratio measured side by side.

- `cuts_vs_reencode=`: a cuts-only edit (four 15 s cuts of three x264 1080p sources with 1 s GOPs, cut
  points off the keyframes) by the automatic path (smart render) over the single-graph full re-encode.
- `rerender_vs_first=`: an edit with crossfades and three titles rendered from a cold cache, then again
  after changing one title's text; segment cache alone (smart render off, so the first render encodes
  every frame).

Both clear the segment cache before every render that must start cold (bench_render's own cache: the
command runs them inside `bench_segment_cache`), check that the outputs agree (frame count, average PSNR)
and print CPU time beside wall time.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError
from django.test import override_settings

from config.tools import ffmpeg_exe
from jobs.render import AssetSource, render_timeline, segment_cache
from jobs.render.procs import process_info
from jobs.render.quality import average_psnr, probe

SOURCES = (("A", "testsrc2", 440), ("B", "testsrc", 550), ("C", "rgbtestsrc", 660))
CLIP_SECONDS = 15.0  # of a 60 s edit; scaled by --edit-seconds
INS = {"A": 2.3, "B": 1.1, "C": 3.7}


@contextmanager
def bench_segment_cache() -> Iterator[str]:
    """A segment cache of the bench's own for the block (yields its namespace), emptied and removed at the end.

    The bench empties the cache before every render that must start cold; in the deployment's cache that
    would throw away every worker's encoded segments (the files and the LRU index) along with its own.
    """
    name = f"bench-{uuid.uuid4().hex[:16]}"
    with segment_cache.cache_namespace(name):
        try:
            yield name
        finally:
            bench_cache_clear()


def bench_cache_clear() -> None:
    """Empty the bench's segment cache: only inside `bench_segment_cache`, never the deployment's."""
    if not segment_cache.cache_namespace_current():
        raise RuntimeError("the bench clears only its own segment cache: run it inside bench_segment_cache()")
    segment_cache.cache_clear()


def _cpu() -> float:
    import resource

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def sources(work: Path, width: int, height: int, clip: float) -> dict[str, AssetSource]:
    seconds = clip + 5.0
    assets = {}
    for name, pattern, tone in SOURCES:
        path = work / f"seg-{name}-{width}x{height}-{seconds:g}.mp4"
        if not path.exists():
            # veryfast crf 23 with a 1 s GOP: what a phone or a screen recorder hands over, more or less.
            partial = path.with_name(f"partial-{path.name}")
            subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                            f"{pattern}=size={width}x{height}:rate=30:duration={seconds}", "-f", "lavfi", "-i",
                            f"sine=frequency={tone}:sample_rate=48000:duration={seconds}", "-c:v", "libx264",
                            "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-g", "30", "-c:a", "aac",
                            "-b:a", "128k", "-movflags", "+faststart", "-shortest", str(partial)],
                           check=True, timeout=3600)
            partial.rename(path)
        assets[name] = AssetSource(asset_id=name, path=path, kind="video", duration=seconds, width=width,
                                   height=height, fps=30.0, has_audio=True, name=path.name)
    return assets


def _document(width: int, height: int, clip: float, *, crossfade: float = 0.0, titles: list[str] | None = None):
    order = ["A", "B", "C", "A"]
    clips, start = [], 0.0
    for index, name in enumerate(order):
        source_in = INS[name] if index < 3 else 0.5
        item = {"id": f"c{index + 1}", "asset_id": name, "start": round(start, 6), "in": source_in,
                "out": source_in + clip}
        if index and crossfade:
            item["transition"] = {"type": "crossfade", "duration": crossfade}
        clips.append(item)
        start += clip - (crossfade if index < len(order) - 1 else 0.0)
    tracks = [{"id": "v1", "kind": "video", "clips": clips}]
    if titles:
        size = round(60 * height / 1080)
        step = start / len(titles)
        tracks.append({"id": "t1", "kind": "text", "clips": [
            {"id": f"x{i}", "text": text, "start": round(i * step + step / 4, 3), "duration": round(step / 4, 3),
             "style": {"size": size, "color": "#ffffff", "position": "center"}} for i, text in enumerate(titles)]})
    return {"schema": 1, "output": {"width": width, "height": height, "fps": 30, "background": "#000000"},
            "tracks": tracks, "markers": [], "view": {"current_time": 0.0, "zoom": 1.0}}


def _timed(document, assets, out: Path, path: str) -> tuple[float, float, str]:
    messages: list[str] = []
    cpu, started = _cpu(), time.perf_counter()
    result = render_timeline(document, assets, "project", out, path=path,
                             on_progress=lambda p: messages.append(p.message))
    summary = next((m for m in messages if "segments:" in m), result.render_path)
    return time.perf_counter() - started, _cpu() - cpu, summary


def _agree(a: Path, b: Path) -> float:
    fa, fb = probe(a), probe(b)
    if fa.frames != fb.frames:
        raise CommandError(f"{a.name} has {fa.frames} frames, {b.name} {fb.frames}")
    return average_psnr(a, b)


def bench_cuts(say, work: Path, runs: int, width: int, height: int, clip: float) -> float:
    assets = sources(work, width, height, clip)
    document = _document(width, height, clip)
    say(f"cuts-only edit: 4 cuts of {clip:g} s at {width}x{height}; load average {_load()}")
    ratios = []
    for run in range(runs):
        figures = {}
        for name, path in ((("smart", "auto"), ("reencode", "ffmpeg")) if run % 2 == 0
                           else (("reencode", "ffmpeg"), ("smart", "auto"))):
            bench_cache_clear()
            out = work / f"cuts-{name}.mp4"
            figures[name] = (*_timed(document, assets, out, path), out)
            say(f"run {run + 1} {name:8s} {figures[name][0]:6.2f} s  cpu {figures[name][1]:6.2f} s  "
                f"({figures[name][2]})")
        value = _agree(figures["smart"][3], figures["reencode"][3])
        ratios.append(figures["smart"][0] / figures["reencode"][0])
        say(f"run {run + 1} smart vs re-encode: PSNR {value:.2f} dB, ratio {ratios[-1]:.3f}")
    bench_cache_clear()
    return statistics.median(ratios)


def bench_rerender(say, work: Path, runs: int, width: int, height: int, clip: float) -> float:
    assets = sources(work, width, height, clip)
    before = _document(width, height, clip, crossfade=0.5, titles=["One", "Two", "Three"])
    after = _document(width, height, clip, crossfade=0.5, titles=["One", "Two, changed", "Three"])
    say(f"re-render edit: 4 clips of {clip:g} s, crossfades, 3 titles at {width}x{height}; load average {_load()}")
    ratios = []
    with override_settings(RENDER_SMART=False):
        for run in range(runs):
            bench_cache_clear()
            first = _timed(before, assets, work / "first.mp4", "auto")
            second = _timed(after, assets, work / "second.mp4", "auto")
            say(f"run {run + 1} first  {first[0]:6.2f} s  cpu {first[1]:6.2f} s  ({first[2]})")
            say(f"run {run + 1} second {second[0]:6.2f} s  cpu {second[1]:6.2f} s  ({second[2]})")
            ratios.append(second[0] / first[0])
        reference = work / "second-ref.mp4"
        render_timeline(after, assets, "project", reference, path="ffmpeg")
        say(f"re-render vs single graph of the changed edit: PSNR {_agree(work / 'second.mp4', reference):.2f} dB")
    bench_cache_clear()
    return statistics.median(ratios)


def _tree_cpu(pid: int) -> float:
    """utime + stime of a process and its reaped children (the work horses and their encoders), seconds."""
    info = process_info(pid)
    return 0.0 if info is None else info.cpu_seconds + info.children_cpu_seconds


def bench_parallel(say, work: Path, runs: int, width: int, height: int, clip: float,
                   counts: tuple[int, ...] = (1, 2)) -> dict[int, tuple[float, float]]:
    """The re-render edit from a cold cache by 1, 2, ... workers: this process (the job's own worker) plus N-1
    `rqworker render` processes taking its parts. One worker encodes with RENDER_THREADS (2) x264 threads;
    N ≥ 2 workers with RENDER_PART_THREADS (1) each, so every curve point asks for about the same cores.

    Returns {workers: (median wall s, median CPU s of every process)}.
    """
    import signal
    import sys
    import uuid

    from jobs.services import parts

    assets = sources(work, width, height, clip)
    document = _document(width, height, clip, crossfade=0.5, titles=["One", "Two", "Three"])
    figures: dict[int, tuple[float, float]] = {}
    for count in counts:
        helpers = [subprocess.Popen([sys.executable, "manage.py", "rqworker", "render"], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                    env={**os.environ, "RENDER_PART_THREADS": "1"})
                   for _ in range(count - 1)]
        try:
            time.sleep(3.0 if helpers else 0.0)  # workers register with Redis
            walls, cpus = [], []
            for _ in range(runs):
                bench_cache_clear()
                before = _cpu() + sum(_tree_cpu(p.pid) for p in helpers)
                started = time.perf_counter()
                with override_settings(RENDER_SMART=False, RENDER_PARTS=count > 1, RENDER_PARTS_MIN_SECONDS=0.0,
                                       RENDER_THREADS=2, RENDER_PART_THREADS=1), \
                        parts.parts_for(uuid.uuid4().hex, job_row=False):
                    summary = _timed(document, assets, work / f"parallel{count}.mp4", "segmented")[2]
                walls.append(time.perf_counter() - started)
                cpus.append(_cpu() + sum(_tree_cpu(p.pid) for p in helpers) - before)
                say(f"{count} worker(s): {walls[-1]:6.2f} s  cpu {cpus[-1]:6.2f} s  ({summary})")
            figures[count] = (statistics.median(walls), statistics.median(cpus))
        finally:
            for proc in helpers:
                os.killpg(proc.pid, signal.SIGTERM)
            for proc in helpers:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    bench_cache_clear()
    return figures
