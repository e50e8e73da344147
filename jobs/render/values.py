"""The renderer's public value types (see briefs/interfaces.md): what goes in and what comes out."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class AssetSource:
    """One media asset as the renderer needs it: a local file and what the upload probe found."""

    asset_id: str
    path: Path
    kind: str  # "video" | "audio" | "image"
    duration: float | None
    width: int | None
    height: int | None
    fps: float | None
    has_audio: bool
    name: str = ""
    sha256: str = ""  # the stored file's content hash, when known (segment cache keys)


@dataclass(frozen=True)
class Progress:
    """One progress report. Phases: PREPARE 0–5 %, ENCODE 5–95 %, FINALIZE 95–100 %."""

    phase: str
    percent: float
    message: str
    eta_seconds: float | None


@dataclass(frozen=True)
class RenderResult:
    path: Path
    poster_path: Path
    duration: float
    size_bytes: int
    width: int
    height: int
    fps: float
    sha256: str
    render_path: str  # "ffmpeg", "moviepy", "segmented" or "smart": which path produced the file
    captions_vtt: Path | None = None  # sidecar subtitles, when the timeline has a captions track
    captions_srt: Path | None = None


def finite_or(value: Any, default: float) -> float:
    """`value` as a finite float; `default` for anything else (None, text, NaN, infinity)."""
    try:
        result = float(value)
    except (TypeError, ValueError):
        return default
    return result if math.isfinite(result) else default
