"""Benchmark the editor's exact still (`GET /api/projects/{id}/still`): one frame of a 720p timeline.

    python manage.py bench_still [--runs 5] [--width 1280] [--workdir DIR] [--keep]

Generates its media (two 10 s 1280×720 30 fps H.264 clips with 250-frame GOPs, as the sample media have) and
a 1280×720 timeline with what the editor asks stills of: a 0.5 s crossfade at 5 s, a keyframed picture-in-picture,
a styled title, an animated title moved by a transform, and burned-in captions. It then times
`jobs.render.still.still_render` (what the endpoint calls, less the HTTP and the input fetch) at several times,
`--runs` times each after one warm-up (the first still in a process also imports moviepy, about 0.5 s; that is
printed on its own). Each line: the time, best and median seconds. Last line:

    still_first_s=<first call> still_best_s=<worst of the per-time bests> still_median_s=<worst median>

Needs no database. Prints the load average beside the figures: the machine is shared.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand

from jobs.render import AssetSource
from jobs.render.still import still_render
from projects.sample_media import make_video

TIMES = (0.5, 2.2, 4.9, 5.2, 8.7)


def still_timeline() -> dict:
    box = {"size": 56, "color": "#ffffff", "background": {"color": "#203040", "opacity": 0.8, "padding": 16,
                                                         "radius": 12}}
    return {
        "schema": 2,
        "output": {"width": 1280, "height": 720, "fps": 30, "background": "#000000"},
        "tracks": [
            {"id": "v1", "kind": "video", "clips": [
                {"id": "a", "asset_id": "A", "start": 0.0, "in": 0.0, "out": 5.5},
                {"id": "b", "asset_id": "B", "start": 5.0, "in": 1.0, "out": 6.0,
                 "transition": {"type": "crossfade", "duration": 0.5}}]},
            {"id": "v2", "kind": "video", "clips": [
                {"id": "p", "asset_id": "B", "start": 1.0, "in": 2.0, "out": 8.0, "transform": {"scale": 0.3},
                 "keyframes": {"x": [{"t": 0, "v": 0.2}, {"t": 6, "v": 0.8, "ease": "ease_in_out"}],
                               "y": [{"t": 0, "v": 0.25}]}}]},
            {"id": "t1", "kind": "text", "clips": [
                {"id": "x", "text": "Exact still – 안녕", "start": 0.0, "duration": 4.0, "style": box},
                {"id": "y", "text": "Animated", "start": 4.0, "duration": 6.0,
                 "style": {**box, "animation": {"in": "pop", "out": "fade", "duration": 0.8}},
                 "transform": {"x": 0.75, "y": 0.2, "rotation": 5}}]},
            {"id": "cc", "kind": "captions", "cues": [
                {"start": 0.0, "end": 5.0, "text": "Captions are burned in as well"},
                {"start": 5.0, "end": 10.0, "text": "자막도 그대로 보입니다"}]},
        ],
        "markers": [],
        "view": {},
    }


class Command(BaseCommand):
    help = "Time the editor's exact still (one 720p frame) at several times of a generated timeline."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument("--width", type=int, default=1280, help="the still's width (default 1280: 720p)")
        parser.add_argument("--workdir", type=Path, default=None, help="where the media go (default: temp)")
        parser.add_argument("--keep", action="store_true", help="keep the work directory")

    def handle(self, *args, runs: int, width: int, workdir: Path | None, keep: bool, **options):
        work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="bench-still-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            assets = {}
            for name, pattern in (("A", "testsrc2"), ("B", "testsrc")):
                path = work / f"{name}.mp4"
                if not path.exists():
                    make_video(path, seconds=10.0, width=1280, height=720, fps=30, source=pattern, tone_hz=440,
                               crf=23, preset="veryfast", gop=250)
                assets[name] = AssetSource(asset_id=name, path=path, kind="video", duration=10.0, width=1280,
                                           height=720, fps=30.0, has_audio=True, name=path.name)
            document = still_timeline()
            self.say(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
                     f"({os.cpu_count()} CPUs)")
            started = time.perf_counter()
            still_render(document, assets, at=TIMES[0], width=width)
            first = time.perf_counter() - started
            self.say(f"first still in this process (imports moviepy): {first:.3f} s")
            bests, medians = [], []
            for at in TIMES:
                took = []
                for _ in range(runs):
                    started = time.perf_counter()
                    jpeg = still_render(document, assets, at=at, width=width)
                    took.append(time.perf_counter() - started)
                bests.append(min(took))
                medians.append(statistics.median(took))
                self.say(f"t={at:4.1f} s  best {min(took):.3f} s  median {statistics.median(took):.3f} s  "
                         f"({len(jpeg) // 1024} KiB JPEG, {width} px wide)")
            self.say(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            self.say(f"still_first_s={first:.3f} still_best_s={max(bests):.3f} still_median_s={max(medians):.3f}")
        finally:
            if not keep and not workdir:
                shutil.rmtree(work, ignore_errors=True)

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
