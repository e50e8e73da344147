"""Resumable uploads over tus 1.0: the protocol's answers, and a client nobody here wrote (tuspy) on a real server."""

from __future__ import annotations

import base64
import hashlib
import socket
from urllib.parse import urlparse

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from projects.models import MediaAsset
from projects.tus.models import ResumableUpload
from tests.factories import sample_file

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


@pytest.fixture(autouse=True)
def empty_probe_cache(redis_conn):
    cache.clear()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def create(client, length: int, filename: str = "clip.mp4", **extra):
    return client.post("/api/uploads/", HTTP_UPLOAD_LENGTH=str(length),
                       HTTP_UPLOAD_METADATA=f"filename {_b64(filename)},name {_b64('My clip')}", **TUS, **extra)


def patch(client, url: str, offset: int, data: bytes, **extra):
    return client.generic("PATCH", url, data, content_type="application/offset+octet-stream",
                          HTTP_UPLOAD_OFFSET=str(offset), **TUS, **extra)


def test_options_announces_version_extensions_and_limits(client):
    response = client.options("/api/uploads/")
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {"creation", "termination", "checksum"}
    assert int(response["Tus-Max-Size"]) > 0
    assert "sha1" in response["Tus-Checksum-Algorithm"]


def test_chunks_in_order_make_an_asset_with_the_given_name(owner_client, owner):
    source = sample_file("video", seconds=1.0, width=160, height=90)
    data = source.read_bytes()
    created = create(owner_client, len(data))
    assert created.status_code == 201, created.content
    assert created["Tus-Resumable"] == "1.0.0"
    url = urlparse(created["Location"]).path
    offset = 0
    for start in range(0, len(data), 7000):
        response = patch(owner_client, url, offset, data[start:start + 7000])
        assert response.status_code == 204, response.content
        offset = int(response["Upload-Offset"])
    asset = MediaAsset.objects.get(id=response["Cutline-Asset-Id"])
    assert (asset.owner, asset.name, asset.sha256) == (owner, "My clip", hashlib.sha256(data).hexdigest())
    assert owner_client.head(url, **TUS)["Upload-Offset"] == str(len(data))


def test_a_patch_at_the_wrong_offset_is_409_and_changes_nothing(owner_client):
    url = urlparse(create(owner_client, 100)["Location"]).path
    assert patch(owner_client, url, 0, b"x" * 10).status_code == 204
    response = patch(owner_client, url, 0, b"y" * 10)
    assert response.status_code == 409
    assert response.json()["code"] == "UPLOAD_OFFSET_CONFLICT"
    assert response.json()["errors"][0]["attr"] == "Upload-Offset"
    assert owner_client.head(url, **TUS)["Upload-Offset"] == "10"


def test_a_chunk_whose_checksum_does_not_match_is_460_and_not_stored(owner_client):
    url = urlparse(create(owner_client, 100)["Location"]).path
    wrong = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    response = patch(owner_client, url, 0, b"x" * 10, HTTP_UPLOAD_CHECKSUM=f"sha1 {wrong}")
    assert response.status_code == 460
    assert response.json()["code"] == "CHECKSUM_MISMATCH"
    right = base64.b64encode(hashlib.sha1(b"x" * 10).digest()).decode()
    assert patch(owner_client, url, 0, b"x" * 10, HTTP_UPLOAD_CHECKSUM=f"sha1 {right}")["Upload-Offset"] == "10"


def test_unsupported_checksum_algorithm_is_400_naming_the_header(owner_client):
    url = urlparse(create(owner_client, 100)["Location"]).path
    response = patch(owner_client, url, 0, b"x", HTTP_UPLOAD_CHECKSUM="crc32 AAAA")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "Upload-Checksum"


def test_requests_without_tus_resumable_are_412(owner_client):
    response = owner_client.post("/api/uploads/", HTTP_UPLOAD_LENGTH="10")
    assert response.status_code == 412
    assert response["Tus-Version"] == "1.0.0"


def test_a_chunk_with_the_wrong_content_type_is_415(owner_client):
    url = urlparse(create(owner_client, 100)["Location"]).path
    response = owner_client.generic("PATCH", url, b"x", content_type="text/plain", HTTP_UPLOAD_OFFSET="0", **TUS)
    assert response.status_code == 415


def test_too_long_uploads_and_chunks_are_413(owner_client, settings):
    settings.MEDIA_MAX_UPLOAD_MB = 1
    settings.UPLOAD_MAX_CHUNK_MB = 1
    assert create(owner_client, 2 * 1024 * 1024).status_code == 413
    url = urlparse(create(owner_client, 1024 * 1024)["Location"]).path
    response = patch(owner_client, url, 0, b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413


def test_missing_upload_length_is_400_naming_the_header(owner_client):
    response = owner_client.post("/api/uploads/", **TUS)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "Upload-Length"


def test_termination_removes_the_upload_and_its_parts(owner_client, media_root, django_capture_on_commit_callbacks):
    url = urlparse(create(owner_client, 100)["Location"]).path
    patch(owner_client, url, 0, b"x" * 40)
    assert any(p.is_file() for p in media_root.rglob("*"))
    with django_capture_on_commit_callbacks(execute=True):
        assert owner_client.delete(url, **TUS).status_code == 204
    assert owner_client.head(url, **TUS).status_code == 404
    assert not any(p.is_file() for p in media_root.rglob("*"))
    assert ResumableUpload.objects.count() == 0


def test_another_users_upload_is_404(owner_client, stranger_client):
    url = urlparse(create(owner_client, 100)["Location"]).path
    assert stranger_client.head(url, **TUS).status_code == 404
    assert patch(stranger_client, url, 0, b"x").status_code == 404
    assert stranger_client.delete(url, **TUS).status_code == 404


def test_unauthenticated_creation_is_401(client):
    assert create(client, 10).status_code == 401


def test_an_unreadable_file_ends_the_upload_with_400_and_leaves_nothing(owner_client, media_root,
                                                                        django_capture_on_commit_callbacks):
    data = b"not a video at all" * 100
    url = urlparse(create(owner_client, len(data))["Location"]).path
    with django_capture_on_commit_callbacks(execute=True):
        response = patch(owner_client, url, 0, data)
    assert response.status_code == 400
    assert response.json()["code"] == "MEDIA_UNREADABLE"
    assert not any(p.is_file() for p in media_root.rglob("*"))
    assert ResumableUpload.objects.count() == 0


# --- tuspy against a real daphne, storage on the S3 server ---------------------------------------------------
def _drop_mid_chunk(base_url: str, path: str, token: str, offset: int, declared: int, sent: bytes) -> None:
    """A PATCH whose connection dies after part of its body: what a lost network looks like to the server."""
    host = urlparse(base_url)
    with socket.create_connection((host.hostname, host.port), timeout=5) as sock:
        head = (f"PATCH {path} HTTP/1.1\r\nHost: {host.netloc}\r\nAuthorization: Token {token}\r\n"
                f"Tus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\n"
                f"Content-Type: application/offset+octet-stream\r\nContent-Length: {declared}\r\n\r\n")
        sock.sendall(head.encode() + sent)


def test_tuspy_upload_interrupted_and_resumed_lands_in_object_storage(s3_storage, live_server_url, owner, tmp_path):
    from tusclient import client as tus

    _, bucket = s3_storage
    token = Token.objects.create(user=owner).key
    source = sample_file("video", seconds=3.0, width=320, height=180)
    data = source.read_bytes()
    chunk = 64 * 1024
    tus_client = tus.TusClient(f"{live_server_url}/api/uploads/", headers={"Authorization": f"Token {token}"})
    first = tus_client.uploader(str(source), chunk_size=chunk, metadata={"filename": "holiday.mp4"},
                                upload_checksum=True)
    first.upload(stop_at=2 * chunk)
    path = urlparse(first.url).path
    _drop_mid_chunk(live_server_url, path, token, first.offset, chunk, data[first.offset:first.offset + 1000])

    resumed = tus_client.uploader(str(source), url=first.url, chunk_size=chunk, upload_checksum=True)
    assert resumed.offset == 2 * chunk  # asked the server (HEAD); the dropped chunk left nothing behind
    resumed.upload()

    upload = ResumableUpload.objects.get(id=path.rstrip("/").rsplit("/", 1)[-1])
    asset = MediaAsset.objects.get(id=upload.asset_id)
    assert asset.sha256 == hashlib.sha256(data).hexdigest()
    keys = [obj.key for obj in bucket.objects.all()]
    assert f"media/{asset.file.name}" in keys
    assert not [key for key in keys if "/uploads/" in key or key.startswith("media/uploads/")]
    import httpx

    got = httpx.get(f"{live_server_url}/api/assets/{asset.id}/file", headers={"Authorization": f"Token {token}"})
    assert got.status_code == 200
    assert hashlib.sha256(got.content).hexdigest() == asset.sha256


def test_unfinished_uploads_untouched_for_a_day_are_removed_by_the_sweeper(owner_client, media_root,
                                                                           django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from jobs import services

    stale = urlparse(create(owner_client, 100)["Location"]).path
    fresh = urlparse(create(owner_client, 100)["Location"]).path
    patch(owner_client, stale, 0, b"x" * 10)
    ResumableUpload.objects.filter(id=stale.rsplit("/", 1)[-1]).update(
        updated_at=timezone.now() - timedelta(hours=25))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sweep_run(purge=True)["uploads_expired"] == 1
    assert owner_client.head(stale, **TUS).status_code == 404
    assert owner_client.head(fresh, **TUS).status_code == 200
    assert not any(p.is_file() for p in media_root.rglob("*"))
