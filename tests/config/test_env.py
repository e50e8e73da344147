from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_float, env_int, env_list, env_str


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
