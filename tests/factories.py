from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from projects.models import Project


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
    """A job row as `render_submit` would create it; tests of the real flow should call the service instead."""

    class Meta:
        model = "jobs.RenderJob"

    project = factory.SubFactory(ProjectFactory)
    owner = factory.LazyAttribute(lambda job: job.project.owner)
    timeline = factory.LazyAttribute(lambda job: job.project.timeline)
    preset = "draft"
    output_width = 640
    output_height = 360
    output_fps = 30.0
