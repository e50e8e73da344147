"""Output formats (`output.format` in the timeline): encoder arguments, file extension and content type.

Plain data (no Django): the ffmpeg path asks `format_encode_args` for the codec part of its command line;
the moviepy path encodes H.264 as always and `format_transcode` turns that file into the asked format, so
both paths give the same kind of file. The job's stored result keeps the format's extension, from which the
download answers with the right content type (`format_for_name`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_FORMAT = "mp4"
GIF_MAX_SECONDS = 30.0  # the validator refuses longer GIFs (projects.timeline.output_format, same value)
GIF_MAX_FPS = 15  # GIF frame delays are in hundredths of a second; more than 15 fps only grows the file


@dataclass(frozen=True)
class OutputFormat:
    name: str
    label: str
    extension: str
    content_type: str
    has_video: bool = True
    has_audio: bool = True
    still: bool = False  # one frame (png)
    even_sizes: bool = True


FORMATS: dict[str, OutputFormat] = {f.name: f for f in (
    OutputFormat("mp4", "MP4 (H.264/AAC)", ".mp4", "video/mp4"),
    OutputFormat("mp4_hevc", "MP4 (HEVC/AAC)", ".mp4", "video/mp4"),
    OutputFormat("webm", "WebM (VP9/Opus)", ".webm", "video/webm"),
    OutputFormat("mov_prores", "QuickTime (ProRes 422)", ".mov", "video/quicktime"),
    OutputFormat("gif", "Animated GIF (≤ 30 s)", ".gif", "image/gif", has_audio=False),
    OutputFormat("mp3", "MP3 (sound only)", ".mp3", "audio/mpeg", has_video=False),
    OutputFormat("wav", "WAV (sound only)", ".wav", "audio/wav", has_video=False),
    OutputFormat("png", "PNG (one frame at output.still_at)", ".png", "image/png", has_audio=False, still=True),
)}
_BY_SUFFIX = {".mp4": "mp4", ".webm": "webm", ".mov": "mov_prores", ".gif": "gif", ".mp3": "mp3", ".wav": "wav",
              ".png": "png"}


def format_get(name: str | None) -> OutputFormat:
    return FORMATS.get(name or DEFAULT_FORMAT, FORMATS[DEFAULT_FORMAT])


def format_for_name(filename: str) -> OutputFormat:
    """The format of a stored result, from its extension (results before formats existed are MP4)."""
    path = Path(filename)
    if path.suffix.lower() == ".mp4" and "-hevc" in path.stem:
        return FORMATS["mp4_hevc"]
    return FORMATS[_BY_SUFFIX.get(path.suffix.lower(), DEFAULT_FORMAT)]


def format_video_tail(fmt: OutputFormat, *, still_frame: int, fps: float) -> str:
    """Filters appended to the finished picture (after `format=`): GIF palette, PNG frame pick."""
    if fmt.name == "gif":
        # One pass with a palette computed from the whole clip: far fewer bands than the web-safe default.
        return (f"fps={min(fps, GIF_MAX_FPS):.6f},split[gif_a][gif_b];[gif_a]palettegen=stats_mode=diff[gif_p];"
                "[gif_b][gif_p]paletteuse=dither=bayer:bayer_scale=3")
    if fmt.still:
        return f"trim=start_frame={still_frame}:end_frame={still_frame + 1},setpts=PTS-STARTPTS"
    return ""


def format_pix_fmt(fmt: OutputFormat) -> str:
    if fmt.name == "mov_prores":
        return "yuv422p10le"
    if fmt.name in ("gif", "png"):
        return "rgb24"
    return "yuv420p"


def format_encode_args(fmt: OutputFormat, *, x264_preset: str, crf: int, threads: int, audio_bitrate: str,
                       sample_rate: int) -> list[str]:
    """Codec and container arguments for the output file (after the -map options)."""
    video: list[str] = []
    audio: list[str] = []
    if fmt.name == "mp4":
        video = ["-c:v", "libx264", "-preset", x264_preset, "-crf", str(crf), "-pix_fmt", "yuv420p"]
        audio = ["-c:a", "aac", "-b:a", audio_bitrate]
        tail = ["-movflags", "+faststart", "-f", "mp4"]
    elif fmt.name == "mp4_hevc":
        # hvc1 tagging is what Safari and QuickTime want for HEVC in MP4.
        video = ["-c:v", "libx265", "-preset", x264_preset, "-crf", str(crf + 5), "-pix_fmt", "yuv420p",
                 "-tag:v", "hvc1", "-x265-params", f"log-level=error:pools={threads}"]
        audio = ["-c:a", "aac", "-b:a", audio_bitrate]
        tail = ["-movflags", "+faststart", "-f", "mp4"]
    elif fmt.name == "webm":
        # Constant quality (-b:v 0), realtime deadline with a high cpu-used: VP9's default speed is very slow.
        video = ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", str(crf + 10), "-deadline", "realtime", "-cpu-used", "8",
                 "-row-mt", "1", "-pix_fmt", "yuv420p"]
        audio = ["-c:a", "libopus", "-b:a", audio_bitrate]
        tail = ["-f", "webm"]
    elif fmt.name == "mov_prores":
        video = ["-c:v", "prores_ks", "-profile:v", "2", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"]
        audio = ["-c:a", "pcm_s16le"]
        tail = ["-f", "mov"]
    elif fmt.name == "gif":
        video = ["-c:v", "gif", "-loop", "0"]
        tail = ["-f", "gif"]
    elif fmt.name == "png":
        video = ["-c:v", "png", "-frames:v", "1", "-update", "1"]
        tail = ["-f", "image2"]
    elif fmt.name == "mp3":
        audio = ["-c:a", "libmp3lame", "-b:a", "192k"]
        tail = ["-f", "mp3"]
    else:  # wav
        audio = ["-c:a", "pcm_s16le"]
        tail = ["-f", "wav"]
    if audio:
        audio += ["-ar", str(sample_rate), "-ac", "2"]
    return [*video, "-threads", str(threads), *audio, *tail]


def format_transcode_args(fmt: OutputFormat, source: Path, target: Path, *, still_at: float, fps: float,
                          x264_preset: str, crf: int, threads: int, audio_bitrate: str, sample_rate: int,
                          ffmpeg: str) -> list[str]:
    """An ffmpeg command turning the moviepy path's H.264 MP4 into `fmt` (same filters as the ffmpeg path)."""
    args = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if fmt.still:
        args += ["-ss", f"{max(0.0, still_at):.6f}"]
    args += ["-i", str(source)]
    if fmt.has_video:
        tail = format_video_tail(fmt, still_frame=0, fps=fps)
        chain = f"format={format_pix_fmt(fmt)}" + (f",{tail}" if tail and not fmt.still else "")
        args += ["-filter_complex", f"[0:v]{chain}[vout]", "-map", "[vout]"]
    if fmt.has_audio:
        args += ["-map", "0:a"]
    return args + format_encode_args(fmt, x264_preset=x264_preset, crf=crf, threads=threads,
                                     audio_bitrate=audio_bitrate, sample_rate=sample_rate) + [str(target)]


def format_catalog() -> list[dict[str, object]]:
    return [{"id": f.name, "label": f.label, "extension": f.extension, "content_type": f.content_type,
             "video": f.has_video, "audio": f.has_audio, "still": f.still} for f in FORMATS.values()]
