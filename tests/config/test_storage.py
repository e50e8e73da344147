"""Storage from the environment: local files by default, a real S3 API server (moto, its own process) otherwise."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage

from config.storage import FILE_BACKEND, S3_BACKEND, storage_backend_from_env, storage_fetch, storage_read_range
from jobs.input_cache import input_cache_trim, input_fetch
from tests.factories import sample_file
from tests.projects.test_upload import stored_files, upload


# --- the environment ------------------------------------------------------------------------------------
def test_no_storage_settings_means_local_files(monkeypatch):
    monkeypatch.delenv("STORAGE_URL", raising=False)
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    assert storage_backend_from_env() == {"BACKEND": FILE_BACKEND}


def test_storage_url_names_bucket_prefix_endpoint_and_region(monkeypatch):
    monkeypatch.setenv("STORAGE_URL", "s3://media-bucket/cutline/prod?endpoint_url=http://minio:9000&region=eu-west-1")
    backend = storage_backend_from_env()
    assert backend["BACKEND"] == S3_BACKEND
    options = backend["OPTIONS"]
    assert (options["bucket_name"], options["location"]) == ("media-bucket", "cutline/prod")
    assert (options["endpoint_url"], options["region_name"]) == ("http://minio:9000", "eu-west-1")
    assert options["file_overwrite"] is False


def test_django_storages_names_select_s3_too(monkeypatch):
    monkeypatch.delenv("STORAGE_URL", raising=False)
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", "b1")
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    backend = storage_backend_from_env()
    assert backend["BACKEND"] == S3_BACKEND
    assert backend["OPTIONS"]["endpoint_url"] == "http://127.0.0.1:9000"


@pytest.mark.parametrize("url, words", [
    ("ftp://host/x", "must start with s3:// or file://"),
    ("s3://key:secret@bucket", "must not carry credentials"),
    ("s3://bucket?colour=blue", "unknown option 'colour'"),
    ("file:///srv/media", "takes no path"),
])
def test_a_bad_storage_url_stops_start_up_naming_the_problem(monkeypatch, url, words):
    monkeypatch.setenv("STORAGE_URL", url)
    with pytest.raises(ImproperlyConfigured, match=words):
        storage_backend_from_env()


# --- object storage -------------------------------------------------------------------------------------
def _keys(bucket) -> list[str]:
    return sorted(obj.key for obj in bucket.objects.all())


def test_upload_lands_in_the_bucket_and_nothing_on_local_disk(s3_storage, owner_client, media_root, redis_conn):
    _, bucket = s3_storage
    source = sample_file("video", seconds=1.0, width=160, height=90)
    response = upload(owner_client, source)
    assert response.status_code == 201, response.content
    keys = _keys(bucket)
    assert len(keys) == 3  # the media, its thumbnail, its filmstrip
    assert all(key.startswith("media/assets/") for key in keys)
    assert stored_files(media_root) == []
    body = bucket.Object(f"media/{default_storage_name(response)}").get()["Body"].read()
    assert body == source.read_bytes()


def default_storage_name(response) -> str:
    from projects.models import MediaAsset

    return MediaAsset.objects.get(id=response.json()["id"]).file.name


def test_asset_bytes_stream_from_the_bucket_with_ranges(s3_storage, owner_client, redis_conn):
    source = sample_file("video", seconds=1.0, width=160, height=90)
    asset_id = upload(owner_client, source).json()["id"]
    whole = owner_client.get(f"/api/assets/{asset_id}/file")
    assert whole.status_code == 200
    assert b"".join(whole.streaming_content) == source.read_bytes()
    part = owner_client.get(f"/api/assets/{asset_id}/file", HTTP_RANGE="bytes=100-1099")
    assert part.status_code == 206
    assert b"".join(part.streaming_content) == source.read_bytes()[100:1100]
    assert part["Content-Range"] == f"bytes 100-1099/{source.stat().st_size}"
    assert "127.0.0.1" not in part["Content-Disposition"]


def test_range_reads_ask_the_server_for_only_those_bytes(s3_storage):
    _, bucket = s3_storage
    bucket.put_object(Key="media/blob.bin", Body=bytes(range(256)) * 64)
    chunks = list(storage_read_range(default_storage, "blob.bin", 256, 1000, 300))
    assert [len(c) for c in chunks][:3] == [300, 300, 300]
    assert b"".join(chunks) == (bytes(range(256)) * 64)[256:1256]


def test_fetch_of_a_missing_object_is_file_not_found(s3_storage, tmp_path):
    with pytest.raises(FileNotFoundError):
        storage_fetch(default_storage, "nope.mp4", tmp_path / "fetched" / "x.mp4")
    assert list((tmp_path / "fetched").iterdir()) == []


# --- the worker's input cache ---------------------------------------------------------------------------
@pytest.fixture
def input_cache(settings, tmp_path) -> Path:
    settings.RENDER_INPUT_CACHE_DIR = tmp_path / "input-cache"
    return settings.RENDER_INPUT_CACHE_DIR


def test_inputs_are_fetched_once_per_machine_and_linked_into_scratch(s3_storage, input_cache, tmp_path):
    _, bucket = s3_storage
    data = b"frame data " * 5000
    digest = hashlib.sha256(data).hexdigest()
    bucket.put_object(Key="media/assets/a.mp4", Body=data)
    first = input_fetch(name="assets/a.mp4", sha256=digest, suffix=".mp4", destination=tmp_path / "w1" / "in.mp4")
    assert first.read_bytes() == data
    bucket.Object("media/assets/a.mp4").delete()  # the second render must not need the bucket
    second = input_fetch(name="assets/a.mp4", sha256=digest, suffix=".mp4", destination=tmp_path / "w2" / "in.mp4")
    assert second.read_bytes() == data
    assert (input_cache / f"{digest}.mp4").stat().st_nlink == 3  # cache entry + two scratch links


def test_cache_evicts_least_recently_used_inputs_past_its_limit(s3_storage, input_cache, tmp_path):
    import os

    _, bucket = s3_storage
    digests = []
    for index in range(3):
        data = bytes([index]) * 10_000
        digests.append(hashlib.sha256(data).hexdigest())
        bucket.put_object(Key=f"media/in{index}.wav", Body=data)
        input_fetch(name=f"in{index}.wav", sha256=digests[-1], suffix=".wav", destination=tmp_path / f"{index}.wav")
        os.utime(input_cache / f"{digests[-1]}.wav", (1000 + index, 1000 + index))
    assert input_cache_trim(limit_bytes=25_000) == 1
    assert sorted(p.name for p in input_cache.iterdir()) == sorted(f"{d}.wav" for d in digests[1:])
    assert (tmp_path / "0.wav").read_bytes() == bytes([0]) * 10_000  # a running render keeps its link


def test_local_storage_inputs_are_used_in_place(media_root, tmp_path, input_cache):
    (media_root / "assets").mkdir()
    (media_root / "assets" / "x.mp4").write_bytes(b"abc")
    path = input_fetch(name="assets/x.mp4", sha256="0" * 64, suffix=".mp4", destination=tmp_path / "in.mp4")
    assert path == media_root / "assets" / "x.mp4"
    assert not input_cache.exists()


# --- presigned downloads (STORAGE_PRESIGNED_DOWNLOADS) ---------------------------------------------------
def test_presigned_download_redirects_to_the_bucket_which_serves_the_same_bytes_and_ranges(
        s3_storage, owner_client, settings, redis_conn):
    import httpx

    settings.STORAGE_PRESIGNED_DOWNLOADS = True
    source = sample_file("video", seconds=1.0, width=160, height=90)
    asset_id = upload(owner_client, source).json()["id"]
    answer = owner_client.get(f"/api/assets/{asset_id}/file")
    assert answer.status_code == 302
    location = answer["Location"]
    assert location.startswith(settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])
    whole = httpx.get(location)
    assert whole.status_code == 200
    assert whole.content == source.read_bytes()
    assert whole.headers["content-type"] == "video/mp4"
    part = httpx.get(location, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.content == source.read_bytes()[100:1100]
    thumbnail = owner_client.get(f"/api/assets/{asset_id}/thumbnail")
    assert thumbnail.status_code == 302
    picture = httpx.get(thumbnail["Location"]).content
    assert picture.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"))


def test_presigned_download_is_authorized_like_a_streamed_one(s3_storage, owner_client, client, stranger,
                                                              settings, redis_conn):
    settings.STORAGE_PRESIGNED_DOWNLOADS = True
    asset_id = upload(owner_client, sample_file("video", seconds=1.0, width=160, height=90)).json()["id"]
    client.force_login(stranger)
    refused = client.get(f"/api/assets/{asset_id}/file")
    assert refused.status_code == 404
    assert "Location" not in refused


@pytest.mark.parametrize("signature_version", ["s3", "s3v4"])
def test_presigned_download_url_is_signed_to_expire_after_the_setting(s3_storage, owner_client, settings,
                                                                        signature_version, redis_conn):
    """The URL's lifetime is part of what is signed (SigV2 `Expires`, SigV4 `X-Amz-Date` + `X-Amz-Expires`).

    moto's server does not refuse an expired URL (S3, MinIO and other servers do), so what is checked here
    is the signed lifetime, and that the URL is good while it lasts."""
    import time
    from datetime import UTC, datetime
    from urllib.parse import parse_qs, urlparse

    import httpx

    settings.STORAGES = {**settings.STORAGES, "default": {
        **settings.STORAGES["default"],
        "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "signature_version": signature_version}}}
    settings.STORAGE_PRESIGNED_DOWNLOADS = True
    settings.STORAGE_PRESIGNED_EXPIRY = 90
    source = sample_file("video", seconds=1.0, width=160, height=90)
    asset_id = upload(owner_client, source).json()["id"]
    before = time.time()
    location = owner_client.get(f"/api/assets/{asset_id}/file")["Location"]
    query = {key: values[0] for key, values in parse_qs(urlparse(location).query).items()}
    if signature_version == "s3":
        expires_at = int(query["Expires"])
    else:
        signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
        expires_at = signed_at + int(query["X-Amz-Expires"])
    assert before + 90 - 2 <= expires_at <= time.time() + 90 + 1
    assert httpx.get(location).content == source.read_bytes()


def test_without_the_setting_object_storage_downloads_stream_through_the_web_process(s3_storage, owner_client,
                                                                                       redis_conn):
    asset_id = upload(owner_client, sample_file("video", seconds=1.0, width=160, height=90)).json()["id"]
    answer = owner_client.get(f"/api/assets/{asset_id}/file")
    assert answer.status_code == 200
    assert "Location" not in answer
