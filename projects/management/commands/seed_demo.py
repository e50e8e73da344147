"""Create the demo user and a demo project for `make run`, once; print how to log in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from projects.models import Project

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "cutline-demo"  # noqa: S105 - a local demo login, printed to the console on purpose
DEMO_PROJECT_NAME = "Demo: colour bars and a tone"


class Command(BaseCommand):
    help = "Create the demo user (superuser) and demo project if they do not exist yet."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    @transaction.atomic
    def handle(self, *args, base_url: str, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        project = Project.objects.filter(owner=user, name=DEMO_PROJECT_NAME).first()
        if project is None:
            project = Project.objects.create(owner=user, name=DEMO_PROJECT_NAME)
        self.stdout.write(f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}")
        self.stdout.write(f"Demo project: {base_url}/projects/{project.id}/")
