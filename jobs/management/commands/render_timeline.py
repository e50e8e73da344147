"""Render a project's timeline to a local MP4 from the command line, with a progress bar.

    python manage.py render_timeline PROJECT_ID --preset draft --out file.mp4 [--path auto|ffmpeg|moviepy]

For operators and for debugging: it runs the same renderer as the workers, in this process, without
a job row, a queue or Redis.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.exceptions import CutlineError
from jobs.render import AssetSource, Progress, render_timeline
from jobs.render.errors import RenderCanceled
from jobs.render.presets import PRESETS
from jobs.render.runner import PATHS


class Command(BaseCommand):
    help = "Render a project's timeline to an MP4 file (same renderer as the workers), showing progress."

    def add_arguments(self, parser):
        parser.add_argument("project_id", help="the project's id (UUID)")
        parser.add_argument("--preset", default="draft", choices=sorted(PRESETS))
        parser.add_argument("--out", required=True, type=Path, help="where to write the MP4 (poster: .jpg beside)")
        parser.add_argument("--path", default=None, choices=PATHS, help="render path (default: RENDER_PATH)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, project_id: str, preset: str, out: Path, path: str | None, no_progress: bool,
               **options):
        from django.core.exceptions import ValidationError

        from projects.models import MediaAsset, Project
        from projects.timeline import timeline_asset_ids, timeline_validate

        try:
            project = Project.objects.select_related("owner").get(pk=project_id)
        except (Project.DoesNotExist, ValidationError, ValueError):
            raise CommandError(f"No project with id {project_id!r}.") from None
        try:
            document = timeline_validate(project.timeline, owner=project.owner)
        except CutlineError as exc:
            problems = "\n".join(f"  {item.attr or '-'}: {item.detail}" for item in exc.errors)
            raise CommandError(f"The timeline of {project.name!r} is not valid:\n{problems}") from None

        rows = MediaAsset.objects.filter(owner=project.owner, id__in=timeline_asset_ids(document))
        assets = {
            str(asset.id): AssetSource(
                asset_id=str(asset.id), path=Path(asset.file.path), kind=asset.kind, duration=asset.duration,
                width=asset.width, height=asset.height, fps=asset.fps, has_audio=asset.has_audio, name=asset.name,
            )
            for asset in rows
        }

        bar = tqdm(total=100, unit="%", disable=no_progress, file=self.stderr._out,
                   bar_format="{desc:<9} {percentage:5.1f}%|{bar}| {postfix}")

        def on_progress(progress: Progress) -> None:
            bar.set_description_str(progress.phase)
            eta = f", {progress.eta_seconds:.0f} s left" if progress.eta_seconds is not None else ""
            bar.set_postfix_str(progress.message + eta, refresh=False)
            bar.update(progress.percent - bar.n)

        started = time.monotonic()
        try:
            result = render_timeline(document, assets, preset, out, on_progress=on_progress, path=path)
        except RenderCanceled:
            raise CommandError("The render was canceled.") from None
        except CutlineError as exc:
            raise CommandError(f"{exc.error_code}: {exc.message}") from None
        finally:
            bar.close()
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Rendered {project.name!r} ({preset}, {result.render_path} path) in {elapsed:.1f} s: {result.path}\n"
            f"  {result.width}x{result.height} at {result.fps:g} fps, {result.duration:.2f} s, "
            f"{result.size_bytes} bytes, sha256 {result.sha256}\n"
            f"  poster: {result.poster_path}"
        )
