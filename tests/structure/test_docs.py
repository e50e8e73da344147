"""The docs say only what is true: the options they give our commands exist, the files they link exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import load_command_class

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMANDS = {"bench_render": "jobs", "bench_realtime": "realtime", "render_timeline": "jobs", "sweep_jobs": "jobs",
            "purge_render_results": "jobs", "seed_demo": "projects", "check_redis": "jobs"}
USAGE = re.compile(r"manage\.py (\w+)((?: [^`\n]*)?)`")


def _options(command: str) -> set[str]:
    parser = load_command_class(COMMANDS[command], command).create_parser("manage.py", command)
    return {option for action in parser._actions for option in action.option_strings}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_command_options_in_the_docs_exist(doc):
    for command, rest in USAGE.findall(doc.read_text()):
        if command not in COMMANDS:
            continue
        known = _options(command)
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", rest):
            assert option in known, f"{doc.name}: `manage.py {command}` has no {option}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_files_the_docs_link_exist(doc):
    for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", doc.read_text()):
        assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"


def test_the_readme_and_jobs_doc_agree_on_the_sweeper():
    readme = " ".join((ROOT / "README.md").read_text().split())
    jobs = " ".join((ROOT / "docs" / "jobs.md").read_text().split())
    for both in ("scratch", "one per worker machine", "UPLOAD_EXPIRY_HOURS"):
        assert both in readme and both in jobs
