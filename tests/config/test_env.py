from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_redis_url, env_str

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("raw,expected", [("1", True), ("true", True), ("YES", True), ("on", True),
                                          ("0", False), ("false", False), ("No", False), ("off", False)])
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("CUTLINE_FLAG", raw)
    assert env_bool("CUTLINE_FLAG", not expected) is expected


def test_env_bool_refuses_a_typo_naming_the_variable(monkeypatch):
    monkeypatch.setenv("CUTLINE_FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match=r"CUTLINE_FLAG must be a boolean.*'ture'"):
        env_bool("CUTLINE_FLAG", False)


def test_unset_values_fall_back_to_defaults(monkeypatch):
    monkeypatch.delenv("CUTLINE_X", raising=False)
    assert env_bool("CUTLINE_X", True) is True
    assert env_int("CUTLINE_X", 7) == 7
    assert env_float("CUTLINE_X", 1.5) == 1.5
    assert env_str("CUTLINE_X", "d") == "d"
    assert env_list("CUTLINE_X", ["a"]) == ["a"]


def test_env_int_refuses_non_numbers(monkeypatch):
    monkeypatch.setenv("CUTLINE_N", "12MB")
    with pytest.raises(ImproperlyConfigured, match="CUTLINE_N must be a whole number"):
        env_int("CUTLINE_N", 1)


def test_env_int_enforces_its_range(monkeypatch):
    monkeypatch.setenv("CUTLINE_N", "0")
    with pytest.raises(ImproperlyConfigured, match="CUTLINE_N must be at least 1"):
        env_int("CUTLINE_N", 5, minimum=1)


def test_env_float_refuses_words(monkeypatch):
    monkeypatch.setenv("CUTLINE_F", "fast")
    with pytest.raises(ImproperlyConfigured, match="CUTLINE_F must be a number"):
        env_float("CUTLINE_F", 1.0)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("CUTLINE_L", " a.example , b.example,, ")
    assert env_list("CUTLINE_L", []) == ["a.example", "b.example"]


def test_env_choice_refuses_unknown_values(monkeypatch):
    monkeypatch.setenv("CUTLINE_C", "gpu")
    with pytest.raises(ImproperlyConfigured, match="CUTLINE_C must be one of auto, ffmpeg"):
        env_choice("CUTLINE_C", "auto", ("auto", "ffmpeg"))


def _load_settings(extra_env: dict[str, str]) -> str:
    import subprocess
    import sys

    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings", **extra_env}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('loaded')"],
        env=env, capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2],
    )
    return result.stdout + result.stderr


def test_settings_refuse_to_start_without_secret_key_in_production():
    out = _load_settings({"DEBUG": "0"})
    assert "SECRET_KEY must be set when DEBUG is off" in out


def test_settings_refuse_a_bad_value_at_startup():
    out = _load_settings({"DEBUG": "1", "RENDER_MAX_ATTEMPTS": "three"})
    assert "RENDER_MAX_ATTEMPTS must be a whole number" in out


def test_settings_start_with_a_dev_key_when_debug_is_on():
    assert _load_settings({"DEBUG": "1"}).strip().endswith("loaded")


@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "NaN", "Infinity"])
def test_env_float_refuses_nan_and_infinity(monkeypatch, raw):
    monkeypatch.setenv("CUTLINE_F", raw)
    with pytest.raises(ImproperlyConfigured, match="CUTLINE_F must be a finite number"):
        env_float("CUTLINE_F", 1.0)


def test_a_value_can_come_from_a_file_named_by_name_file(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t-from-file\n")
    monkeypatch.delenv("CUTLINE_SECRET", raising=False)
    monkeypatch.setenv("CUTLINE_SECRET_FILE", str(secret))
    assert env_str("CUTLINE_SECRET") == "s3cr3t-from-file"


def test_name_and_name_file_together_are_refused(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x")
    monkeypatch.setenv("CUTLINE_SECRET", "inline")
    monkeypatch.setenv("CUTLINE_SECRET_FILE", str(secret))
    with pytest.raises(ImproperlyConfigured, match="either CUTLINE_SECRET or CUTLINE_SECRET_FILE"):
        env_str("CUTLINE_SECRET")


def test_an_unreadable_name_file_is_refused_without_echoing_the_path(monkeypatch, tmp_path):
    monkeypatch.delenv("CUTLINE_SECRET", raising=False)
    monkeypatch.setenv("CUTLINE_SECRET_FILE", str(tmp_path / "missing-secret"))
    with pytest.raises(ImproperlyConfigured, match="CUTLINE_SECRET_FILE names a file that cannot be read") as info:
        env_str("CUTLINE_SECRET")
    assert "missing-secret" not in str(info.value)


@pytest.mark.parametrize("url", ["garbage", "http://127.0.0.1:6379/0", "redis://", "redis://host:port/0",
                                 "redis://127.0.0.1:6379/zero"])
def test_env_redis_url_refuses_what_is_not_a_redis_url(monkeypatch, url):
    monkeypatch.setenv("CUTLINE_REDIS", url)
    with pytest.raises(ImproperlyConfigured, match="CUTLINE_REDIS must be a Redis URL"):
        env_redis_url("CUTLINE_REDIS", "redis://127.0.0.1:6379/0")


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/3", "rediss://:pw@cache.example:6380", "unix:///run/redis.sock"])
def test_env_redis_url_accepts_redis_urls(monkeypatch, url):
    monkeypatch.setenv("CUTLINE_REDIS", url)
    assert env_redis_url("CUTLINE_REDIS", "x") == url


@pytest.mark.parametrize(("name", "value", "message"), [
    ("REDIS_URL", "garbage", "REDIS_URL must be a Redis URL"),
    ("RENDER_CANCEL_GRACE", "nan", "RENDER_CANCEL_GRACE must be a finite number"),
    ("REDIS_TIMEOUT", "inf", "REDIS_TIMEOUT must be a finite number"),
])
def test_the_service_refuses_to_start_with_bad_settings(name, value, message):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", name: value}
    proc = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_secret_key_file_is_read_at_start_up(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("k" * 50)
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="0", SECRET_KEY_FILE=str(secret))
    proc = subprocess.run([sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                           "print(len(settings.SECRET_KEY), settings.SECRET_KEY == 'k' * 50)"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["50", "True"], proc.stderr[-500:]
