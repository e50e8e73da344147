"""Make sure Redis answers on REDIS_URL; with --start, start a local one for development if it does not."""

from __future__ import annotations

import shutil
import subprocess
import time
from urllib.parse import urlparse

import redis
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5).ping())
    except (redis.exceptions.RedisError, OSError):
        return False


class Command(BaseCommand):
    help = "Check that Redis answers on REDIS_URL; with --start, start a local redis-server if it does not."

    def add_arguments(self, parser):
        parser.add_argument("--start", action="store_true", help="start redis-server locally when none answers")

    def handle(self, *args, start: bool, **options):
        url = settings.REDIS_URL
        if redis_answers(url):
            self.stdout.write(f"Redis answers on {urlparse(url).hostname}:{urlparse(url).port or 6379}.")
            return
        parsed = urlparse(url)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 6379
        server = shutil.which("redis-server")
        if not start or host not in {"127.0.0.1", "localhost"} or server is None:
            raise CommandError(
                f"Redis does not answer on {host}:{port}. Start Redis 6+ there (e.g. `redis-server`), "
                "or point REDIS_URL at a running one."
            )
        data_dir = settings.VAR_DIR / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [server, "--daemonize", "yes", "--bind", host, "--port", str(port), "--save", "",
             "--appendonly", "no", "--dir", str(data_dir), "--logfile", str(data_dir / "redis.log")],
            check=True,
        )
        for _ in range(50):
            if redis_answers(url):
                self.stdout.write(f"Started a local redis-server on {host}:{port} (data in var/redis).")
                return
            time.sleep(0.1)
        raise CommandError(f"Started redis-server, but it does not answer on {host}:{port}; see var/redis/redis.log.")
