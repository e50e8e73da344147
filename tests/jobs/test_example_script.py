"""The example script renders personalised clips from the seeded demo template against a real server."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from jobs.models import RenderJob

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db", "redis_conn")]

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "personalised_batch.py"


def test_example_script_renders_a_batch_from_the_demo_template(live_server_url, processes, tmp_path):
    call_command("seed_demo", "--base-url", live_server_url, stdout=io.StringIO())
    processes.worker()
    out = tmp_path / "clips"
    run = subprocess.run([sys.executable, str(SCRIPT), "--base-url", live_server_url, "--count", "2",
                          "--out", str(out), "--key", "example-1", "--timeout", "240"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    files = sorted(out.glob("*.mp4"))
    assert [f.name for f in files] == ["000-Ada.mp4", "001-Grace.mp4"] and all(f.stat().st_size > 0 for f in files)
    texts = {job.timeline["tracks"][1]["clips"][0]["text"] for job in RenderJob.objects.all()}
    assert texts == {"Hello Ada!", "Hello Grace!"}

    again = subprocess.run([sys.executable, str(SCRIPT), "--base-url", live_server_url, "--count", "2",
                            "--out", str(tmp_path / "again"), "--key", "example-1"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert RenderJob.objects.count() == 2  # the same Idempotency-Key replayed the batch
