"""``python -m smmpanel`` as a real process: one-shot commands, and long-running servers and workers."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any


def smmpanel_env(database_url: str, **settings: object) -> dict[str, str]:
    """This environment without any ``SMMPANEL_*`` of its own, plus the database and ``settings``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SMMPANEL_")}
    env["SMMPANEL_DATABASE_URL"] = database_url
    env.update({f"SMMPANEL_{name.upper()}": str(value) for name, value in settings.items()})
    return env


def _no_floats(text: str) -> Any:
    raise AssertionError(f"a float in the CLI's JSON: {text}")


class Cli:
    """``python -m smmpanel`` against one database, in a clean environment and directory."""

    def __init__(self, database_url: str, workdir: Path, **settings: object) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.settings = settings

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "smmpanel", *args],
            env=smmpanel_env(self.database_url, **self.settings),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def json(self, *args: str, status: int = 0) -> dict[str, Any]:
        """Run with ``--json``: exactly one JSON object on stdout, nothing on stderr."""
        done = self(*args, "--json")
        assert done.returncode == status, done.stderr
        assert done.stderr == ""
        assert done.stdout.endswith("\n") and done.stdout.count("\n") == 1, done.stdout
        data = json.loads(done.stdout, parse_float=_no_floats)
        assert isinstance(data, dict)
        return data

    def text(self, *args: str) -> str:
        done = self(*args)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        return done.stdout

    def fails(self, *args: str) -> str:
        """A refused command: exit 1, nothing on stdout, one ``smmpanel: error:`` line on stderr."""
        done = self(*args)
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert done.stdout == ""
        assert done.stderr.startswith("smmpanel: error: ")
        assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1, done.stderr
        return done.stderr


def _die_with_parent() -> None:
    """In the child before ``exec``: on Linux it gets SIGKILL when the test process dies, even by kill -9."""
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Background:
    """Long-running ``python -m smmpanel`` processes (``serve``, ``worker``), each in its own
    process group, so that ``stop_all`` also ends the children a ``serve --workers N`` forks."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str, **settings: object) -> subprocess.Popen[bytes]:
        number = len(self.processes)
        env = smmpanel_env(self.database_url, **settings)
        if "--workers" in args:  # killed with SIGKILL, serve cannot remove its metrics files: keep them here
            (metrics := self.workdir / f"metrics-{number}").mkdir()
            env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)
        with open(self.workdir / f"process-{number}.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "smmpanel", *args],
                env=env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        self.processes.append(process)
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        return (self.workdir / f"process-{self.processes.index(process)}.log").read_text(errors="replace")

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """``kill -9`` the process and whatever it forked; nothing runs on the way out."""
        with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes:
            self.kill(process)
