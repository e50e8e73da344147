"""The join: encoded pieces concatenated by stream copy (concat demuxer), the sound muxed beside them."""

from __future__ import annotations

import logging
from pathlib import Path

from config.tools import ffmpeg_exe
from jobs.render.errors import RenderFailed
from jobs.render.procs import run_quiet

logger = logging.getLogger(__name__)

MUX_TIMEOUT = 600.0


def segments_join(files: list[Path], audio: Path | None, out_path: Path, work: Path, fps_expr: str) -> None:
    """Join encoded pieces by stream copy (concat demuxer) and mux the sound beside them."""
    listing = work / "join.txt"
    listing.write_text("".join(f"file '{path.resolve()}'\n" for path in files))
    args = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "concat", "-safe", "0", "-i", str(listing)]
    if audio is not None:
        args += ["-i", str(audio), "-map", "0:v", "-map", "1:a"]
    else:
        args += ["-map", "0:v"]
    args += ["-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(out_path)]
    code = run_quiet(args, timeout=MUX_TIMEOUT, log_path=work / "join.log")
    if code != 0 or not out_path.is_file():
        logger.error("segment join failed: %s", (work / "join.log").read_text(errors="replace")[-2000:])
        raise RenderFailed("The rendered segments could not be joined.")
