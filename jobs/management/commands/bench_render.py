"""Benchmark the renderer against a hand-written ffmpeg command doing the same edit.

    python manage.py bench_render [--runs 3] [--size 1280x720] [--seconds 10] [--workdir DIR] [--keep]

It generates the reference media itself (three 10 s 1280×720 30 fps H.264 clips with an AAC tone each),
builds the reference edit (A 1.0–7.0 s, B 2.0–8.0 s, C 0.0–6.0 s, 0.5 s crossfades, a centred title
over the first 3 s; x264 veryfast crf 23 + AAC 128k at the media's size), and renders it by three
means in rotating order, `--runs` times: the hand-written ffmpeg command, Cutline's automatic path and
Cutline's moviepy compositor. Each run line shows wall time, CPU time (the process tree's user +
system; the steadier figure on a busy machine) and peak memory of the whole process tree (RSS and PSS
summed over this process and its descendants, from /proc). It checks that the outputs agree (duration within
a frame, average PSNR) and prints last:

    render_vs_ffmpeg=<median ratio> moviepy_vs_ffmpeg=<median ratio> cutline_s=<median> ffmpeg_s=<median> psnr_db=<min>

A fourth mean, "graph", is Cutline's single graph alone (`path="ffmpeg"`: no choice of path, no keyframes
forced at segment cuts, no segment cache filling); before the peers line comes

    render_cpu_vs_ffmpeg=<median CPU ratio> moviepy_cpu_vs_ffmpeg=... graph_vs_ffmpeg=<wall> auto_vs_graph=<wall>
    auto_cpu_vs_graph=<CPU>

(auto_vs_graph: what "auto" adds to a first render).

With MLT's `melt` installed (`make bench-deps`, Debian's melt package) a fourth mean renders the same edit
as MLT XML (the engine behind Kdenlive and Shotcut: luma + mix transitions over two alternating tracks, the
title composited by affine; see `melt_document`), and the line before the summary is

    peers=melt:<median wall ratio vs ffmpeg> melt_cpu=<median CPU ratio> melt_s=<median> melt_psnr_db=<min>

(`peers=melt:unavailable (make bench-deps)` without it). melt cuts on whole frames, so where 0.5 s crossfades
are not whole frames at the scaled edit (`--seconds 3`) its output is a frame longer: a warning, not an error.

Then the schema 2 reference edit (`--v2`, on by default): clip A at speed 0.5 (sound kept in pitch), a
wipe_left to clip B, which has a keyframed Ken Burns (scale 1 → 1.2), clip C as a picture-in-picture at the
top right (transform), and a lower-third colour bar (crop + position), beside a hand-written ffmpeg
command doing the same work (setpts/atempo, scale eval=frame + crop, xfade wipeleft, color + overlay);
then a 48-clip timeline rendered by the automatic path with the peak memory of the process tree. Last line:

    v2_vs_ffmpeg=<median ratio> v2_moviepy_vs_ffmpeg=<median ratio> clips48_peak_mib=<peak RSS of the tree>

`--clips500` adds, before that line, a 500-clip timeline (2-frame clips, back to back) rendered by the automatic
path with its peak tree memory (the target is 500 clips at 1080p inside 1 GiB: use `--size 1920x1080`).

Needs no database. `--size 1920x1080` measures a 1080p render (media and output at 1080p).

Smart render and the segment cache (_bench_segments.py): `--only cuts` prints `cuts_vs_reencode=` (a 60 s
cuts-only edit of 1080p x264 sources, smart render over the single-graph re-encode), `--only rerender` prints
`rerender_vs_first=` (the same clips with crossfades and three titles, one title changed, segment cache only),
`--only parallel --workers 1,2,4` prints `parallel<N>_vs_serial=` and `cpu<N>_vs_serial=` (that edit from a
cold cache by this process plus N-1 `rqworker render` processes on the same Redis; never point it at a Redis
that serves real jobs). `--edit-seconds 12 --segments-size 640x360` makes any of them quick. Without `--only`
(or with `--only reference`) only the reference lines above run; `--only all` runs everything.

Every automatic render here starts from an empty segment cache: the bench's own (`bench_segment_cache`, its own
storage folder and Redis index), so that emptying it between runs leaves the deployment's cache alone; it is
removed when the bench ends.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from xml.sax.saxutils import escape

from django.core.management.base import BaseCommand, CommandError
from PIL import Image

from config.tools import ffmpeg_exe
from jobs.management.commands._bench_segments import bench_cache_clear, bench_segment_cache
from jobs.render import AssetSource, render_timeline, smart
from jobs.render.procs import descendants
from jobs.render.quality import average_psnr, probe
from jobs.render.segments import content_hash
from jobs.render.text import text_render
from projects.sample_media import make_video

SOURCES = (("A", "testsrc2", 440), ("B", "testsrc", 550), ("C", "rgbtestsrc", 660))
TITLE = "Cutline benchmark"
TITLE_SIZE_720P = 72


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (every render reaps its processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class TreeMemory:
    """Peak memory of this process and all its descendants, sampled every 25 ms.

    Two sums: RSS (the figure the memory targets are stated in; a page shared by several processes counts once
    for each of them, e.g. a freshly forked child still sharing all of its parent's memory until it execs) and PSS
    (shared pages split between their sharers, so the sum is what the tree really occupies).
    """

    def __init__(self) -> None:
        self.peak_rss = 0
        self.peak_pss = 0
        self.start_rss = 0  # this process alone when sampling began (a test process carries its own history)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def _usage(pid: int) -> tuple[int, int]:
        rss = pss = 0
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Rss:"):
                        rss = int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss = int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            pass
        return rss, pss

    def _sample(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            usages = [self._usage(pid) for pid in [me, *descendants(me)]]
            self.peak_rss = max(self.peak_rss, sum(u[0] for u in usages))
            self.peak_pss = max(self.peak_pss, sum(u[1] for u in usages))
            self._stop.wait(0.025)

    def __enter__(self) -> TreeMemory:
        self.start_rss = self._usage(os.getpid())[0]
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class Command(BaseCommand):
    help = "Time Cutline's render paths against a hand-written ffmpeg command on the reference edit."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--size", default="1280x720", help="media and output size, WxH (default 1280x720)")
        parser.add_argument("--seconds", type=float, default=10.0,
                            help="length of each generated clip; the edit scales with it (default 10)")
        parser.add_argument("--workdir", type=Path, default=None, help="where media and outputs go (default: temp)")
        parser.add_argument("--keep", action="store_true", help="keep the work directory")
        parser.add_argument("--no-v1", action="store_true", help="skip the schema 1 reference edit")
        parser.add_argument("--clips500", action="store_true",
                            help="also render a 500-clip timeline (2-frame clips) and report its peak memory")
        # --- smart render and segment cache lines (_bench_segments.py) ---
        parser.add_argument("--only", choices=("all", "reference", "cuts", "rerender", "parallel"),
                            default="reference",
                            help="what to run: the reference edits (default), cuts_vs_reencode, rerender_vs_first, "
                                 "parallel2_vs_serial, or all of them")
        parser.add_argument("--workers", default="1,2",
                            help="worker counts for the parallel curve (default 1,2; the first is the baseline)")
        parser.add_argument("--edit-seconds", type=float, default=60.0,
                            help="length of the cuts and re-render edits (default 60)")
        parser.add_argument("--segments-size", default="1920x1080", help="their media size (default 1920x1080)")

    def handle(self, *args, runs: int, size: str, seconds: float, workdir: Path | None, keep: bool, no_v1: bool,
               only: str = "reference", edit_seconds: float = 60.0, segments_size: str = "1920x1080",
               workers: str = "1,2", clips500: bool = False, **options):
        try:
            width, height = (int(part) for part in size.lower().split("x"))
        except ValueError:
            raise CommandError("--size must look like 1280x720") from None
        if runs < 1 or seconds <= 0:
            raise CommandError("--runs and --seconds must be positive")
        own_dir = workdir is None
        work = Path(tempfile.mkdtemp(prefix="cutline-bench-")) if own_dir else workdir
        work.mkdir(parents=True, exist_ok=True)
        try:
            with bench_segment_cache():
                if only in ("all", "reference"):
                    if not no_v1:
                        self.bench(work, runs, width, height, seconds)
                    media, assets = self.media(work, width, height, seconds)
                    v2 = self.bench_v2(work, runs, width, height, seconds, media, assets)
                    peak = self.clips48(work, width, height, seconds, assets)
                    if clips500:
                        self.clips_many(work, width, height, assets, count=500, frames=2)
                    self.say(f"v2_vs_ffmpeg={v2['auto']:.3f} v2_moviepy_vs_ffmpeg={v2['moviepy']:.3f} "
                             f"clips48_peak_mib={peak / 2**20:.0f}")
                if only in ("all", "cuts", "rerender", "parallel"):
                    self.bench_segments(work, runs, only, edit_seconds, segments_size, workers)
        finally:
            if own_dir and not keep:
                shutil.rmtree(work, ignore_errors=True)

    def bench_segments(self, work: Path, runs: int, only: str, edit_seconds: float, segments_size: str,
                       workers: str = "1,2") -> None:
        from jobs.management.commands import _bench_segments as seg

        try:
            width, height = (int(part) for part in segments_size.lower().split("x"))
        except ValueError:
            raise CommandError("--segments-size must look like 1920x1080") from None
        clip = edit_seconds / 4
        if only in ("all", "cuts"):
            ratio = seg.bench_cuts(self.say, work, runs, width, height, clip)
            self.say(f"cuts_vs_reencode={ratio:.3f} load_average={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if only in ("all", "rerender"):
            ratio = seg.bench_rerender(self.say, work, runs, width, height, clip)
            self.say(f"rerender_vs_first={ratio:.3f} load_average={' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        if only in ("all", "parallel"):
            counts = tuple(int(n) for n in workers.split(","))
            curve = seg.bench_parallel(self.say, work, runs, width, height, clip, counts)
            base_wall, base_cpu = curve[counts[0]]
            self.say(" ".join(f"parallel{n}_vs_serial={wall / base_wall:.3f} cpu{n}_vs_serial={cpu / base_cpu:.3f}"
                              for n, (wall, cpu) in curve.items() if n != counts[0])
                     + f" serial_s={base_wall:.2f} serial_cpu_s={base_cpu:.2f}"
                     + f" load_average={' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    @staticmethod
    def media(work: Path, width: int, height: int, seconds: float) -> tuple[dict[str, Path], dict[str, AssetSource]]:
        media = {}
        for name, pattern, tone in SOURCES:
            path = work / f"{name}.mp4"
            if not path.exists():
                make_video(path, seconds=seconds, width=width, height=height, fps=30, source=pattern,
                           tone_hz=tone, crf=23, preset="veryfast")
            media[name] = path
        # The content hashes an uploaded asset carries (the segment cache keys name files by them).
        assets = {
            name: AssetSource(asset_id=name, path=path, kind="video", duration=seconds, width=width, height=height,
                              fps=30.0, has_audio=True, name=f"{name}.mp4", sha256=content_hash(path))
            for name, path in media.items()
        }
        return media, assets

    def bench(self, work: Path, runs: int, width: int, height: int, seconds: float) -> None:
        self.say(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)")
        scale = seconds / 10.0
        media, assets = self.media(work, width, height, seconds)
        cut = {"A": (1.0, 7.0), "B": (2.0, 8.0), "C": (0.0, 6.0)}
        fade, title_len = 0.5 * scale, 3.0 * scale
        clips, start = [], 0.0
        for index, name in enumerate("ABC"):
            source_in, source_out = cut[name][0] * scale, cut[name][1] * scale
            clip = {"id": f"c{index + 1}", "asset_id": name, "start": round(start, 6), "in": source_in,
                    "out": source_out, "volume": 1.0, "fit": "contain", "transition": None}
            if index:
                clip["transition"] = {"type": "crossfade", "duration": fade}
            clips.append(clip)
            start += source_out - source_in - fade
        title_size = round(TITLE_SIZE_720P * height / 720)
        timeline = {
            "schema": 1,
            "output": {"width": width, "height": height, "fps": 30, "background": "#000000"},
            "tracks": [
                {"id": "v1", "kind": "video", "muted": False, "clips": clips},
                {"id": "t1", "kind": "text", "clips": [{"id": "x1", "text": TITLE, "start": 0.0,
                                                          "duration": title_len,
                                                          "style": {"size": title_size, "color": "#ffffff",
                                                                    "position": "center"}}]},
            ],
            "markers": [],
            "view": {"current_time": 0.0, "zoom": 1.0},
        }
        # The hand-written command overlays the same Pillow-drawn title image (drawtext would differ).
        title_png = work / "title.png"
        box = text_render(TITLE, timeline["tracks"][1]["clips"][0]["style"], frame_size=(width, height), scale=1.0,
                          path=title_png)
        hand = self.hand_command(media, cut, scale, fade, title_len, title_png, box.x, box.y)

        def run_hand(out: Path) -> None:
            subprocess.run([*hand, str(out)], check=True, timeout=600, stdin=subprocess.DEVNULL)

        def run_cutline(path: str, out: Path) -> None:
            bench_cache_clear()  # a first render every time, never a cache hit
            smart._PROBED.clear()  # and, like a job in a fresh work horse, no source probed before
            render_timeline(timeline, assets, "project", out, path=path)

        # "graph" is the single graph alone (path ffmpeg): no choice between paths, no keyframes forced at
        # segment cuts, nothing stored in the segment cache. auto_vs_graph is what "auto" adds to a first render.
        means = {"ffmpeg": run_hand, "auto": lambda out: run_cutline("auto", out),
                 "graph": lambda out: run_cutline("ffmpeg", out),
                 "moviepy": lambda out: run_cutline("moviepy", out)}
        melt = shutil.which("melt")
        if melt:
            title_frame = work / "title-frame.png"
            with Image.open(title_png) as image:
                frame = Image.new("RGBA", (width, height), (0, 0, 0, 0))
                frame.paste(image.convert("RGBA"), (box.x, box.y))
                frame.save(title_frame)
            mlt = work / "reference.mlt"
            mlt.write_text(self.melt_document(media, cut, scale, fade, title_len, title_frame, width, height))

            def run_melt(out: Path) -> None:
                done = subprocess.run([melt, "-quiet", str(mlt), *self.melt_consumer(out)], timeout=600,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                if done.returncode or not out.exists():
                    tail = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
                    raise CommandError(f"melt failed (exit {done.returncode}): {' | '.join(tail)}")

            means["melt"] = run_melt
        times: dict[str, list[float]] = {name: [] for name in means}
        cpus: dict[str, list[float]] = {name: [] for name in means}
        peaks: dict[str, tuple[int, int]] = {name: (0, 0) for name in means}
        psnrs: list[float] = []
        melt_psnrs: list[float] = []
        order = list(means)
        for run in range(runs):
            outputs = {}
            shift = run % len(order)
            for name in order[shift:] + order[:shift]:  # rotate who goes first
                out = work / f"run{run}-{name}.mp4"
                with TreeMemory() as memory:
                    cpu_before = _cpu_seconds()
                    started = time.perf_counter()
                    means[name](out)
                    elapsed = time.perf_counter() - started
                    cpu = _cpu_seconds() - cpu_before
                times[name].append(elapsed)
                cpus[name].append(cpu)
                peaks[name] = (max(peaks[name][0], memory.peak_rss), max(peaks[name][1], memory.peak_pss))
                outputs[name] = out
                self.say(f"run {run + 1} {name:8s} {elapsed:6.2f} s  cpu {cpu:6.2f} s  peak tree "
                         f"RSS {memory.peak_rss / 2**20:5.0f} MiB, PSS {memory.peak_pss / 2**20:5.0f} MiB")
            reference = probe(outputs["ffmpeg"])
            for name in ("auto", "graph", "moviepy"):
                facts = probe(outputs[name])
                if abs(facts.duration - reference.duration) > 1 / 30 + 1e-6 or facts.frames != reference.frames:
                    raise CommandError(f"{name}: {facts.duration:.3f} s / {facts.frames} frames, but the ffmpeg "
                                       f"command made {reference.duration:.3f} s / {reference.frames} frames")
                value = average_psnr(outputs[name], outputs["ffmpeg"])
                psnrs.append(value)
                self.say(f"run {run + 1} {name:8s} vs ffmpeg: {facts.duration:.3f} s, {facts.frames} frames, "
                         f"PSNR {value:.2f} dB")
            if "melt" in outputs:
                melt_psnrs.append(self.check_melt(run, outputs["melt"], outputs["ffmpeg"], reference))
            for out in outputs.values():
                out.unlink(missing_ok=True)
                out.with_suffix(".jpg").unlink(missing_ok=True)

        def median_ratio(values: dict[str, list[float]], name: str, base: str = "ffmpeg") -> float:
            return statistics.median(a / b for a, b in zip(values[name], values[base], strict=True))

        ratio = {name: median_ratio(times, name) for name in ("auto", "moviepy")}
        self.say(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        self.say(f"render_cpu_vs_ffmpeg={median_ratio(cpus, 'auto'):.3f} "
                 f"moviepy_cpu_vs_ffmpeg={median_ratio(cpus, 'moviepy'):.3f} "
                 f"graph_vs_ffmpeg={median_ratio(times, 'graph'):.3f} "
                 f"auto_vs_graph={median_ratio(times, 'auto', 'graph'):.3f} "
                 f"auto_cpu_vs_graph={median_ratio(cpus, 'auto', 'graph'):.3f}")
        self.say("peak tree memory (RSS/PSS): "
                 + " ".join(f"{name}={peaks[name][0] / 2**20:.0f}/{peaks[name][1] / 2**20:.0f}MiB" for name in means))
        if min(psnrs) < 30:
            self.stderr.write(f"warning: outputs differ (PSNR {min(psnrs):.2f} dB < 30 dB)")
        if melt:
            ratio_of = {kind: statistics.median(m / f for m, f in zip(values["melt"], values["ffmpeg"], strict=True))
                        for kind, values in (("wall", times), ("cpu", cpus))}
            self.say(f"peers=melt:{ratio_of['wall']:.3f} melt_cpu={ratio_of['cpu']:.3f} "
                     f"melt_s={statistics.median(times['melt']):.3f} melt_psnr_db={min(melt_psnrs):.2f}")
        else:
            self.say("peers=melt:unavailable (make bench-deps)")
        self.say(
            f"render_vs_ffmpeg={ratio['auto']:.3f} moviepy_vs_ffmpeg={ratio['moviepy']:.3f} "
            f"cutline_s={statistics.median(times['auto']):.3f} ffmpeg_s={statistics.median(times['ffmpeg']):.3f} "
            f"psnr_db={min(psnrs):.2f}"
        )

    @staticmethod
    def hand_command(media: dict[str, Path], cut: dict[str, tuple[float, float]], scale: float, fade: float,
                     title_len: float, title_png: Path, title_x: int, title_y: int) -> list[str]:
        """What someone fluent in ffmpeg would write for this edit: trim, xfade, overlay, acrossfade."""
        (a_in, a_out), (b_in, b_out), (c_in, c_out) = ((s * scale, e * scale) for s, e in (cut["A"], cut["B"],
                                                                                              cut["C"]))
        first_cross = a_out - a_in - fade
        second_cross = first_cross + (b_out - b_in) - fade
        graph = ";".join([
            f"[0:v]trim={a_in}:{a_out},setpts=PTS-STARTPTS[a]",
            f"[1:v]trim={b_in}:{b_out},setpts=PTS-STARTPTS[b]",
            f"[2:v]trim={c_in}:{c_out},setpts=PTS-STARTPTS[c]",
            f"[a][b]xfade=transition=fade:duration={fade}:offset={first_cross}[ab]",
            f"[ab][c]xfade=transition=fade:duration={fade}:offset={second_cross}[abc]",
            f"[abc][3:v]overlay={title_x}:{title_y}:enable='lt(t,{title_len})'[v]",
            f"[0:a]atrim={a_in}:{a_out},asetpts=PTS-STARTPTS[x]",
            f"[1:a]atrim={b_in}:{b_out},asetpts=PTS-STARTPTS[y]",
            f"[2:a]atrim={c_in}:{c_out},asetpts=PTS-STARTPTS[z]",
            f"[x][y]acrossfade=d={fade}[xy]",
            f"[xy][z]acrossfade=d={fade}[aout]",
        ])
        return [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-i", str(media["A"]), "-i", str(media["B"]), "-i", str(media["C"]), "-i", str(title_png),
            "-filter_complex", graph, "-map", "[v]", "-map", "[aout]",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
        ]

    def check_melt(self, run: int, out: Path, ffmpeg_out: Path, reference) -> float:
        """melt's output beside the ffmpeg command's: a frame or two apart is a warning, more is an error."""
        facts = probe(out)
        if facts.frames != reference.frames or (facts.width, facts.height) != (reference.width, reference.height):
            differs = (f"melt made {facts.width}x{facts.height}, {facts.duration:.3f} s / {facts.frames} frames, "
                       f"the ffmpeg command {reference.width}x{reference.height}, {reference.duration:.3f} s / "
                       f"{reference.frames} frames")
            if (facts.width, facts.height) != (reference.width, reference.height) or facts.frames is None \
                    or reference.frames is None or abs(facts.frames - reference.frames) > 2:
                raise CommandError(f"melt: {differs}")
            self.stderr.write(f"warning: {differs}")
        value = average_psnr(out, ffmpeg_out)
        self.say(f"run {run + 1} {'melt':8s} vs ffmpeg: {facts.duration:.3f} s, {facts.frames} frames, "
                 f"PSNR {value:.2f} dB")
        return value

    @staticmethod
    def melt_document(media: dict[str, Path], cut: dict[str, tuple[float, float]], scale: float, fade: float,
                      title_len: float, title_frame_png: Path, width: int, height: int) -> str:
        """The reference edit as MLT XML, the way Kdenlive and Shotcut build dissolves.

        Two tracks that alternate (A and C below, B above), a `luma` (video) and a `mix` (audio) transition
        over each 0.5 s overlap (the second one reversed: B on the upper track fades out into C), and the
        title (the same Pillow image on a transparent full frame, so nothing is scaled) on a third track,
        composited over the picture by `affine` for the first 3 s. Frames at 30 fps. The generated media are
        BT.601 YUV without a colour tag (ffmpeg's default, which the ffmpeg command keeps as it is); MLT would
        guess BT.709 from a 720p+ height and convert, so the producers and the profile say 601.
        """
        def frames(value: float) -> int:
            return round(value * 30)

        (a_in, a_out), (b_in, b_out), (c_in, c_out) = ((frames(s * scale), frames(e * scale))
                                                       for s, e in (cut["A"], cut["B"], cut["C"]))
        a_len, b_len, c_len, overlap = a_out - a_in, b_out - b_in, c_out - c_in, frames(fade)
        first_cross = a_len - overlap
        second_cross = first_cross + b_len - overlap
        total = second_cross + c_len
        producers = "".join(
            f'<producer id="{name}">'
            f'<property name="resource">{escape(str(path))}</property>'
            f'<property name="mlt_service">avformat</property>'
            '<property name="force_colorspace">601</property></producer>'
            for name, path in media.items()
        )
        title = (f'<producer id="title" in="0" out="{frames(title_len) - 1}">'
                 f'<property name="resource">{escape(str(title_frame_png))}</property>'
                 f'<property name="mlt_service">qimage</property></producer>')

        def transition(service: str, start: int, reverse: bool, a_track: int = 0, b_track: int = 1,
                       extra: str = "") -> str:
            return (f'<transition in="{start}" out="{start + overlap - 1}">'
                    f'<property name="mlt_service">{service}</property>'
                    f'<property name="a_track">{a_track}</property><property name="b_track">{b_track}</property>'
                    f'<property name="reverse">{int(reverse)}</property>{extra}</transition>')

        mix = '<property name="start">0</property><property name="end">1</property>'
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n<mlt>'
            f'<profile width="{width}" height="{height}" frame_rate_num="30" frame_rate_den="1" progressive="1" '
            f'sample_aspect_num="1" sample_aspect_den="1" display_aspect_num="{width}" '
            f'display_aspect_den="{height}" colorspace="601"/>'
            f"{producers}{title}"
            f'<playlist id="lower"><entry producer="A" in="{a_in}" out="{a_out - 1}"/>'
            f'<blank length="{b_len - 2 * overlap}"/><entry producer="C" in="{c_in}" out="{c_out - 1}"/></playlist>'
            f'<playlist id="upper"><blank length="{first_cross}"/>'
            f'<entry producer="B" in="{b_in}" out="{b_out - 1}"/></playlist>'
            f'<playlist id="titles"><entry producer="title" in="0" out="{frames(title_len) - 1}"/></playlist>'
            f'<tractor id="edit" in="0" out="{total - 1}"><multitrack>'
            '<track producer="lower"/><track producer="upper"/><track producer="titles"/></multitrack>'
            + transition("luma", first_cross, False) + transition("mix", first_cross, False, extra=mix)
            + transition("luma", second_cross, True) + transition("mix", second_cross, True, extra=mix)
            + f'<transition in="0" out="{frames(title_len) - 1}"><property name="mlt_service">affine</property>'
            f'<property name="a_track">0</property><property name="b_track">2</property>'
            f'<property name="rect">0 0 {width} {height} 1</property>'
            '<property name="distort">0</property><property name="fill">0</property></transition>'
            "</tractor></mlt>\n"
        )

    @staticmethod
    def melt_consumer(out: Path) -> list[str]:
        """x264 veryfast crf 23 + AAC 128k like the others; real_time=-1: every frame, one render thread."""
        return ["-consumer", f"avformat:{out}", "vcodec=libx264", "preset=veryfast", "crf=23", "pix_fmt=yuv420p",
                "acodec=aac", "ab=128k", "ar=48000", "channels=2", "movflags=+faststart", "threads=0",
                "real_time=-1", "terminate_on_pause=1"]

    # --- schema 2 ------------------------------------------------------------------------------------------
    @staticmethod
    def v2_edit(width: int, height: int, scale: float) -> dict:
        a_in, a_out, b_in, b_out, wipe = 1.0 * scale, 4.0 * scale, 2.0 * scale, 6.0 * scale, 0.5 * scale
        b_start = (a_out - a_in) / 0.5 - wipe
        end = b_start + (b_out - b_in)
        return {
            "schema": 2,
            "output": {"width": width, "height": height, "fps": 30, "background": "#000000"},
            "tracks": [
                {"id": "v1", "kind": "video", "clips": [
                    {"id": "a", "asset_id": "A", "start": 0.0, "in": a_in, "out": a_out, "speed": 0.5},
                    {"id": "b", "asset_id": "B", "start": b_start, "in": b_in, "out": b_out,
                     "transition": {"type": "wipe_left", "duration": wipe},
                     "keyframes": {"scale": [{"t": 0, "v": 1.0}, {"t": b_out - b_in, "v": 1.2}]}},
                ]},
                {"id": "v2", "kind": "video", "muted": True, "clips": [
                    {"id": "p", "asset_id": "C", "start": 1.0 * scale, "in": 0.0, "out": 4.0 * scale,
                     "transform": {"x": 0.8, "y": 0.2, "scale": 0.3}},
                ]},
                {"id": "v3", "kind": "video", "clips": [
                    {"id": "bar", "color": "#202040", "start": 0.0, "duration": end,
                     "transform": {"y": 0.9, "crop": {"top": 0.8}}},
                ]},
            ],
            "markers": [], "view": {},
        }

    @staticmethod
    def v2_hand_command(media: dict[str, Path], document: dict, width: int, height: int) -> list[str]:
        """The same edit as someone fluent in ffmpeg would write it."""
        a, b = document["tracks"][0]["clips"]
        pip = document["tracks"][1]["clips"][0]
        wipe = b["transition"]["duration"]
        b_len = b["out"] - b["in"]
        pip_w, pip_h = 2 * round(width * 0.3 / 2), 2 * round(height * 0.3 / 2)
        bar_h = 2 * round(height * 0.2 / 2)
        end = b["start"] + b_len
        graph = ";".join([
            f"[0:v]trim={a['in']}:{a['out']},setpts=2*(PTS-STARTPTS),fps=30,settb=1/30[a]",
            # Ken Burns: the frame grows each frame and stays centred. Not `crop` after the per-frame scale:
            # crop clamps its position with the size the graph was configured with, so it would keep the
            # top-left corner (15.9 dB against Cutline when the reference command did that).
            f"[1:v]trim={b['in']}:{b['out']},setpts=PTS-STARTPTS,"
            f"scale=w='2*round({width}*(1+0.2*t/{b_len})/2)':h='2*round({height}*(1+0.2*t/{b_len})/2)'"
            f":eval=frame:flags=bilinear,fps=30,settb=1/30[bz]",
            f"color=c=black:s={width}x{height}:r=30:d={b_len}[bk]",
            "[bk][bz]overlay=x='(W-w)/2':y='(H-h)/2':eval=frame:shortest=1[b]",
            f"[a][b]xfade=transition=wipeleft:duration={wipe}:offset={b['start']}[ab]",
            f"[2:v]trim=0:{pip['out']},setpts=PTS-STARTPTS+{pip['start']}/TB,scale={pip_w}:{pip_h}[p]",
            f"[ab][p]overlay=x={round(0.8 * width - pip_w / 2)}:y={round(0.2 * height - pip_h / 2)}"
            ":eof_action=pass[abp]",
            f"color=c=0x202040:s={width}x{bar_h}:r=30:d={end}[bar]",
            f"[abp][bar]overlay=x=0:y={round(0.9 * height - bar_h / 2)}[v]",
            f"[0:a]atrim={a['in']}:{a['out']},asetpts=PTS-STARTPTS,atempo=0.5[x]",
            f"[1:a]atrim={b['in']}:{b['out']},asetpts=PTS-STARTPTS[y]",
            f"[x][y]acrossfade=d={wipe}[aout]",
        ])
        return [
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-i", str(media["A"]), "-i", str(media["B"]), "-i", str(media["C"]),
            "-filter_complex", graph, "-map", "[v]", "-map", "[aout]",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart",
        ]

    def bench_v2(self, work: Path, runs: int, width: int, height: int, seconds: float, media: dict[str, Path],
                 assets: dict[str, AssetSource]) -> dict[str, float]:
        document = self.v2_edit(width, height, seconds / 10.0)
        hand = self.v2_hand_command(media, document, width, height)
        means = {
            "ffmpeg": lambda out: subprocess.run([*hand, str(out)], check=True, timeout=600,
                                                 stdin=subprocess.DEVNULL),
            "auto": lambda out: (bench_cache_clear(),  # a first render every run, never a cache hit
                                 render_timeline(document, assets, "project", out, path="auto")),
            "moviepy": lambda out: render_timeline(document, assets, "project", out, path="moviepy"),
        }
        times: dict[str, list[float]] = {name: [] for name in means}
        cpus: dict[str, list[float]] = {name: [] for name in means}
        order = list(means)
        for run in range(runs):
            outputs = {}
            for name in order[run % 3 :] + order[: run % 3]:
                out = work / f"v2-run{run}-{name}.mp4"
                with TreeMemory() as memory:
                    cpu_before = _cpu_seconds()
                    started = time.perf_counter()
                    means[name](out)
                    elapsed = time.perf_counter() - started
                    cpu = _cpu_seconds() - cpu_before
                times[name].append(elapsed)
                cpus[name].append(cpu)
                outputs[name] = out
                self.say(f"v2 run {run + 1} {name:8s} {elapsed:6.2f} s  cpu {cpu:6.2f} s  "
                         f"peak tree RSS {memory.peak_rss / 2**20:5.0f} MiB")
            for name in ("auto", "moviepy"):
                facts = probe(outputs[name])
                self.say(f"v2 run {run + 1} {name:8s} vs ffmpeg: {facts.duration:.3f} s / "
                         f"{probe(outputs['ffmpeg']).duration:.3f} s, PSNR "
                         f"{average_psnr(outputs[name], outputs['ffmpeg']):.2f} dB")
            for out in outputs.values():
                out.unlink(missing_ok=True)
                out.with_suffix(".jpg").unlink(missing_ok=True)
        cpu_ratio = {name: statistics.median(c / f for c, f in zip(cpus[name], cpus["ffmpeg"], strict=True))
                     for name in ("auto", "moviepy")}
        self.say(f"v2 load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; CPU time ratios "
                 f"(steadier on a busy machine): auto {cpu_ratio['auto']:.3f}, moviepy {cpu_ratio['moviepy']:.3f}")
        return {name: statistics.median(c / f for c, f in zip(times[name], times["ffmpeg"], strict=True))
                for name in ("auto", "moviepy")}

    def clips_many(self, work: Path, width: int, height: int, assets: dict[str, AssetSource], *, count: int,
                   frames: int) -> int:
        """Peak tree memory (RSS) of the automatic path on `count` back-to-back clips of `frames` frames each."""
        length = frames / 30
        clips = [{"id": f"c{index}", "asset_id": "ABC"[index % 3], "start": round(index * length, 6), "in": 0.0,
                  "out": length} for index in range(count)]
        document = {"schema": 2, "output": {"width": width, "height": height, "fps": 30, "background": "#000000"},
                    "tracks": [{"id": "v1", "kind": "video", "clips": clips}], "markers": [], "view": {}}
        return self.render_measured(work / f"clips{count}.mp4", document, assets,
                                    f"{count} clips of {frames} frames", f", {width}x{height}")

    def clips48(self, work: Path, width: int, height: int, seconds: float, assets: dict[str, AssetSource]) -> int:
        """Peak tree memory (RSS) of the automatic path on a 48-clip timeline with crossfades."""
        length = min(1.0, seconds / 3)
        clips, start = [], 0.0
        for index in range(48):
            name = "ABC"[index % 3]
            clip = {"id": f"c{index}", "asset_id": name, "start": round(start, 6), "in": 0.0, "out": length}
            if index:
                clip["transition"] = {"type": "crossfade", "duration": length / 4}
            clips.append(clip)
            start += length - length / 4
        document = {"schema": 2, "output": {"width": width, "height": height, "fps": 30, "background": "#000000"},
                    "tracks": [{"id": "v1", "kind": "video", "clips": clips}], "markers": [], "view": {}}
        return self.render_measured(work / "clips48.mp4", document, assets, "48 clips")

    def render_measured(self, out: Path, document: dict, assets: dict[str, AssetSource], label: str,
                        detail: str = "") -> int:
        """Render `document` by the automatic path, say its time and peak tree memory; the peak RSS in bytes."""
        with TreeMemory() as memory:
            started = time.perf_counter()
            result = render_timeline(document, assets, "project", out, path="auto")
            elapsed = time.perf_counter() - started
        self.say(f"{label} ({result.render_path}{detail}): {elapsed:.2f} s, peak tree RSS "
                 f"{memory.peak_rss / 2**20:.0f} MiB, PSS {memory.peak_pss / 2**20:.0f} MiB")
        out.unlink(missing_ok=True)
        out.with_suffix(".jpg").unlink(missing_ok=True)
        return memory.peak_rss
