"""The asset endpoints: list, read, bytes with HTTP Range, previews, and deletion guarded by use."""

from __future__ import annotations

from pathlib import Path

from django.core.files.storage import default_storage

from projects.models import MediaAsset
from tests.factories import ProjectFactory, RenderJobFactory, timeline_using


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_list_shows_own_assets_newest_first_and_filters_by_kind(owner_client, video, audio, image):
    everything = owner_client.get("/api/assets/").json()
    assert [a["id"] for a in everything["results"]] == [str(image.id), str(audio.id), str(video.id)]

    only_audio = owner_client.get("/api/assets?kind=audio").json()
    assert [a["id"] for a in only_audio["results"]] == [str(audio.id)]


def test_an_unknown_kind_filter_is_a_400(owner_client):
    response = owner_client.get("/api/assets/?kind=gif")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "kind"


def test_the_file_comes_back_whole_without_a_range(owner_client, video):
    response = owner_client.get(f"/api/assets/{video.id}/file")

    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp4"
    assert response["Accept-Ranges"] == "bytes"
    assert int(response["Content-Length"]) == video.size_bytes
    assert body_of(response) == Path(video.file.path).read_bytes()
    assert response["Content-Disposition"] == 'inline; filename="pattern.mp4"'


def test_a_range_request_gets_206_with_exactly_those_bytes(owner_client, video):
    original = Path(video.file.path).read_bytes()

    response = owner_client.get(f"/api/assets/{video.id}/file/", HTTP_RANGE="bytes=100-1099")

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-1099/{len(original)}"
    assert response["Content-Length"] == "1000"
    assert body_of(response) == original[100:1100]


def test_open_ended_and_suffix_ranges(owner_client, video):
    original = Path(video.file.path).read_bytes()
    size = len(original)

    tail = owner_client.get(f"/api/assets/{video.id}/file", HTTP_RANGE=f"bytes={size - 10}-")
    assert tail.status_code == 206 and body_of(tail) == original[-10:]

    suffix = owner_client.get(f"/api/assets/{video.id}/file", HTTP_RANGE="bytes=-500")
    assert suffix.status_code == 206
    assert suffix["Content-Range"] == f"bytes {size - 500}-{size - 1}/{size}"
    assert body_of(suffix) == original[-500:]


def test_a_range_past_the_end_gets_416(owner_client, video):
    response = owner_client.get(f"/api/assets/{video.id}/file", HTTP_RANGE=f"bytes={video.size_bytes}-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{video.size_bytes}"


def test_a_malformed_range_is_ignored(owner_client, video):
    response = owner_client.get(f"/api/assets/{video.id}/file", HTTP_RANGE="lines=1-2")
    assert response.status_code == 200
    assert int(response["Content-Length"]) == video.size_bytes


def test_a_stale_if_range_gets_the_whole_file(owner_client, video):
    response = owner_client.get(f"/api/assets/{video.id}/file", HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"old"')
    assert response.status_code == 200


def test_a_matching_etag_gets_304(owner_client, video):
    etag = owner_client.get(f"/api/assets/{video.id}/file")["ETag"]
    assert owner_client.get(f"/api/assets/{video.id}/file", HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_a_player_accept_header_does_not_cause_406(owner_client, video):
    response = owner_client.get(f"/api/assets/{video.id}/file", HTTP_ACCEPT="video/webm,video/*;q=0.9")
    assert response.status_code == 200


def test_thumbnail_supports_range_too(owner_client, video):
    whole = owner_client.get(f"/api/assets/{video.id}/thumbnail")
    assert whole.status_code == 200 and whole["Content-Type"] == "image/jpeg"
    data = body_of(whole)
    assert data[:3] == b"\xff\xd8\xff"

    part = owner_client.get(f"/api/assets/{video.id}/thumbnail", HTTP_RANGE="bytes=0-99")
    assert part.status_code == 206 and body_of(part) == data[:100]


def test_filmstrip_is_one_jpeg_holding_every_frame(owner_client, video):
    from PIL import Image

    response = owner_client.get(f"/api/assets/{video.id}/filmstrip")

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    with Image.open(default_storage.open(video.filmstrip.name)) as sprite:
        assert sprite.size == (160 * video.filmstrip_frames, 90)


def test_audio_has_a_png_waveform_and_no_filmstrip(owner_client, audio):
    thumbnail = owner_client.get(f"/api/assets/{audio.id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/png"
    assert owner_client.get(f"/api/assets/{audio.id}/filmstrip").status_code == 404


def test_a_file_missing_from_storage_is_a_plain_404(owner_client, video):
    default_storage.delete(video.file.name)
    response = owner_client.get(f"/api/assets/{video.id}/file")
    assert response.status_code == 404
    assert video.file.name not in response.content.decode()


def test_nothing_in_the_representation_reveals_a_storage_path(owner_client, video):
    text = owner_client.get(f"/api/assets/{video.id}").content.decode()
    assert video.file.name not in text and "assets/" not in text.replace("/api/assets/", "")


def test_deleting_an_unused_asset_removes_its_files(owner_client, video, django_capture_on_commit_callbacks):
    names = [video.file.name, video.thumbnail.name, video.filmstrip.name]

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.delete(f"/api/assets/{video.id}/")

    assert response.status_code == 204
    assert not MediaAsset.objects.filter(pk=video.pk).exists()
    assert not any(default_storage.exists(name) for name in names)


def test_deleting_an_asset_a_timeline_uses_is_a_409_naming_the_projects(owner_client, owner, video, audio):
    ProjectFactory(owner=owner, name="Wedding", timeline=timeline_using(video=video))
    ProjectFactory(owner=owner, name="Holiday", timeline=timeline_using(video=video, audio=audio))
    ProjectFactory(owner=owner, name="Unrelated", timeline=timeline_using(audio=audio))

    response = owner_client.delete(f"/api/assets/{video.id}")

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "ASSET_IN_USE"
    assert sorted(p["name"] for p in body["projects"]) == ["Holiday", "Wedding"]
    assert "'Holiday', 'Wedding'" in body["errors"][0]["detail"] or "'Wedding', 'Holiday'" in body["errors"][0][
        "detail"]
    assert default_storage.exists(video.file.name)


def test_deleting_an_asset_an_unfinished_render_uses_is_a_409(owner_client, owner, video):
    project = ProjectFactory(owner=owner, name="Gone soon", timeline=timeline_using(video=video))
    RenderJobFactory(project=project)
    project.timeline = timeline_using()
    project.save()

    response = owner_client.delete(f"/api/assets/{video.id}")

    assert response.status_code == 409
    assert "1 render in progress" in response.json()["errors"][0]["detail"]


def test_an_asset_id_mentioned_only_in_a_title_does_not_block_deletion(owner_client, owner, video):
    ProjectFactory(owner=owner, timeline=timeline_using(title=f"about {video.id}"))
    assert owner_client.delete(f"/api/assets/{video.id}").status_code == 204
