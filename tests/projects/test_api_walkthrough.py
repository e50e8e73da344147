"""The issue's "done when", end to end over real HTTP: a script with a token uploads media, builds a timeline,
saves it from two tabs (the second gets 409) and reads it back, against a real daphne server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from rest_framework.authtoken.models import Token

from tests.factories import UserFactory, sample_file

pytestmark = pytest.mark.e2e


def upload(api: httpx.Client, path: Path, name: str) -> dict:
    with open(path, "rb") as handle:
        response = api.post("/api/assets/", files={"file": (path.name, handle)}, data={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_script_with_a_token_can_do_everything_the_editor_does(live_server_url, process_logs):
    user = UserFactory(username="scripter")
    token = Token.objects.create(user=user)
    api = httpx.Client(base_url=live_server_url, headers={"Authorization": f"Token {token.key}"}, timeout=30)

    video = upload(api, sample_file("video", seconds=2.0), "clip.mp4")
    audio = upload(api, sample_file("audio", seconds=2.0), "tone.wav")
    image = upload(api, sample_file("image"), "bars.png")
    assert (video["kind"], audio["kind"], image["kind"]) == ("video", "audio", "image")

    created = api.post("/api/projects", json={"name": "From a script"})
    assert created.status_code == 201
    project = created.json()
    url = f"/api/projects/{project['id']}/"

    timeline = project["timeline"]
    timeline["tracks"] = [
        {"id": "v1", "kind": "video", "clips": [
            {"id": "c1", "asset_id": video["id"], "start": 0, "in": 0, "out": 2},
            {"id": "c2", "asset_id": image["id"], "start": 1.5, "duration": 2,
             "transition": {"type": "crossfade", "duration": 0.5}}]},
        {"id": "a1", "kind": "audio", "clips": [{"id": "m1", "asset_id": audio["id"], "start": 0, "in": 0, "out": 2}]},
    ]
    tab_a = api.patch(url, json={"timeline": timeline}, headers={"If-Match": '"1"'})
    assert tab_a.status_code == 200, tab_a.text
    assert tab_a.json()["version"] == 2

    timeline["tracks"][1]["clips"][0]["volume"] = 0.5
    tab_b = api.patch(url, json={"timeline": timeline, "version": 1})
    assert tab_b.status_code == 409
    assert tab_b.json()["current_version"] == 2

    read_back = api.get(url).json()
    assert read_back["version"] == 2
    assert read_back["timeline"]["tracks"][1]["clips"][0]["volume"] == 1.0
    assert read_back["duration"] == pytest.approx(3.5)
    assert read_back["clip_count"] == 3

    # Bytes come back streamed by the ASGI server, with Range for seeking.
    original = sample_file("video", seconds=2.0).read_bytes()
    part = api.get(video["file_url"], headers={"Range": "bytes=1000-2999"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 1000-2999/{len(original)}"
    assert part.content == original[1000:3000]
    assert api.get(video["file_url"]).content == original
    assert api.get(video["thumbnail_url"]).headers["content-type"] == "image/jpeg"

    log = "".join(path.read_text(errors="replace") for path in process_logs.glob("*.log"))
    assert "must consume synchronous iterators" not in log
