"""Uploading media: real generated files are probed and stored; hostile ones are refused and leave nothing behind."""

from __future__ import annotations

import hashlib
import os
import socket
from pathlib import Path

import pytest
from django.core.cache import cache

from projects.errors import MediaUnreadable
from projects.models import MediaAsset
from projects.probe import _run_ffprobe, neutral_path
from tests.conftest import token_client
from tests.factories import sample_file


@pytest.fixture(autouse=True)
def empty_probe_cache(redis_conn):
    """The probe cache lives in this test run's Redis database; start every test without it."""
    cache.clear()


@pytest.fixture
def upload_tmp(settings, tmp_path):
    """Django's temporary upload files go here, so a test can see that none is left over."""
    directory = tmp_path / "upload-tmp"
    directory.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(directory)
    return directory


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def upload(client, path: Path, name: str | None = None, **extra):
    with open(path, "rb") as handle:
        data = {"file": handle}
        if name is not None:
            data["name"] = name
        return client.post("/api/assets/", data, format="multipart", **extra)


def assert_refused(response, media_root: Path, *, status: int = 400, code: str = "MEDIA_UNREADABLE") -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["errors"][0]["attr"] == "file"
    assert stored_files(media_root) == []
    assert MediaAsset.objects.count() == 0
    return body


# --- accepted --------------------------------------------------------------------------------------------
def test_video_upload_is_probed_and_stored_under_a_generated_name(owner_client, media_root):
    source = sample_file("video", seconds=2.0)

    response = upload(owner_client, source, name="My Holiday.mp4")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "My Holiday.mp4"
    assert body["kind"] == "video"
    assert body["container"] == "mp4"
    assert body["content_type"] == "video/mp4"
    assert body["duration"] == pytest.approx(2.0, abs=0.05)
    assert (body["width"], body["height"], body["fps"]) == (320, 180, 30.0)
    assert body["has_audio"] is True
    assert (body["video_codec"], body["audio_codec"]) == ("h264", "aac")
    assert body["size_bytes"] == source.stat().st_size
    assert body["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert body["file_url"] == f"/api/assets/{body['id']}/file"
    assert body["thumbnail_url"] == f"/api/assets/{body['id']}/thumbnail"
    assert body["filmstrip_url"] == f"/api/assets/{body['id']}/filmstrip"
    assert body["filmstrip_frames"] == 10
    assert response["Location"] == f"/api/assets/{body['id']}"
    names = [path.name for path in stored_files(media_root)]
    assert len(names) == 3  # the media, its thumbnail, its filmstrip
    assert not any("Holiday" in name for name in names)


def test_audio_upload_gets_a_waveform_thumbnail_and_no_filmstrip(owner_client):
    response = upload(owner_client, sample_file("audio", seconds=2.0))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["container"], body["audio_codec"]) == ("audio", "wav", "pcm_s16le")
    assert body["duration"] == pytest.approx(2.0, abs=0.05)
    assert body["width"] is None and body["has_audio"] is True
    assert body["thumbnail_url"] and body["filmstrip_url"] is None and body["filmstrip_frames"] == 0


def test_image_upload_has_a_size_and_no_duration(owner_client):
    response = upload(owner_client, sample_file("image"), name="bars.png")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["container"], body["width"], body["height"]) == ("image", "png", 320, 180)
    assert body["duration"] is None and body["has_audio"] is False


def test_the_uploaded_file_name_is_the_default_name(owner_client):
    response = upload(owner_client, sample_file("image"))
    assert response.status_code == 201
    assert response.json()["name"].endswith(".png")


@pytest.mark.parametrize(("kind", "suffix", "container"), [
    ("video", ".webm", "webm"), ("video", ".mov", "mov"), ("video", ".mkv", "mkv"),
    ("audio", ".mp3", "mp3"), ("audio", ".m4a", "m4a"), ("audio", ".ogg", "ogg"), ("audio", ".flac", "flac"),
    ("image", ".jpg", "jpeg"), ("image", ".webp", "webp"),
])
def test_every_allowed_container_is_accepted(owner_client, kind, suffix, container):
    params = {"seconds": 1.0} if kind != "image" else {}
    response = upload(owner_client, sample_file(kind, suffix, **params))
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["container"]) == (kind, container)


# --- refused ---------------------------------------------------------------------------------------------
def test_random_bytes_are_refused(owner_client, media_root, tmp_path, upload_tmp):
    path = tmp_path / "clip.mp4"
    path.write_bytes(os.urandom(200_000))
    body = assert_refused(upload(owner_client, path), media_root)
    assert "not audio, video or an image in a format we accept" in body["errors"][0]["detail"]
    assert list(upload_tmp.iterdir()) == []


def test_a_text_file_named_mp4_is_refused(owner_client, media_root, tmp_path):
    path = tmp_path / "movie.mp4"
    path.write_text("Dear diary, today I pretended to be a video.\n" * 50)
    body = assert_refused(upload(owner_client, path), media_root)
    assert body["errors"][0]["detail"] == "This is a text file, not audio, video or an image."


def test_an_empty_file_is_refused(owner_client, media_root, tmp_path):
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")
    body = assert_refused(upload(owner_client, path), media_root)
    assert body["errors"][0]["detail"] == "The file is empty."


def test_a_gif_is_not_on_the_allowlist(owner_client, media_root):
    body = assert_refused(upload(owner_client, sample_file("image", ".gif")), media_root)
    assert "format we accept" in body["errors"][0]["detail"]


def test_a_concat_list_is_refused(owner_client, media_root, tmp_path):
    path = tmp_path / "list.mp4"
    path.write_text(f"ffconcat version 1.0\nfile '{sample_file('video', seconds=2.0)}'\n")
    body = assert_refused(upload(owner_client, path), media_root)
    assert "playlist or a list of other files" in body["errors"][0]["detail"]


def test_a_video_whose_pictures_cannot_be_decoded_is_refused(owner_client, media_root, tmp_path):
    """The header (moov) is intact, so ffprobe is satisfied, but the frames were cut off."""
    data = sample_file("video", seconds=2.0).read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: data.find(b"mdat") + 204])
    body = assert_refused(upload(owner_client, path), media_root)
    assert body["errors"][0]["detail"] == "The file could not be decoded: no picture or sound could be read from it."


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that records whether anything connected to it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def connections_received(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def hls_playlist(tmp_path: Path, port: int) -> Path:
    local_segment = sample_file("video", seconds=2.0)
    path = tmp_path / "holiday.mp4"
    path.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        f"#EXTINF:2.0,\n{local_segment}\n"
        f"#EXTINF:2.0,\nhttp://127.0.0.1:{port}/segment0.ts\n"
        "#EXTINF:2.0,\nhttp://127.0.0.1:9/segment1.ts\n"
        "#EXT-X-ENDLIST\n"
    )
    return path


def test_an_hls_playlist_named_mp4_is_refused_without_touching_the_network(owner_client, media_root, tmp_path,
                                                                            listener):
    playlist = hls_playlist(tmp_path, listener.getsockname()[1])

    body = assert_refused(upload(owner_client, playlist), media_root)

    assert "playlist" in body["errors"][0]["detail"]
    assert str(tmp_path) not in response_text(body)
    assert connections_received(listener) == 0


def test_ffprobe_itself_refuses_a_playlist_and_fetches_nothing(tmp_path, listener):
    """The second wall: even if the sniffing were bypassed, the demuxer allowlist stops HLS in ffprobe."""
    playlist = hls_playlist(tmp_path, listener.getsockname()[1])

    with neutral_path(playlist) as link, pytest.raises(MediaUnreadable):
        _run_ffprobe(link)

    assert connections_received(listener) == 0


def response_text(body: dict) -> str:
    return " ".join(str(item) for item in body["errors"])


def test_an_over_limit_body_is_refused_before_it_is_parsed(owner_client, media_root, settings, tmp_path,
                                                           upload_tmp):
    settings.MEDIA_MAX_UPLOAD_MB = 1
    path = tmp_path / "big.mp4"
    path.write_bytes(os.urandom(1024 * 1024 + 200_000))

    response = upload(owner_client, path)

    body = assert_refused(response, media_root, status=413, code="MEDIA_TOO_LARGE")
    assert body["max_upload_mb"] == 1
    assert body["errors"][0]["detail"] == "The file is larger than the upload limit of 1 MB."
    assert list(upload_tmp.iterdir()) == []


def test_the_limit_is_enforced_while_streaming(owner_client, media_root, settings, tmp_path, upload_tmp):
    """A body within the envelope allowance but a file part just over the limit is stopped mid-stream."""
    settings.MEDIA_MAX_UPLOAD_MB = 1
    path = tmp_path / "big.mp4"
    path.write_bytes(os.urandom(1024 * 1024 + 1000))

    response = upload(owner_client, path)

    assert_refused(response, media_root, status=413, code="MEDIA_TOO_LARGE")
    assert list(upload_tmp.iterdir()) == []


def test_the_limit_applies_to_browser_sessions_too(client, owner, media_root, settings, tmp_path):
    """Session authentication parses the body for its CSRF check; the limit is in place before that."""
    settings.MEDIA_MAX_UPLOAD_MB = 1
    client.force_login(owner)
    path = tmp_path / "big.mp4"
    path.write_bytes(os.urandom(1024 * 1024 + 200_000))
    with open(path, "rb") as handle:
        response = client.post("/api/assets/", {"file": handle})
    assert_refused(response, media_root, status=413, code="MEDIA_TOO_LARGE")


def test_a_missing_file_field_names_the_field(owner_client):
    response = owner_client.post("/api/assets/", {"name": "nothing"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": "required", "detail": "No file was submitted.", "attr": "file"}]


# --- the probe cache -------------------------------------------------------------------------------------
def test_a_reupload_of_the_same_bytes_costs_no_probe(owner_client, stranger, settings):
    source = sample_file("video", seconds=2.0)
    first = upload(owner_client, source).json()

    settings.MEDIA_FFPROBE_PATH = "/nonexistent/ffprobe"  # any probe now would fail with 503
    again = upload(token_client(stranger), source, name="same bytes")

    assert again.status_code == 201, again.content
    assert {key: again.json()[key] for key in ("kind", "duration", "width", "height", "sha256")} == {
        key: first[key] for key in ("kind", "duration", "width", "height", "sha256")
    }


def test_the_probe_cache_outlives_the_asset(owner_client, settings):
    source = sample_file("audio", seconds=2.0)
    first = upload(owner_client, source).json()
    assert owner_client.delete(f"/api/assets/{first['id']}").status_code == 204

    settings.MEDIA_FFPROBE_PATH = "/nonexistent/ffprobe"
    assert upload(owner_client, source).status_code == 201


def test_new_bytes_need_a_working_ffprobe(owner_client, media_root, settings):
    settings.MEDIA_FFPROBE_PATH = "/nonexistent/ffprobe"
    response = upload(owner_client, sample_file("video", seconds=1.0))
    assert response.status_code == 503
    assert response.json()["code"] == "PROBE_UNAVAILABLE"
    assert "/nonexistent" not in response.content.decode()
    assert stored_files(media_root) == []
