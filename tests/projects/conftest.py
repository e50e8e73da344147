from __future__ import annotations

import pytest

from tests.factories import audio_asset, image_asset, video_asset


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users are made per test; the production hasher's million rounds would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

@pytest.fixture
def video(owner):
    """A real 2 s 320×180 H.264/AAC MP4 in the owner's library."""
    return video_asset(owner, seconds=2.0, name="pattern.mp4")


@pytest.fixture
def audio(owner):
    return audio_asset(owner, seconds=2.0, name="tone.wav")


@pytest.fixture
def image(owner):
    return image_asset(owner, name="bars.png")
