"""One place for each shared helper: where ffmpeg and ffprobe are, even rounding, walking the process table, a
finite number or its default.

Copies drift (one rounded halves to even, another up; one honoured a setting, another did not); these keep
every caller on the one helper.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [path for app in ("config", "jobs", "projects", "realtime", "tests") for path in (ROOT / app).rglob("*.py")
           if "migrations" not in path.parts]


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _defined_functions(path: Path) -> set[str]:
    return {node.name for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}


def test_ffmpeg_and_ffprobe_are_located_only_in_config_tools():
    offenders = []
    for path in SOURCES:
        text = path.read_text()
        if _rel(path) in ("config/tools.py", "config/settings.py", "tests/structure/test_one_helper.py"):
            continue
        if "imageio_ffmpeg" in text or re.search(r"shutil\.which\(\s*[\"']ff", text):
            offenders.append(_rel(path))
        if {"ffmpeg_exe", "ffprobe_exe"} & _defined_functions(path):
            offenders.append(_rel(path))
        if re.search(r"settings\.(MEDIA_FFPROBE_PATH|FFMPEG_PATH)", text) and not _rel(path).startswith("tests/"):
            offenders.append(_rel(path))
    assert offenders == []


def test_even_rounding_is_defined_only_in_config_even():
    offenders = [f"{_rel(path)}:{name}" for path in SOURCES if _rel(path) != "config/even.py"
                 for name in _defined_functions(path) if re.fullmatch(r"_?even(_\w+)?", name)]
    assert offenders == []


def test_only_the_process_module_walks_proc():
    offenders = [_rel(path) for path in SOURCES
                 if _rel(path) not in ("jobs/render/procs.py", "tests/structure/test_one_helper.py")
                 and re.search(r"""Path\(\s*["']/proc["']\s*\)|listdir\(\s*["']/proc["']""", path.read_text())]
    assert offenders == []


def test_uuid_checks_are_defined_only_in_config_wire():
    offenders = [f"{_rel(path)}:{name}" for path in SOURCES if _rel(path) != "config/wire.py"
                 for name in _defined_functions(path) if name in ("_is_uuid", "is_uuid")]
    assert offenders == []


def test_a_value_or_its_default_is_read_only_by_jobs_render_values():
    # Three copies of "float(value) if finite else default" lived in the compiler, the text and the still.
    offenders = [_rel(path) for path in SOURCES
                 if "math.isfinite(result) else default" in path.read_text()
                 and _rel(path) not in ("jobs/render/values.py", "tests/structure/test_one_helper.py")]
    assert offenders == []
