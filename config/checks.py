"""Django system checks (`manage.py check`, and before `migrate`/`runserver`): the parts a render needs
that settings alone cannot prove. Each names the setting to fix; none prints a path it was not given."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning, register

from config.tools import ffmpeg_exe, ffprobe_exe


@register("cutline")
def ffprobe_present(app_configs=None, **kwargs) -> list:
    path = ffprobe_exe()
    if Path(path).is_file() and os.access(path, os.X_OK):
        return []
    return [Error(
        "ffprobe was not found or is not executable, so uploads cannot be probed.",
        hint="Install ffmpeg (Debian: apt-get install ffmpeg) or set MEDIA_FFPROBE_PATH.",
        id="cutline.E001",
    )]


@register("cutline")
def ffmpeg_present(app_configs=None, **kwargs) -> list:
    try:
        path = ffmpeg_exe()
    except RuntimeError:  # imageio-ffmpeg found no binary
        path = ""
    if path and shutil.which(path):
        return []
    return [Error(
        "ffmpeg was not found or is not executable, so previews and renders cannot run.",
        hint="Reinstall imageio-ffmpeg (it bundles ffmpeg) or set FFMPEG_PATH.",
        id="cutline.E004",
    )]


def _writable_dir(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".check-"):
            pass
    except OSError:
        return False
    return True


@register("cutline")
def work_dir_writable(app_configs=None, **kwargs) -> list:
    if _writable_dir(Path(settings.RENDER_WORK_DIR)):
        return []
    return [Error(
        "The render scratch directory cannot be created or written to.",
        hint="Point RENDER_WORK_DIR at a writable local directory.",
        id="cutline.E002",
    )]


@register("cutline")
def storage_reachable(app_configs=None, **kwargs) -> list:
    from django.core.files.storage import default_storage

    try:
        default_storage.exists(".cutline-storage-check")
        location = getattr(default_storage, "location", None)
        if location is not None and not _writable_dir(Path(location)):
            raise OSError("not writable")
    except Exception as exc:  # any backend's failure (OSError, botocore, ...) means the same thing here
        return [Error(
            f"Media storage is not reachable or not writable ({type(exc).__name__}).",
            hint="Check MEDIA_ROOT (local storage) or the storage backend's settings and credentials.",
            id="cutline.E003",
        )]
    return []


@register("cutline")
def fonts_present(app_configs=None, **kwargs) -> list:
    """Titles are drawn with Pillow's scalable default font; without FreeType Pillow falls back to a tiny
    bitmap font and every title renders at one size."""
    from PIL import ImageFont, features

    if features.check("freetype2") and isinstance(ImageFont.load_default(size=24), ImageFont.FreeTypeFont):
        return []
    return [Warning(
        "Pillow has no FreeType support: text clips would render in a tiny bitmap font at one size.",
        hint="Install Pillow from its wheels (they bundle FreeType) or build it with libfreetype.",
        id="cutline.W001",
    )]
