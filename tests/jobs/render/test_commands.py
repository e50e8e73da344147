"""The operator commands: render_timeline (a project's timeline to a file) and bench_render."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from jobs.render import segment_cache
from jobs.render.quality import probe
from tests.factories import ProjectFactory, timeline_using, video_asset


@pytest.mark.django_db
def test_render_timeline_renders_a_project_to_the_given_file_with_a_progress_bar(owner, tmp_path):
    clip = video_asset(owner, seconds=1.0)
    project = ProjectFactory(owner=owner, timeline=timeline_using(video=clip, title="Hi", width=320, height=180))
    out, err = io.StringIO(), io.StringIO()
    call_command("render_timeline", str(project.id), "--preset", "draft", "--out", str(tmp_path / "film.mp4"),
                 stdout=out, stderr=err)
    facts = probe(tmp_path / "film.mp4")
    assert (facts.width, facts.height) == (640, 360)
    assert facts.duration == pytest.approx(1.0, abs=1 / 30)
    assert (tmp_path / "film.jpg").exists()
    assert "Rendered" in out.getvalue() and "ffmpeg path" in out.getvalue()
    assert "ENCODE" in err.getvalue() and "100.0%" in err.getvalue()


@pytest.mark.django_db
def test_render_timeline_explains_an_invalid_timeline(owner, tmp_path):
    project = ProjectFactory(owner=owner, timeline={"schema": 1, "output": {"width": 0}, "tracks": "nope"})
    with pytest.raises(CommandError, match="not valid"):
        call_command("render_timeline", str(project.id), "--out", str(tmp_path / "x.mp4"), stderr=io.StringIO())


def test_bench_render_prints_its_summary_line_last(tmp_path):
    out = io.StringIO()
    call_command("bench_render", "--runs", "1", "--size", "320x180", "--seconds", "3", "--workdir", str(tmp_path),
                 stdout=out, stderr=io.StringIO())
    lines = out.getvalue().strip().splitlines()
    reference = [i for i, line in enumerate(lines) if re.fullmatch(
        r"render_vs_ffmpeg=\d+\.\d+ moviepy_vs_ffmpeg=\d+\.\d+ cutline_s=\d+\.\d+ ffmpeg_s=\d+\.\d+ psnr_db=\d+\.\d+",
        line,
    )]
    assert reference, lines
    # The peer (MLT's melt, `make bench-deps`) comes just before the reference summary, or says it is missing.
    peers = lines[reference[0] - 1]
    assert re.fullmatch(r"peers=melt:\d+\.\d+ melt_cpu=\d+\.\d+ melt_s=\d+\.\d+ melt_psnr_db=\d+\.\d+", peers) \
        or peers == "peers=melt:unavailable (make bench-deps)", peers
    summary = r"v2_vs_ffmpeg=\d+\.\d+ v2_moviepy_vs_ffmpeg=\d+\.\d+ clips48_peak_mib=\d+"
    assert re.fullmatch(summary, lines[-1]), lines[-1]


def test_bench_render_prints_the_smart_render_and_cache_lines(tmp_path, media_root, redis_conn):
    # A segment the deployment's workers cached: the bench empties only its own cache, and leaves nothing.
    kept = tmp_path / "kept.mp4"
    kept.write_bytes(b"a segment some job encoded")
    segment_cache.cache_put("ab" + "0" * 62, kept)
    out = io.StringIO()
    for part in ("cuts", "rerender"):
        call_command("bench_render", "--only", part, "--runs", "1", "--edit-seconds", "8", "--segments-size",
                     "320x180", "--workdir", str(tmp_path), stdout=out, stderr=io.StringIO())
    lines = out.getvalue().strip().splitlines()
    assert any(re.fullmatch(r"cuts_vs_reencode=\d+\.\d+ load_average=.*", line) for line in lines), lines
    assert re.fullmatch(r"rerender_vs_first=\d+\.\d+ load_average=.*", lines[-1]), lines[-1]
    assert any("frames stream-copied" in line for line in lines), lines
    assert segment_cache.cache_get("ab" + "0" * 62, tmp_path / "fetched.mp4")
    assert (tmp_path / "fetched.mp4").read_bytes() == b"a segment some job encoded"
    assert [path.name for path in (media_root / "render-cache").iterdir()] == ["segments"]
    assert not redis_conn.keys("cutline:segment-cache:bench-*")
