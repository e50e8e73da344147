"""The render-time media check reads ffprobe's JSON: exact rates, real stream kinds, and the same refusals."""

from __future__ import annotations

from fractions import Fraction

import pytest

from jobs.render.errors import MediaMissing, MediaUnreadable
from jobs.render.media import media_check
from tests.factories import sample_file
from tests.jobs.render.conftest import audio, image, source, timeline


def one_clip(kind: str = "video") -> dict:
    return timeline({"id": "v1", "kind": kind, "clips": [
        {"id": "c1", "asset_id": "a", "start": 0.0, "in": 0.0, "out": 0.5}]})


def test_an_ntsc_rate_is_read_exactly():
    # The banner said "29.97 fps"; the stream's rate is 30000/1001, and frame picking follows the exact rate.
    clip = source("a", sample_file("video", seconds=1.0, fps="30000/1001"))
    facts = media_check(one_clip(), {"a": clip})["a"]
    assert Fraction(facts.fps).limit_denominator(2000) == Fraction(30000, 1001)
    assert facts.has_video and facts.has_audio and (facts.width, facts.height) == (320, 180)
    assert facts.duration == pytest.approx(1.0, abs=0.1)


def test_an_audio_file_has_no_picture_and_an_image_has_no_sound():
    facts = media_check(one_clip("audio"), {"a": audio("a", seconds=1.0)})["a"]
    assert (facts.has_video, facts.has_audio) == (False, True)
    facts = media_check(one_clip(), {"a": image("a")})["a"]
    assert (facts.has_video, facts.has_audio, facts.alpha) == (True, False, False)


def test_an_image_with_transparency_is_seen_as_such(tmp_path):
    from PIL import Image

    path = tmp_path / "logo.png"
    Image.new("RGBA", (64, 32), (255, 0, 0, 128)).save(path)
    facts = media_check(one_clip(), {"a": source("a", path, "image")})["a"]
    assert facts.alpha and (facts.width, facts.height) == (64, 32)


def test_missing_and_unreadable_files_keep_their_codes_and_words(tmp_path):
    clip = source("a", sample_file("video", seconds=1.0))
    gone = clip.__class__(**{**clip.__dict__, "path": tmp_path / "gone.mp4"})
    with pytest.raises(MediaMissing, match=r"^clip c1 on track v1: the media file is missing\.$"):
        media_check(one_clip(), {"a": gone})
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    broken = clip.__class__(**{**clip.__dict__, "path": garbage})
    with pytest.raises(MediaUnreadable, match=r"^clip c1 on track v1: the media file cannot be read\.$"):
        media_check(one_clip(), {"a": broken})
