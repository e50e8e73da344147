"""Generated media from ffmpeg's `lavfi` sources: the demo's sample clips, benchmark inputs, test files.

Nothing here is committed to git; every file is made on demand in a few hundred milliseconds.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from config.tools import ffmpeg_exe


def _run(args: list[str]) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=120)


def make_video(
    path: Path,
    *,
    seconds: float = 2.0,
    width: int = 320,
    height: int = 180,
    fps: int = 30,
    source: str = "testsrc2",
    tone_hz: int | None = 440,
    crf: int = 28,
    preset: str = "ultrafast",
    gop: int | None = None,
) -> Path:
    """An H.264/AAC MP4 (or MOV/MKV/WebM by suffix) of a lavfi test pattern, with a sine tone unless tone_hz is None."""
    path = Path(path)
    args = ["-f", "lavfi", "-i", f"{source}=size={width}x{height}:rate={fps}:duration={seconds}"]
    if tone_hz is not None:
        args += ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=48000:duration={seconds}"]
    if path.suffix == ".webm":
        args += ["-c:v", "libvpx", "-b:v", "300k", "-deadline", "realtime", "-cpu-used", "8"]
        if tone_hz is not None:
            args += ["-c:a", "libvorbis"]
    else:
        args += ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p"]
        if gop:
            args += ["-g", str(gop)]
        if tone_hz is not None:
            args += ["-c:a", "aac", "-b:a", "128k"]
    if path.suffix in {".mp4", ".mov", ".m4v"}:
        args += ["-movflags", "+faststart"]
    _run([*args, "-shortest", str(path)])
    return path


def make_audio(path: Path, *, seconds: float = 2.0, tone_hz: int = 440, volume: float = 0.5) -> Path:
    """A sine tone; the codec follows the suffix (.wav, .mp3, .m4a, .ogg, .flac)."""
    path = Path(path)
    args = ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=48000:duration={seconds}",
            "-af", f"volume={volume}"]
    codec = {".m4a": ["-c:a", "aac"], ".aac": ["-c:a", "aac"], ".ogg": ["-c:a", "libvorbis"]}.get(path.suffix, [])
    _run([*args, *codec, str(path)])
    return path


def make_image(path: Path, *, width: int = 320, height: int = 180, source: str = "smptebars") -> Path:
    """One still frame of a lavfi pattern (PNG, JPEG or WebP by suffix)."""
    path = Path(path)
    _run(["-f", "lavfi", "-i", f"{source}=size={width}x{height}:rate=1", "-frames:v", "1", str(path)])
    return path
