"""Running the moviepy compositor (compositor.py) in a child process and following its progress.

The child gets its own session, so on cancel, timeout or error one signal to its process group reaches
the compositor, its decoders and its encoder alike; nothing outlives the render.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

from django.conf import settings

from config.tools import ffmpeg_exe
from jobs.render.errors import MediaUnreadable, RenderFailed
from jobs.render.plan import RenderPlan
from jobs.render.procs import ChildProcess
from jobs.render.progress import RenderMonitor

logger = logging.getLogger(__name__)

READ_TIMEOUT = 0.1


def render_with_moviepy(plan: RenderPlan, out_path: Path, poster_path: Path, work_dir: Path,
                        monitor: RenderMonitor) -> None:
    plan_path = work_dir / "plan.json"
    plan_path.write_text(plan.to_json())
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(settings.BASE_DIR), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    # moviepy.config runs `ffplay` once at import to see whether previews are possible (~0.1 s of CPU on
    # every render); the compositor never previews, so point it at a no-op program.
    env.setdefault("FFPLAY_BINARY", shutil.which("true") or "/bin/true")
    env["FFMPEG_BINARY"] = ffmpeg_exe()  # moviepy.config reads it: the compositor runs the configured ffmpeg
    monitor.encode_started()
    monitor.encode_progress(0.0, f"Encoding frame 0 of {plan.frames}")
    child = ChildProcess(
        [sys.executable, "-m", "jobs.render.compositor", str(plan_path), str(out_path), str(poster_path)],
        log_path=work_dir / "compositor.log", env=env, cwd=work_dir,
    )
    unreadable: int | None = None
    try:
        while not child.eof:
            for line in child.read_lines(READ_TIMEOUT):
                word, _, value = line.partition(" ")
                if word == "frame" and value.isdigit():
                    frame = min(int(value), plan.frames)
                    # The last few percent of ENCODE are the soundtrack mux.
                    monitor.encode_progress(0.97 * frame / plan.frames, f"Encoding frame {frame} of {plan.frames}")
                elif word == "mux":
                    monitor.encode_progress(0.98, "Adding the soundtrack")
                elif word == "unreadable" and value.isdigit():
                    unreadable = int(value)
            monitor.check()
        code = child.wait(timeout=30)
    finally:
        child.stop()
    if code != 0:
        log = child.log_tail()
        logger.error("moviepy compositor failed (exit %s): %s", code, log)
        if unreadable is not None and unreadable < len(plan.layers):
            layer = plan.layers[unreadable]
            raise MediaUnreadable(f"clip {layer.clip_id} on track {layer.track_id}: the media file cannot be read.")
        raise RenderFailed("The compositor failed while rendering the timeline.")
