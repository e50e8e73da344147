"""Where ffmpeg and ffprobe are: one answer for every caller (upload probe, previews, renders, benchmarks).

`FFMPEG_PATH` (default: the static ffmpeg bundled with imageio-ffmpeg, which also honours
`IMAGEIO_FFMPEG_EXE`) and `MEDIA_FFPROBE_PATH` (default: `ffprobe` on the PATH) in the settings. Plain
functions with no Django import at module level: the moviepy compositor child imports nothing of Django
and gets the path through its environment (`FFMPEG_BINARY`, read by moviepy.config).
"""

from __future__ import annotations

import os
import shutil


def _setting(name: str) -> str:
    """The Django setting, or the environment variable of that name outside a configured Django process."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        return str(getattr(settings, name, "") or "")
    except ImproperlyConfigured:
        return os.environ.get(name, "")


def ffmpeg_exe() -> str:
    """The ffmpeg every part of Cutline runs."""
    configured = _setting("FFMPEG_PATH")
    if configured:
        return configured
    import imageio_ffmpeg  # finds its bundled binary (checked once, then cached)

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffprobe_exe() -> str:
    """The ffprobe every part of Cutline runs."""
    return _setting("MEDIA_FFPROBE_PATH") or shutil.which("ffprobe") or "/usr/bin/ffprobe"
