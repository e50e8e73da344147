"""The system checks for what a render needs: each passes on a working machine and fails when its part is gone."""

from __future__ import annotations

from django.core.checks import Error, Warning

from config import checks


def test_all_checks_pass_on_this_machine(settings, tmp_path):
    settings.RENDER_WORK_DIR = tmp_path / "work"
    assert checks.ffprobe_present() == []
    assert checks.work_dir_writable() == []
    assert checks.storage_reachable() == []
    assert checks.fonts_present() == []


def test_a_missing_ffprobe_is_an_error_naming_the_setting(settings, tmp_path):
    settings.MEDIA_FFPROBE_PATH = str(tmp_path / "no-ffprobe")
    [error] = checks.ffprobe_present()
    assert isinstance(error, Error) and error.id == "cutline.E001" and "MEDIA_FFPROBE_PATH" in error.hint


def test_a_missing_ffmpeg_is_an_error_naming_the_setting(settings, tmp_path):
    assert checks.ffmpeg_present() == []
    settings.FFMPEG_PATH = str(tmp_path / "no-ffmpeg")
    [error] = checks.ffmpeg_present()
    assert isinstance(error, Error) and error.id == "cutline.E004" and "FFMPEG_PATH" in error.hint


def test_an_unwritable_work_dir_is_an_error(settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    settings.RENDER_WORK_DIR = blocker / "work"
    [error] = checks.work_dir_writable()
    assert error.id == "cutline.E002" and "RENDER_WORK_DIR" in error.hint


def test_unreachable_storage_is_an_error(settings, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker / "media"  # default_storage follows MEDIA_ROOT (setting_changed)
    [error] = checks.storage_reachable()
    assert error.id == "cutline.E003" and str(tmp_path) not in error.msg


def test_fonts_warn_without_freetype(monkeypatch):
    from PIL import features

    monkeypatch.setattr(features, "check", lambda name: False if name == "freetype2" else True)
    [warning] = checks.fonts_present()
    assert isinstance(warning, Warning) and warning.id == "cutline.W001"


def test_the_checks_are_registered_with_django():
    from django.core.checks.registry import registry

    names = {check.__name__ for check in registry.get_checks()}
    assert {"ffprobe_present", "work_dir_writable", "storage_reachable", "fonts_present"} <= names
