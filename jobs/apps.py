from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Render jobs"

    def ready(self) -> None:
        # Registers the system checks for what a render needs (ffprobe, scratch space, storage, fonts).
        from config import checks  # noqa: F401
