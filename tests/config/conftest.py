"""The job fixtures (real media, projects, worker processes) for the metrics tests."""

from tests.jobs.conftest import clip_path, make_project, processes, scratch, video_asset  # noqa: F401
