from __future__ import annotations

import atexit
import hashlib
import shutil
import tempfile
from pathlib import Path

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from projects import sample_media
from projects.models import MediaAsset, Project
from projects.timeline import timeline_empty


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.save(update_fields=["password"])


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Project {n}")


class RenderJobFactory(factory.django.DjangoModelFactory):
    """A job as `render_submit` creates it: the row, and its first event (seq 1) recorded by the same code
    (`record_first_event`: stored, published, handed to webhooks). It is not enqueued; tests of the real
    flow call the service instead. Fields given to the factory (a status, a progress) are on the row before
    that first event is built, so the event describes the job as given."""

    class Meta:
        model = "jobs.RenderJob"
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)
    owner = factory.LazyAttribute(lambda job: job.project.owner)
    timeline = factory.LazyAttribute(lambda job: job.project.timeline)
    preset = "draft"
    output_width = 640
    output_height = 360
    output_fps = 30.0
    message = "Waiting for a worker"
    queued_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def first_event(job, create, extracted, **kwargs):
        if create:
            from jobs.services.transitions import record_first_event

            record_first_event(job)


# --- real media assets ---------------------------------------------------------------------------------------
# Generated once per test process and reused: the same parameters give the same file (and the same bytes).
_MEDIA_DIR = Path(tempfile.mkdtemp(prefix="cutline-test-media-"))
atexit.register(shutil.rmtree, _MEDIA_DIR, ignore_errors=True)


def sample_file(kind: str = "video", suffix: str | None = None, **params) -> Path:
    """A generated media file (see projects.sample_media): kind video (.mp4), audio (.wav) or image (.png)."""
    suffix = suffix or {"video": ".mp4", "audio": ".wav", "image": ".png"}[kind]
    key = "-".join(f"{k}={v}" for k, v in sorted(params.items()))
    path = _MEDIA_DIR / f"{kind}-{hashlib.sha1(key.encode()).hexdigest()[:10]}{suffix}"
    if not path.exists():
        maker = {"video": sample_media.make_video, "audio": sample_media.make_audio, "image": sample_media.make_image}
        partial = path.with_name(f"partial-{path.name}")
        maker[kind](partial, **params)
        partial.rename(path)
    return path


def asset_from_file(owner, path: Path, name: str | None = None) -> MediaAsset:
    """A real, probed MediaAsset made through the upload service (thumbnail and filmstrip included)."""
    from projects.services import asset_create_from_path

    return asset_create_from_path(owner=owner, path=Path(path), name=name)


def video_asset(owner, *, seconds: float = 2.0, name: str | None = None, suffix: str = ".mp4", **params) -> MediaAsset:
    return asset_from_file(owner, sample_file("video", suffix, seconds=seconds, **params), name=name)


def audio_asset(owner, *, seconds: float = 2.0, name: str | None = None, suffix: str = ".wav", **params) -> MediaAsset:
    return asset_from_file(owner, sample_file("audio", suffix, seconds=seconds, **params), name=name)


def image_asset(owner, *, name: str | None = None, suffix: str = ".png", **params) -> MediaAsset:
    return asset_from_file(owner, sample_file("image", suffix, **params), name=name)


def timeline_using(*, video: MediaAsset | None = None, audio: MediaAsset | None = None,
                   image: MediaAsset | None = None, title: str | None = None, **output) -> dict:
    """A valid timeline (CONTRACT §2) placing the given assets one after another from 0 s."""
    document = timeline_empty()
    document["output"].update(output)
    clips, cursor = [], 0.0
    if video is not None:
        clips.append({"id": "c1", "asset_id": str(video.id), "start": 0.0, "in": 0.0, "out": video.duration})
        cursor = video.duration
    if image is not None:
        clips.append({"id": "c2", "asset_id": str(image.id), "start": cursor, "duration": 1.0})
    if clips:
        document["tracks"].append({"id": "v1", "kind": "video", "clips": clips})
    if title:
        document["tracks"].append({"id": "t1", "kind": "text", "clips": [
            {"id": "x1", "text": title, "start": 0.0, "duration": 1.0}]})
    if audio is not None:
        document["tracks"].append({"id": "a1", "kind": "audio", "clips": [
            {"id": "m1", "asset_id": str(audio.id), "start": 0.0, "in": 0.0, "out": audio.duration}]})
    return document
