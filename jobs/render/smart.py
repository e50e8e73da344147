"""Smart render: plain cuts of sources that already match the output are stream-copied GOP by GOP.

A clip qualifies when it sits on the first track as an untouched full frame (no transform, filter, speed,
fade or anything drawn over it) and its file is H.264 yuv420p at the output's size and frame rate, made by
x264 with closed GOPs. Inside such a clip only the frames from the cut to the next keyframe and from the
last keyframe to the cut's end are re-encoded; whole GOPs between them are copied packet for packet.

The join is a stream copy, so every piece must carry the same SPS/PPS. The re-encoded pieces (and every
other segment of that render) use the x264 options the source's own SEI names (CABAC, refs, B-frames,
pyramid, weighted prediction, 8x8 transform, CRF), and after encoding `smart_verify` compares each piece's
parameter sets with the source's: any difference sends the render back to a plain segmented re-encode.
"""

from __future__ import annotations

import json
import logging
import math
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from config.tools import ffmpeg_exe, ffprobe_exe
from jobs.render.errors import RenderFailed
from jobs.render.plan import Layer, RenderPlan
from jobs.render.procs import run_quiet

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 60.0
# The x264 SEI options that decide the SPS/PPS, as x264-params names.
_X264_OPTIONS = {"cabac": "cabac", "ref": "ref", "bframes": "bframes", "b_pyramid": "b-pyramid",
                 "weightb": "weightb", "weightp": "weightp", "8x8dct": "8x8dct", "crf": "crf",
                 "constrained_intra": "constrained-intra", "psy": "psy", "psy_rd": "psy-rd", "trellis": "trellis",
                 "chroma_me": "chroma-me", "deadzone": "deadzone-inter"}


@dataclass
class SourceInfo:
    path: str
    keyframes: list[int]  # display-order frame indices of the sync samples
    frame_times: list[float]  # display-order presentation times, seconds from the first frame
    start_time: float  # the first frame's pts (seconds), for exact input seeks
    x264_params: str
    param_sets: bytes


@dataclass
class SmartCut:
    layer: Layer
    source: SourceInfo
    first: int  # the source frame (display order, a keyframe) the copy starts at


def _run(args: list[str]) -> bytes:
    done = subprocess.run(args, capture_output=True, timeout=PROBE_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RenderFailed("A source could not be probed for smart render.")
    return done.stdout


def first_packet(path: str | Path) -> bytes:
    """The first video packet in Annex B form, SPS/PPS in front (what the decoder is given first)."""
    return _run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-map", "0:v:0",
                 "-c:v", "copy", "-bsf:v", "h264_mp4toannexb", "-frames:v", "1", "-f", "h264", "-"])


def packet_list(path: str | Path) -> tuple[Fraction, list[tuple[int, bool]]]:
    """The time base and every video packet's (pts, is a keyframe), in file order.

    A stream copy into ffmpeg's framecrc muxer rather than ffprobe: the bundled static ffmpeg starts in ~10 ms
    of CPU, Debian's ffprobe in ~70 ms, and a first render under "auto" lists packets four times. `-copyts`
    keeps the file's own timestamps (smart_copy seeks by them). framecrc marks a packet's flags only when they
    are not "keyframe" alone.
    """
    text = _run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-copyts", "-i", str(path),
                 "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"]).decode(errors="replace")
    base, entries = Fraction(1, 1), []
    for line in text.splitlines():
        if line.startswith("#tb 0:"):
            base = Fraction(line.partition(":")[2].strip())
        elif line and not line.startswith("#"):
            fields = [item.strip() for item in line.split(",")]
            if len(fields) < 6 or not fields[2].lstrip("-").isdigit():
                continue
            flags = next((item[2:] for item in fields[6:] if item.startswith("F=")), None)
            entries.append((int(fields[2]), flags is None or bool(int(flags, 16) & 1)))
    return base, entries


def _nal_units(data: bytes) -> list[bytes]:
    units = [u for u in re.split(b"\x00\x00\x01", data) if u]
    return [u.rstrip(b"\x00") for u in units]


def param_sets(data: bytes) -> bytes:
    """The SPS and PPS NAL units of an Annex B packet, concatenated."""
    return b"|".join(u for u in _nal_units(data) if u and u[0] & 0x1F in (7, 8))


def x264_options(data: bytes) -> dict[str, str]:
    """The options x264 wrote into its SEI ("cabac=1 ref=3 ..."), or {} when another encoder made the file."""
    match = re.search(rb"x264 - core \d+.*?options: ([ -~]*)", data)
    if not match:
        return {}
    return dict(item.split("=", 1) for item in match.group(1).decode().split() if "=" in item)


def _x264_params(options: dict[str, str]) -> str:
    return ":".join(f"{name}={options[key]}" for key, name in _X264_OPTIONS.items() if key in options)


_PROBED: dict[tuple, tuple[SourceInfo | None, str]] = {}


def source_probe(path: str, plan: RenderPlan) -> tuple[SourceInfo | None, str]:
    """What smart render needs of a source, or None and the reason it does not qualify (remembered per file
    and output shape within the process: a worker probes each source once)."""
    import os

    stat = os.stat(path)
    o = plan.output
    memo = (path, stat.st_size, stat.st_mtime_ns, o.width, o.height, o.fps_num, o.fps_den)
    if memo not in _PROBED:
        _PROBED[memo] = _source_probe(path, plan)
    return _PROBED[memo]


def _source_probe(path: str, plan: RenderPlan) -> tuple[SourceInfo | None, str]:
    o = plan.output
    from jobs.render.media import media_report

    report = media_report(path)  # what media_check read, when this process checked the file
    if report is not None:
        streams = [item for item in report.get("streams") or [] if item.get("codec_type") == "video"][:1]
    else:
        data = json.loads(_run([ffprobe_exe(), "-v", "error", "-select_streams", "v:0", "-show_streams", "-of",
                                "json", path]))
        streams = data.get("streams") or []
    if not streams:
        return None, "no video stream"
    s = streams[0]
    if s.get("codec_name") != "h264" or s.get("pix_fmt") != "yuv420p":
        return None, f"{s.get('codec_name')}/{s.get('pix_fmt')} is not H.264 yuv420p"
    if (s.get("width"), s.get("height")) != (o.width, o.height):
        return None, f"{s.get('width')}x{s.get('height')} is not the output size"
    if Fraction(s.get("r_frame_rate") or "0/1") != Fraction(o.fps_num, o.fps_den) or \
            Fraction(s.get("avg_frame_rate") or "0/1") != Fraction(o.fps_num, o.fps_den):
        return None, "its frame rate is not the output's (or not constant)"
    if s.get("field_order") not in (None, "progressive", "unknown"):
        return None, "interlaced"
    head = first_packet(path)
    options = x264_options(head)
    if not options:
        return None, "not made by x264"
    if options.get("open_gop", "0") != "0" or options.get("interlaced", "0") != "0" or options.get("rc") != "crf":
        return None, "open GOPs, interlacing or a rate control other than CRF"
    base, entries = packet_list(path)
    if not entries:
        return None, "no packets"
    entries.sort()
    first = entries[0][0]
    info = SourceInfo(
        path=path, keyframes=[i for i, (_, key) in enumerate(entries) if key],
        frame_times=[float((pts - first) * base) for pts, _ in entries], start_time=float(first * base),
        x264_params=_x264_params(options), param_sets=param_sets(head),
    )
    return info, ""


def _candidate(layer: Layer, plan: RenderPlan, base: int) -> bool:
    o = plan.output
    return (layer.track_index == base and layer.kind == "video" and layer.full_frame and not layer.animated
            and not layer.pre_filter and not layer.post_filter and layer.speed == 1.0 and not layer.reverse
            and (layer.x, layer.y, layer.width, layer.height) == (0, 0, o.width, o.height))


def smart_prepare(plan: RenderPlan, work: Path) -> tuple[str, dict[str, SourceInfo], str]:
    """(x264 params for every re-encoded piece, qualifying sources by path, a note for the log)."""
    if not plan.layers:
        return "", {}, ""
    base = min(layer.track_index for layer in plan.layers)
    frames_by_path: dict[str, int] = {}
    for layer in plan.layers:
        if _candidate(layer, plan, base):
            frames_by_path[layer.path] = frames_by_path.get(layer.path, 0) + layer.frames
    if not frames_by_path:
        return "", {}, "smart render: no plain cut on the first track"
    infos: dict[str, SourceInfo] = {}
    reasons = []
    ordered = sorted(frames_by_path, key=lambda p: -frames_by_path[p])
    # Each probe is three short ffprobe/ffmpeg runs, mostly process start-up: the sources are probed side by side.
    with ThreadPoolExecutor(max_workers=min(4, len(ordered))) as pool:
        probed = list(pool.map(lambda path: source_probe(path, plan), ordered))
    for path, (info, why) in zip(ordered, probed, strict=True):
        if info is None:
            reasons.append(f"{Path(path).name}: {why}")
        else:
            infos[path] = info
    if not infos:
        return "", {}, "smart render not possible (" + "; ".join(reasons) + ")"
    # Every piece of one file must share parameter sets: the most used qualifying source sets them.
    lead = next(iter(infos.values()))
    chosen = {p: i for p, i in infos.items() if i.param_sets == lead.param_sets}
    note = f"smart render: {len(chosen)} source(s) stream-copied by GOP"
    if reasons:
        note += " (" + "; ".join(reasons) + ")"
    return lead.x264_params, chosen, note


def _free_windows(plan: RenderPlan, layer: Layer) -> list[tuple[int, int]]:
    """Timeline frame ranges where `layer` shows alone and untouched: no fade, nothing over or under it."""
    lo, hi = layer.start + layer.fade_in, layer.end - layer.fade_out
    busy = sorted((max(lo, o.start), min(hi, o.end)) for o in plan.layers
                  if o is not layer and o.start < hi and o.end > lo)
    windows, cursor = [], lo
    for a, b in busy:
        if a > cursor:
            windows.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < hi:
        windows.append((cursor, hi))
    return windows


def smart_copies(plan: RenderPlan, sources: dict[str, SourceInfo]) -> list[tuple[int, int, SmartCut]]:
    """Timeline frame ranges [a, b) that are whole GOPs of a qualifying source, with what to copy."""
    base = min(layer.track_index for layer in plan.layers)
    fps = plan.output.fps
    copies = []
    for layer in plan.layers:
        info = sources.get(layer.path)
        if info is None or not _candidate(layer, plan, base):
            continue
        for a, b in _free_windows(plan, layer):
            first = round((layer.src_in + (a - layer.start) / fps) * fps)  # source frame shown at `a`
            last = first + (b - a)
            if first < 0 or last > len(info.frame_times):
                continue
            k1 = next((k for k in info.keyframes if k >= first), None)
            k2 = next((k for k in reversed(info.keyframes) if k <= last), None)
            if k1 is None or k2 is None or k2 <= k1:
                continue  # no whole GOP inside: encoded like the rest
            copies.append((a + k1 - first, a + k2 - first, SmartCut(layer=layer, source=info, first=k1)))
    return copies


def smart_copy(segment, parts: Path, work: Path) -> Path:
    """Stream-copy the segment's GOPs from its source: packet for packet, nothing decoded."""
    cut: SmartCut = segment.smart
    at = cut.source.start_time + cut.source.frame_times[cut.first]
    # Rounded up to the microsecond: an input seek lands on the last keyframe at or before the time, and
    # this one is a keyframe. `-frames:v` counts packets in decode order, which for closed GOPs is exactly
    # the GOPs' frames.
    seek = math.ceil(at * 1e6) / 1e6
    tag = f"copy{segment.start:07d}"
    path = parts / f"{tag}.mp4"
    code = run_quiet([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-ss", f"{seek:.6f}",
                      "-i", cut.source.path, "-map", "0:v:0", "-c", "copy", "-frames:v", str(segment.frames),
                      "-an", "-sn", "-dn", "-f", "mp4", str(path)], timeout=PROBE_TIMEOUT * 10,
                     log_path=work / f"{tag}.log")
    if code != 0 or not path.is_file():
        raise RenderFailed("A stream copy of a source failed.")
    return path


def smart_verify(piece: Path, reference: bytes) -> bool:
    """A re-encoded piece carries the reference SPS/PPS (the copied GOPs' own), so the joined stream decodes.

    Every piece of one render is encoded with the same arguments at the same size, so one piece speaks for
    all; the copied ones carry their source's, which smart_prepare already compared.
    """
    if param_sets(first_packet(piece)) == reference:
        return True
    logger.warning("smart render: %s has other parameter sets than the source", piece.name)
    return False
