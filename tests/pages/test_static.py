"""The page scripts are plain ES modules served by us: every import resolves and nothing comes from a CDN."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "projects" / "static" / "cutline"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
MODULES = sorted(STATIC.rglob("*.js"))
IMPORT = re.compile(r"""(?:import|export)\s[^;]*?from\s+["']([^"']+)["']""", re.S)


def test_there_are_modules_to_check():
    assert len(MODULES) >= 8


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(STATIC)))
def test_every_relative_import_points_at_an_existing_module(module):
    for target in IMPORT.findall(module.read_text()):
        assert target.startswith("."), f"{module.name} imports {target!r}: only our own relative modules are allowed"
        assert (module.parent / target).resolve().is_file(), f"{module.name} imports missing {target}"


@pytest.mark.parametrize(
    "path", [*MODULES, *STATIC.rglob("*.css"), *TEMPLATES.rglob("*.html")], ids=lambda p: p.name
)
def test_nothing_is_loaded_from_another_origin(path):
    text = path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), path
    assert not re.search(r"""@import\s+url\(\s*["']?https?:""", text), path
    assert not re.search(r"""from\s+["']https?:""", text), path
