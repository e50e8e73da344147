"""Output formats (`output.format` in the timeline): encoder arguments, file extension and content type.

Plain data (no Django): the ffmpeg path asks `format_encode_args` for the codec part of its command line; the
moviepy compositor asks `format_picture_args` and `format_sound_args` for the same codecs, encoding its picture
and its sound straight in the asked format (no intermediate H.264), so both paths give the same kind of file.
The job's stored result keeps the format's extension, from which the download answers with the right content
type (`format_for_name`).
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


def _picture_codec_args(fmt: OutputFormat, *, x264_preset: str, crf: int, threads: int) -> list[str]:
    if fmt.name == "mp4":
        return ["-c:v", "libx264", "-preset", x264_preset, "-crf", str(crf), "-pix_fmt", "yuv420p"]
    if fmt.name == "mp4_hevc":
        # hvc1 tagging is what Safari and QuickTime want for HEVC in MP4.
        return ["-c:v", "libx265", "-preset", x264_preset, "-crf", str(crf + 5), "-pix_fmt", "yuv420p",
                "-tag:v", "hvc1", "-x265-params", f"log-level=error:pools={threads}"]
    if fmt.name == "webm":
        # Constant quality (-b:v 0), realtime deadline with a high cpu-used: VP9's default speed is very slow.
        return ["-c:v", "libvpx-vp9", "-b:v", "0", "-crf", str(crf + 10), "-deadline", "realtime", "-cpu-used", "8",
                "-row-mt", "1", "-pix_fmt", "yuv420p"]
    if fmt.name == "mov_prores":
        return ["-c:v", "prores_ks", "-profile:v", "2", "-vendor", "apl0", "-pix_fmt", "yuv422p10le"]
    if fmt.name == "gif":
        return ["-c:v", "gif", "-loop", "0"]
    if fmt.name == "png":
        return ["-c:v", "png", "-frames:v", "1", "-update", "1"]
    return []


def _sound_codec_args(fmt: OutputFormat, *, audio_bitrate: str, sample_rate: int) -> list[str]:
    if fmt.name in ("mp4", "mp4_hevc"):
        audio = ["-c:a", "aac", "-b:a", audio_bitrate]
    elif fmt.name == "webm":
        audio = ["-c:a", "libopus", "-b:a", audio_bitrate]
    elif fmt.name in ("mov_prores", "wav"):
        audio = ["-c:a", "pcm_s16le"]
    elif fmt.name == "mp3":
        audio = ["-c:a", "libmp3lame", "-b:a", "192k"]
    else:
        return []
    return [*audio, "-ar", str(sample_rate), "-ac", "2"]


def format_container_args(fmt: OutputFormat) -> list[str]:
    """The muxer of the delivered file (last, before its name)."""
    muxer = {"mp4": "mp4", "mp4_hevc": "mp4", "webm": "webm", "mov_prores": "mov", "gif": "gif", "png": "image2",
             "mp3": "mp3", "wav": "wav"}[fmt.name]
    return (["-movflags", "+faststart"] if muxer == "mp4" else []) + ["-f", muxer]


def format_encode_args(fmt: OutputFormat, *, x264_preset: str, crf: int, threads: int, audio_bitrate: str,
                       sample_rate: int) -> list[str]:
    """Codec and container arguments for the output file (after the -map options)."""
    return [*_picture_codec_args(fmt, x264_preset=x264_preset, crf=crf, threads=threads), "-threads", str(threads),
            *_sound_codec_args(fmt, audio_bitrate=audio_bitrate, sample_rate=sample_rate),
            *format_container_args(fmt)]


# The moviepy compositor encodes the picture (from its raw-frame pipe) and the sound (its mix) separately, each
# straight in the asked codec, then joins them with a stream copy: no intermediate generation.
SOUND_PART_MUXER = {"mp4": "mp4", "mp4_hevc": "mp4", "webm": "webm", "mov_prores": "wav"}
PICTURE_PART_MUXER = {"mp4": "mp4", "mp4_hevc": "mp4", "webm": "webm", "mov_prores": "mov"}


def format_picture_args(fmt: OutputFormat, *, x264_preset: str, crf: int, threads: int, fps: float,
                        alone: bool) -> list[str]:
    """Filters, codec and muxer for the picture alone (fed raw RGB frames). `alone`: it is the delivered file
    (no sound to join: gif, png), else the picture part that the sound is later joined to."""
    tail = format_video_tail(fmt, still_frame=0, fps=fps)
    filters = ["-vf", f"format={format_pix_fmt(fmt)},{tail}"] if tail else []
    muxer = format_container_args(fmt) if alone else ["-f", PICTURE_PART_MUXER[fmt.name]]
    return [*filters, *_picture_codec_args(fmt, x264_preset=x264_preset, crf=crf, threads=threads),
            "-threads", str(threads), *muxer]


def format_sound_args(fmt: OutputFormat, *, audio_bitrate: str, sample_rate: int, alone: bool) -> list[str]:
    """Codec and muxer for the sound alone. `alone`: it is the delivered file (mp3, wav)."""
    muxer = format_container_args(fmt) if alone else ["-f", SOUND_PART_MUXER[fmt.name]]
    return [*_sound_codec_args(fmt, audio_bitrate=audio_bitrate, sample_rate=sample_rate), *muxer]


def format_catalog() -> list[dict[str, object]]:
    return [{"id": f.name, "label": f.label, "extension": f.extension, "content_type": f.content_type,
             "video": f.has_video, "audio": f.has_audio, "still": f.still} for f in FORMATS.values()]
