"""Measuring rendered files: stream facts, picture agreement (PSNR) and loudness.

Used by `bench_render` (do two renders agree?) and by the tests. Reads files with ffprobe and the
static ffmpeg; nothing here runs during a render.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from config.tools import ffmpeg_exe, ffprobe_exe

TIMEOUT = 120


@dataclass(frozen=True)
class StreamFacts:
    duration: float  # the container's
    video_duration: float | None
    width: int | None
    height: int | None
    fps: float | None
    frames: int | None
    video_codec: str | None
    pix_fmt: str | None
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None


def probe(path: Path) -> StreamFacts:
    done = subprocess.run(
        [ffprobe_exe(), "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True, check=True, timeout=TIMEOUT,
    )
    data = json.loads(done.stdout)
    video = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), {})
    audio = next((s for s in data.get("streams", []) if s.get("codec_type") == "audio"), {})
    num, _, den = (video.get("avg_frame_rate") or "0/1").partition("/")
    return StreamFacts(
        duration=float(data.get("format", {}).get("duration") or 0.0),
        video_duration=float(video["duration"]) if video.get("duration") else None,
        width=video.get("width"), height=video.get("height"),
        fps=float(num) / float(den) if float(den or 0) else None,
        frames=int(video["nb_frames"]) if video.get("nb_frames") else None,
        video_codec=video.get("codec_name"), pix_fmt=video.get("pix_fmt"),
        audio_codec=audio.get("codec_name"),
        sample_rate=int(audio["sample_rate"]) if audio.get("sample_rate") else None,
        channels=audio.get("channels"),
    )


def frames_rgb(path: Path, indices: list[int], size: tuple[int, int]) -> list[np.ndarray]:
    """Decoded RGB frames by frame number (one decode pass)."""
    width, height = size
    expr = "+".join(f"eq(n\\,{i})" for i in indices)
    done = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-vf", f"select='{expr}'", "-fps_mode", "passthrough",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True, timeout=TIMEOUT,
    )
    frame_bytes = width * height * 3
    count = len(done.stdout) // frame_bytes
    return [np.frombuffer(done.stdout[i * frame_bytes : (i + 1) * frame_bytes], np.uint8).reshape(height, width, 3)
            for i in range(count)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def sampled_psnr(a: Path, b: Path, indices: list[int]) -> float:
    """The lowest PSNR (dB) over the sampled frames of two videos of the same size."""
    facts = probe(a)
    size = (facts.width or 0, facts.height or 0)
    first, second = frames_rgb(a, indices, size), frames_rgb(b, indices, size)
    if len(first) != len(indices) or len(second) != len(indices):
        return 0.0
    return min(psnr(x, y) for x, y in zip(first, second, strict=True))


def average_psnr(a: Path, b: Path) -> float:
    """ffmpeg's average PSNR over every frame of two videos (Y, U and V weighted)."""
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(a), "-i", str(b), "-lavfi", "[0:v][1:v]psnr",
         "-f", "null", "-"],
        capture_output=True, check=True, timeout=TIMEOUT * 5,
    )
    match = re.search(r"average:(inf|[\d.]+)", done.stderr.decode(errors="replace"))
    if not match:
        return 0.0
    return math.inf if match.group(1) == "inf" else float(match.group(1))


def audio_rms_db(path: Path, start: float = 0.0, end: float | None = None) -> float:
    """RMS level (dBFS) of the soundtrack between two times; -inf for digital silence."""
    args = [ffmpeg_exe(), "-v", "error", "-ss", f"{start:.3f}"]
    if end is not None:
        args += ["-t", f"{max(0.0, end - start):.3f}"]
    done = subprocess.run(
        [*args, "-i", str(path), "-vn", "-ac", "1", "-ar", "48000", "-f", "f32le", "-"],
        capture_output=True, check=True, timeout=TIMEOUT,
    )
    samples = np.frombuffer(done.stdout, dtype="<f4")
    if samples.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    return -math.inf if rms <= 1e-9 else 20 * math.log10(rms)
