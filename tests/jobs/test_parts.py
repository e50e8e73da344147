"""Segment-parallel renders (jobs.services.parts) with real rqworker processes taking the parts.

The parent render runs in this test process inside `parts_for(job id)`, as a worker's job_render runs it;
the parts go through the real `render` queue to a real worker and come back through the segment cache.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings

from jobs.render import render_timeline, segment_cache
from jobs.render.compiler import plan_compile
from jobs.render.errors import RenderCanceled
from jobs.render.media import media_check
from jobs.render.quality import average_psnr, probe
from jobs.render.segments import segments_plan, video_encoder_args
from jobs.services import parts
from jobs.services.queue import render_queue
from tests.jobs.conftest import encoder_pids, session_pids
from tests.jobs.render.conftest import timeline, video

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db", "redis_conn")]

PART_ENV = {"RENDER_SEGMENT_SECONDS": "1", "RENDER_PARTS_MIN_SECONDS": "0", "RENDER_SEGMENT_CACHE_MB": "256"}


@pytest.fixture
def out_dir(tmp_path):
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


@pytest.fixture
def fanning(settings, scratch):
    settings.RENDER_SEGMENT_SECONDS = 1.0
    settings.RENDER_PARTS_MIN_SECONDS = 0.0
    settings.RENDER_SEGMENT_CACHE_MB = 256
    settings.RENDER_PARTS = True
    segment_cache.cache_clear()
    yield
    segment_cache.cache_clear()


def document() -> dict:
    # 640x360 so that a part's encode lasts long enough to be caught (and killed) in the middle.
    return {**timeline({"id": "v1", "kind": "video", "clips": [
        {"id": "c1", "asset_id": "a", "start": 0.0, "in": 0.0, "out": 6.0}]}, width=640, height=360)}


def assets():
    # rgbtestsrc at another size than the output: no smart render, every frame encoded.
    return {"a": video("a", seconds=6.0, width=480, height=270, source="testsrc2")}


def part_claims() -> dict[str, str]:
    conn = redis.Redis.from_url(django_settings.REDIS_URL)
    found = {}
    for key in conn.scan_iter("cutline:part-claim:*"):
        value = conn.get(key)
        if value:
            found[key.decode()] = value.decode()
    return found


def wait_for(predicate, timeout: float = 60.0, step: float = 0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


class Parent(threading.Thread):
    """The job's own render, in a thread, fanned out as job `job_id`."""

    def __init__(self, out, cancel: threading.Event | None = None) -> None:
        super().__init__(daemon=True)
        self.job_id = str(uuid.uuid4())
        self.out = out
        self.cancel = cancel or threading.Event()
        self.result = None
        self.error: BaseException | None = None
        self.messages: list[str] = []

    def run(self) -> None:
        try:
            with parts.parts_for(self.job_id):
                self.result = render_timeline(document(), assets(), "project", self.out, path="segmented",
                                              should_cancel=self.cancel.is_set,
                                              on_progress=lambda p: self.messages.append(p.message))
        except BaseException as exc:
            self.error = exc


def test_a_part_whose_worker_is_killed_is_encoded_again_and_the_render_completes(fanning, processes, scratch,
                                                                                    out_dir):
    assets()  # media generated before the clock starts
    worker = processes.worker(**PART_ENV)
    parent = Parent(out_dir / "x.mp4")
    parent.start()
    # A part running on the worker: its claim is held by a "part:" owner.
    wait_for(lambda: any(v.startswith("part:") for v in part_claims().values()), timeout=120, step=0.005)
    # SIGKILL the worker, its work horse and the part's encoder (not the parent's, which also works here).
    part_dirs = Path(django_settings.RENDER_WORK_DIR) / f"{parent.job_id}.part"
    for pid in session_pids(worker.pid) + encoder_pids(part_dirs):
        with contextlib.suppress(ProcessLookupError):  # ended between the listing and the kill
            os.kill(pid, signal.SIGKILL)
    parent.join(timeout=180)
    assert not parent.is_alive()
    assert parent.error is None, parent.error
    facts = probe(parent.result.path)
    assert facts.frames == 180
    reference = render_timeline(document(), assets(), "project", out_dir / "ref.mp4", path="ffmpeg")
    assert average_psnr(parent.result.path, reference.path) >= 35.0
    percents = [m for m in parent.messages if m.startswith("Encoding frame")]
    assert percents  # progress kept coming while the part was lost


def test_cancel_of_a_fanned_out_render_stops_every_part_and_leaves_no_process_or_file(fanning, processes,
                                                                                       scratch, out_dir):
    assets()
    worker = processes.worker(**PART_ENV)
    parent = Parent(out_dir / "x.mp4")
    parent.start()
    wait_for(lambda: any(v.startswith("part:") for v in part_claims().values()), timeout=120, step=0.005)
    parent.cancel.set()
    parent.join(timeout=60)
    assert isinstance(parent.error, RenderCanceled)
    work_dir = django_settings.RENDER_WORK_DIR

    def nothing_left() -> bool:
        return (not encoder_pids(scratch) and not list(work_dir.glob(f"{parent.job_id}.part*"))
                and not list(out_dir.glob(".render-*")) and not part_claims())

    wait_for(nothing_left, timeout=20, step=0.1)
    queued = [j for j in render_queue().get_job_ids() if j.startswith(parent.job_id)]
    assert queued == []
    assert worker.alive()  # the worker itself lives on, ready for the next job
    assert len(session_pids(worker.pid)) >= 1


def test_the_scratch_tidy_removes_a_dead_parts_directory_once_its_job_is_not_running(settings, tmp_path):
    from jobs.services.recovery import work_dirs_tidy

    settings.RENDER_WORK_DIR = tmp_path
    orphan = tmp_path / f"{uuid.uuid4()}.part3"
    orphan.mkdir()
    (orphan / "segment.mp4").write_bytes(b"half a segment")
    assert work_dirs_tidy() == 1
    assert not orphan.exists()


# --- the x264 threads of a shared segment's encoder ---

# x264 writes its settings into every stream it encodes, as clear text in an SEI message:
# "x264 - core 164 r3108 ... - options: cabac=1 ref=1 ... threads=1 lookahead_threads=1 sliced_threads=0 ...".
X264_THREADS = re.compile(rb"x264 - core \d+[^\x00]*? threads=(\d+) ")
PLAN_THREADS = 3  # RENDER_THREADS here: neither part count below, so a part encoder falling back to it shows


def x264_threads(path: Path) -> list[int]:
    """The `threads=` of each x264 encode in the file, in order (a join of segments holds one per segment)."""
    return [int(n) for n in X264_THREADS.findall(path.read_bytes())]


def small_document() -> dict:
    return timeline({"id": "v1", "kind": "video", "clips": [
        {"id": "c1", "asset_id": "a", "start": 0.0, "in": 0.0, "out": 2.0}]}, width=160, height=90)


def small_assets():
    # Another size than the output: every frame is encoded here, none of the source's own x264 stream is kept.
    return {"a": video("a", seconds=2.0, width=192, height=108, source="testsrc", tone_hz=None)}


@pytest.mark.parametrize("part_threads", [1, 2])
def test_a_part_encodes_its_segment_with_render_part_threads(fanning, settings, tmp_path, part_threads):
    settings.RENDER_THREADS = PLAN_THREADS
    settings.RENDER_PART_THREADS = part_threads
    document, assets = small_document(), small_assets()
    plan = plan_compile(document, assets, media_check(document, assets), "project", text_dir=tmp_path,
                        threads=settings.RENDER_THREADS)
    segment = segments_plan(plan)[1]
    # The part exactly as a worker's render_part task runs it for a parent job without a row.
    outcome = parts.part_render(parent=str(uuid.uuid4()), index=1, key=segment.key, plan=segment.plan.to_json(),
                                encoder=video_encoder_args(plan), frames=segment.frames, job_row=False)
    assert outcome == "encoded"
    encoded = tmp_path / "part.mp4"
    assert segment_cache.cache_get(segment.key, encoded)
    assert x264_threads(encoded) == [part_threads]


@pytest.mark.parametrize("part_threads", [1, 2])
def test_a_job_sharing_its_segments_encodes_them_with_render_part_threads_and_alone_with_render_threads(
        fanning, settings, out_dir, part_threads):
    settings.RENDER_THREADS = PLAN_THREADS
    settings.RENDER_PART_THREADS = part_threads
    settings.RENDER_SMART = False
    document, assets = small_document(), small_assets()
    # No worker takes the queued parts, so the job's own worker encodes both segments, as one of the encoders
    # sharing them.
    with parts.parts_for(uuid.uuid4(), job_row=False):
        shared = render_timeline(document, assets, "project", out_dir / "shared.mp4", path="segmented")
    segment_cache.cache_clear()
    alone = render_timeline(document, assets, "project", out_dir / "alone.mp4", path="segmented")
    assert x264_threads(shared.path) == [part_threads, part_threads]
    assert x264_threads(alone.path) == [PLAN_THREADS, PLAN_THREADS]


FRAME = re.compile(r"Encoding frame (\d+) of")


def test_two_renders_in_one_process_each_count_their_own_parts_progress(fanning, settings, out_dir, tmp_path):
    settings.RENDER_SMART = False
    document, assets = small_document(), small_assets()
    plan = plan_compile(document, assets, media_check(document, assets), "project", text_dir=tmp_path,
                        threads=settings.RENDER_THREADS)
    segments = segments_plan(plan)
    # Another worker holds every segment: both renders fan out, then wait, counting their parts' progress.
    for segment in segments:
        assert parts.claim(segment.key, "elsewhere")
    conn = redis.Redis.from_url(django_settings.REDIS_URL)
    extra = {"A": 5, "B": 11}
    jobs = {name: str(uuid.uuid4()) for name in extra}
    messages: dict[str, list[str]] = {name: [] for name in extra}
    errors: list[BaseException] = []

    def render(name: str) -> None:
        try:
            with parts.parts_for(jobs[name], job_row=False):
                render_timeline(document, assets, "project", out_dir / f"{name}.mp4", path="segmented",
                                on_progress=lambda p: messages[name].append(p.message))
        except BaseException as exc:
            errors.append(exc)

    def frames(name: str) -> set[int]:
        return {int(m.group(1)) for m in map(FRAME.match, list(messages[name])) if m}

    threads = [threading.Thread(target=render, args=(name,), daemon=True) for name in extra]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: all(conn.exists(parts._queued_key(job)) for job in jobs.values()), timeout=30)
        for name, job in jobs.items():
            conn.hset(parts._progress_key(job), segments[-1].key, extra[name])
        wait_for(lambda: all(frames(name) - {0} for name in extra), timeout=20, step=0.05)
        for name, n in extra.items():
            assert frames(name) - {0} == {n}, f"render {name} counted another job's parts"
    finally:
        for segment in segments:
            parts.claim_release(segment.key, "elsewhere")
        for thread in threads:
            thread.join(timeout=60)
    assert not errors
    assert all((out_dir / f"{name}.mp4").stat().st_size > 0 for name in extra)
