"""The segment cache's namespaces: bench_render's own cache beside the deployment's, in the test settings' real
storage (this test's MEDIA_ROOT) and Redis."""

from __future__ import annotations

import pytest
from rq.job import Job

from jobs.management.commands._bench_segments import bench_cache_clear, bench_segment_cache
from jobs.render import segment_cache
from jobs.services import parts
from jobs.services.queue import render_queue

pytestmark = pytest.mark.usefixtures("redis_conn")

DEPLOYMENT_KEY = "aa" + "1" * 62
BENCH_KEY = "bb" + "2" * 62


@pytest.fixture
def cache_on(settings):
    settings.RENDER_SEGMENT_CACHE_MB = 256


def put(key: str, tmp_path, payload: bytes) -> None:
    source = tmp_path / f"{key}.mp4"
    source.write_bytes(payload)  # the cache stores bytes by key; what they encode does not matter here
    segment_cache.cache_put(key, source)


def assert_deployment_entry_intact(redis_conn, tmp_path) -> None:
    fetched = tmp_path / "fetched.mp4"
    assert segment_cache.cache_get(DEPLOYMENT_KEY, fetched)
    assert fetched.read_bytes() == b"deployment segment"
    assert redis_conn.zscore("cutline:segment-cache:used", DEPLOYMENT_KEY) is not None
    assert redis_conn.hget("cutline:segment-cache:size", DEPLOYMENT_KEY) == b"18"


def test_what_the_bench_clears_leaves_the_deployments_cached_segments(cache_on, redis_conn, tmp_path):
    put(DEPLOYMENT_KEY, tmp_path, b"deployment segment")
    with bench_segment_cache():
        assert not segment_cache.cache_has(DEPLOYMENT_KEY)  # the bench's renders start cold
        put(BENCH_KEY, tmp_path, b"bench segment")
        assert segment_cache.cache_has(BENCH_KEY)

        bench_cache_clear()

        assert not segment_cache.cache_has(BENCH_KEY)
    assert_deployment_entry_intact(redis_conn, tmp_path)
    assert not segment_cache.cache_has(BENCH_KEY)


def test_the_bench_leaves_none_of_its_own_entries_behind(cache_on, redis_conn, tmp_path, media_root):
    put(DEPLOYMENT_KEY, tmp_path, b"deployment segment")
    with bench_segment_cache() as name:
        put(BENCH_KEY, tmp_path, b"bench segment")
        assert redis_conn.exists(f"cutline:segment-cache:{name}:used", f"cutline:segment-cache:{name}:size") == 2
    assert sorted(path.name for path in (media_root / "render-cache").iterdir()) == ["segments"]
    assert not redis_conn.keys(f"cutline:segment-cache:{name}:*")
    assert_deployment_entry_intact(redis_conn, tmp_path)


def test_the_bench_clear_refuses_to_run_on_the_deployments_cache(cache_on, redis_conn, tmp_path):
    put(DEPLOYMENT_KEY, tmp_path, b"deployment segment")
    with pytest.raises(RuntimeError, match="only its own segment cache"):
        bench_cache_clear()
    assert_deployment_entry_intact(redis_conn, tmp_path)


def test_the_bench_caches_eviction_counts_only_its_own_entries(cache_on, redis_conn, tmp_path):
    put(DEPLOYMENT_KEY, tmp_path, b"deployment segment")
    with bench_segment_cache():
        put(BENCH_KEY, tmp_path, b"bench segment")
        assert segment_cache.cache_evict(limit_bytes=0) == 1
        assert not segment_cache.cache_has(BENCH_KEY)
    assert_deployment_entry_intact(redis_conn, tmp_path)


def test_a_namespace_name_that_is_not_a_plain_word_is_refused():
    for name in ("../segments", "Bench", "a/b", "-x"):
        with pytest.raises(ValueError, match="namespace"):
            with segment_cache.cache_namespace(name):
                pass


def test_a_part_queued_by_the_bench_carries_its_cache_and_looks_there(cache_on, tmp_path):
    with bench_segment_cache() as name:
        with parts.parts_for("benchparent", job_row=False):
            parts.parts_enqueue("benchparent", [{"index": 1, "key": BENCH_KEY, "plan": "{}", "encoder": [],
                                                 "frames": 30}])
            job = Job.fetch("benchparent-part1", connection=render_queue().connection)
        assert job.kwargs["cache_namespace"] == name
        put(BENCH_KEY, tmp_path, b"bench segment")
        with segment_cache.cache_namespace(""):  # a worker: the deployment's cache unless the part names one
            assert not segment_cache.cache_has(BENCH_KEY)
            # The part finds its segment in the bench's cache, so it never encodes it (nor reads its plan).
            assert parts.part_render(**{**job.kwargs, "parent": "another"}) == "cached"


def test_a_part_of_a_deployment_job_carries_no_cache_namespace(cache_on):
    with parts.parts_for("jobparent", job_row=False):
        parts.parts_enqueue("jobparent", [{"index": 1, "key": DEPLOYMENT_KEY, "plan": "{}", "encoder": [],
                                           "frames": 30}])
        job = Job.fetch("jobparent-part1", connection=render_queue().connection)
    assert "cache_namespace" not in job.kwargs
