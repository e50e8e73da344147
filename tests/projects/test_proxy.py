"""Proxy media for the preview: made after upload by a worker, light, quick to seek; originals still render."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from django.conf import settings
from django.test import TestCase

from projects.models import MediaAsset
from projects.proxies import asset_proxy_build
from tests.factories import audio_asset, image_asset, video_asset


def ffprobe(path, *args) -> dict:
    out = subprocess.run([settings.MEDIA_FFPROBE_PATH, "-v", "error", "-of", "json", *args, str(path)],
                         check=True, capture_output=True).stdout
    return json.loads(out)


def test_a_video_waits_for_its_proxy_and_gets_a_light_short_gop_copy(owner, owner_client):
    asset = video_asset(owner, seconds=1.0, width=1280, height=720, name="wide.mp4")
    assert asset.proxy_status == "preparing"
    body = owner_client.get(f"/api/assets/{asset.id}/").json()
    assert (body["proxy_status"], body["proxy_url"]) == ("preparing", None)
    assert owner_client.get(f"/api/assets/{asset.id}/proxy").status_code == 404

    assert asset_proxy_build(asset_id=asset.id) == "ready"

    asset.refresh_from_db()
    stream = ffprobe(asset.proxy.path, "-show_streams", "-select_streams", "v:0")["streams"][0]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", 854, 480)
    frames = ffprobe(asset.proxy.path, "-select_streams", "v:0", "-show_entries", "frame=key_frame")["frames"]
    keys = [index for index, frame in enumerate(frames) if frame["key_frame"] == 1]
    assert keys[:3] == [0, 12, 24]
    body = owner_client.get(f"/api/assets/{asset.id}/").json()
    assert (body["proxy_status"], body["proxy_url"]) == ("ready", f"/api/assets/{asset.id}/proxy")
    ranged = owner_client.get(f"/api/assets/{asset.id}/proxy", HTTP_RANGE="bytes=0-99")
    assert ranged.status_code == 206 and ranged["Content-Type"] == "video/mp4"
    assert asset.file.name != asset.proxy.name  # the original is kept for renders


def test_audio_and_images_need_no_proxy(owner):
    assert audio_asset(owner, seconds=1.0).proxy_status == "none"
    assert image_asset(owner).proxy_status == "none"


def test_an_original_that_no_longer_decodes_falls_back_to_it(owner):
    asset = video_asset(owner, seconds=1.0, name="rotten.mp4")
    with open(asset.file.path, "wb") as handle:
        handle.write(b"\x00" * 2048)

    assert asset_proxy_build(asset_id=asset.id) == "failed"
    asset.refresh_from_db()
    assert asset.proxy_status == "failed" and not asset.proxy


def test_deleting_an_asset_removes_its_proxy(owner, owner_client):
    asset = video_asset(owner, seconds=1.0, name="gone.mp4")
    asset_proxy_build(asset_id=asset.id)
    asset.refresh_from_db()
    proxy = asset.proxy.path

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert owner_client.delete(f"/api/assets/{asset.id}/").status_code == 204

    assert not os.path.exists(proxy)


@pytest.mark.e2e
def test_a_real_worker_makes_the_proxy_after_upload(owner, rq_worker):
    asset = video_asset(owner, seconds=1.0, name="queued.mp4")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        asset.refresh_from_db()
        if asset.proxy_status != MediaAsset.ProxyStatus.PREPARING:
            break
        time.sleep(0.2)
    assert asset.proxy_status == "ready"
    assert asset.proxy.size > 0
