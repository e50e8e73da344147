"""Child processes of a render (ffmpeg, the moviepy compositor) and how they are stopped.

Every child starts a new session, so it and everything it spawns (moviepy's decoder and encoder ffmpegs)
share one process group that can be signalled as a whole: SIGTERM, a short grace, then SIGKILL. The group
is signalled while its leader is still unreaped (a zombie keeps its pid, so the group id cannot have been
reused by an unrelated process). Output is read without blocking, so the caller can check for cancel
and timeout between reads.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

TERM_GRACE = 1.0  # seconds between SIGTERM and SIGKILL
_SETPRIV = shutil.which("setpriv") if sys.platform.startswith("linux") else None


def dies_with_parent(args: Sequence[str]) -> list[str]:
    """`args` run so that the process gets SIGKILL when the one that started it dies (a SIGKILLed work horse).

    Through util-linux's `setpriv --pdeathsig` (it sets PR_SET_PDEATHSIG, then execs `args` in place:
    same pid), because `preexec_fn` is unsafe in a process with threads. Without setpriv the args are
    unchanged and an orphan encoder ends when its pipe closes, as before.
    """
    return [_SETPRIV, "--pdeathsig", "KILL", "--", *args] if _SETPRIV else list(args)


class ChildProcess:
    """A child in its own session, its stdout read line by line, its stderr kept in a log file."""

    def __init__(self, args: Sequence[str], *, log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.log_path = log_path
        with open(log_path, "wb") as log:
            self.popen = subprocess.Popen(
                dies_with_parent(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env, cwd=cwd,
                start_new_session=True,
            )
        self.pid = self.popen.pid
        self._buffer = b""
        self._eof = False

    def read_lines(self, timeout: float) -> list[str]:
        """Complete lines available within `timeout` seconds (empty on timeout; at EOF, the last part)."""
        if self._eof:
            return []
        stdout = self.popen.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout)
        if not ready:
            return []
        chunk = os.read(stdout.fileno(), 65536)
        if not chunk:
            self._eof = True
            rest, self._buffer = self._buffer, b""
            return [rest.decode(errors="replace")] if rest.strip() else []
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        return [line.decode(errors="replace").strip() for line in lines if line.strip()]

    @property
    def eof(self) -> bool:
        return self._eof

    def _exited(self) -> bool:
        """True once the leader exited; it stays unreaped, so its pid (the group id) stays reserved."""
        if self.popen.returncode is not None:
            return True
        try:
            info = os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        return info is not None

    def _signal_group(self, sig: int) -> None:
        if self.popen.returncode is not None:
            return  # reaped: the group id may belong to someone else by now
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the leader, then make sure nothing it spawned outlives it; returns the exit status."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._exited():
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.popen.args, timeout or 0)
            time.sleep(0.01)
        self._signal_group(signal.SIGKILL)  # stragglers of a finished leader (none in the normal case)
        return self._reap()

    def _reap(self) -> int:
        code = self.popen.wait()
        if self.popen.stdout:
            self.popen.stdout.close()
        return code

    def stop(self, grace: float = TERM_GRACE) -> None:
        """Terminate the whole group: SIGTERM, up to `grace` seconds, then SIGKILL; always reaps."""
        if self.popen.returncode is not None:
            if self.popen.stdout and not self.popen.stdout.closed:
                self.popen.stdout.close()
            return
        self._signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and not self._exited():
            time.sleep(0.01)
        self._signal_group(signal.SIGKILL)
        self._reap()

    def log_tail(self, limit: int = 4000) -> str:
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - limit))
                return handle.read().decode(errors="replace")
        except OSError:
            return ""


def run_quiet(args: Sequence[str], *, timeout: float, log_path: Path) -> int:
    """Run a short helper command (poster, mux) in its own session, stopped at `timeout`."""
    child = ChildProcess(args, log_path=log_path)
    try:
        return child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.stop()
        raise
    finally:
        child.stop()


@dataclass(frozen=True)
class ProcessInfo:
    """One line of the process table, from /proc/PID/stat."""

    pid: int
    name: str  # the command name (comm), at most 15 characters
    state: str  # "R", "S", "D", "Z" (a zombie: dead, not yet reaped), ...
    ppid: int
    pgrp: int
    session: int
    cpu_seconds: float  # user + system so far
    children_cpu_seconds: float = 0.0  # user + system of its children that ended and were waited for

    @property
    def alive(self) -> bool:
        return self.state != "Z"


def process_info(pid: int) -> ProcessInfo | None:
    """The process's /proc/PID/stat, or None if it is gone (or this is not Linux)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: the fields after the last ')' are fixed.
    fields = raw[raw.rfind(")") + 2 :].split()
    return ProcessInfo(
        pid=pid, name=raw[raw.find("(") + 1 : raw.rfind(")")], state=fields[0], ppid=int(fields[1]),
        pgrp=int(fields[2]), session=int(fields[3]),
        cpu_seconds=(int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"),
        children_cpu_seconds=(int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK"),
    )


def process_table() -> Iterator[ProcessInfo]:
    """Every process in /proc (zombies included: check `alive`); nothing where there is no /proc."""
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return
    for entry in entries:
        if entry.name.isdigit() and (info := process_info(int(entry.name))) is not None:
            yield info


def process_cmdline(pid: int) -> bytes:
    """The command line, arguments separated by NUL bytes (empty if the process is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def process_uid(pid: int) -> int | None:
    try:
        return Path(f"/proc/{pid}").stat().st_uid
    except OSError:
        return None


def process_rss_kib(pid: int) -> int | None:
    """Resident memory (VmRSS) in KiB, or None if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid: int) -> list[int] | None:
    """Direct children from /proc/PID/task/*/children (None when the kernel does not provide it)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            found.extend(int(item) for item in (task / "children").read_text().split())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            continue
    return found


def descendants(pid: int) -> list[int]:
    """Pids of every live descendant of `pid` (from /proc), for tests and memory sampling."""
    if _children(pid) is None:
        return _descendants_by_scan(pid)
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in _children(stack.pop()) or []:
            found.append(child)
            stack.append(child)
    return found


def _descendants_by_scan(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for info in process_table():
        if info.alive:
            children.setdefault(info.ppid, []).append(info.pid)
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found
