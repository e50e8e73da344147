"""The one walker of the process table (jobs/render/procs.py): what it reads about a real child process,
and the stopped-render clean-up (jobs.tasks.encoders_kill) that uses it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from jobs.render.procs import descendants, process_cmdline, process_info, process_rss_kib, process_table
from jobs.tasks import encoders_kill


def sleeper(*args: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *args], start_new_session=True)
    # Popen returns once exec began; the kernel fills in the new command line a moment later.
    deadline = time.monotonic() + 10
    while not process_cmdline(child.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return child


def test_a_child_reads_as_what_it_is():
    child = sleeper("marker-for-procs-test")
    try:
        info = process_info(child.pid)
        assert info is not None and info.alive
        assert (info.ppid, info.pgrp, info.session) == (os.getpid(), child.pid, child.pid)
        assert b"marker-for-procs-test" in process_cmdline(child.pid)
        assert process_rss_kib(child.pid) > 0
        assert child.pid in {p.pid for p in process_table()} and child.pid in descendants(os.getpid())
        me = process_info(os.getpid())
        assert me is not None and me.cpu_seconds > 0
    finally:
        child.kill()
        child.wait()
    assert process_info(child.pid) is None and process_cmdline(child.pid) == b"" and process_rss_kib(child.pid) is None


def test_an_unreaped_child_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, still in the table as a zombie
    try:
        info = process_info(child.pid)
        assert info is not None and info.state == "Z" and not info.alive
    finally:
        child.wait()


def test_encoders_kill_ends_only_the_processes_naming_the_work_dir(tmp_path):
    work_dir = tmp_path / "job-1.attempt"
    named, other = sleeper(str(work_dir / "out.mp4")), sleeper(str(tmp_path / "elsewhere"))
    try:
        assert encoders_kill(work_dir) == [named.pid]
        assert named.wait(timeout=10) == -9
        assert other.poll() is None
    finally:
        for child in (named, other):
            child.kill()
            child.wait()
