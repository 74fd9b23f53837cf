"""``smmpanel serve`` in a process of its own, so that a test can measure that process's memory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.cli import Background
from tests.support.engine import free_port, wait_for


class ServedPanel:
    def __init__(self, background: Background, base_url: str, pid: int) -> None:
        self.background = background
        self.base_url = base_url
        self.pid = pid

    def rss_bytes(self) -> int:
        """Resident memory of the serving process, from ``/proc`` (Linux)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc status")


@contextmanager
def served_panel(database_url: str, workdir: Path, *args: str, **settings: object) -> Iterator[ServedPanel]:
    """The panel as an operator starts it (``serve --no-engine``, and ``args``), up and answering its probe."""
    workdir.mkdir(parents=True, exist_ok=True)
    background = Background(database_url, workdir)
    port = free_port()
    serve = ["serve", "--host", "127.0.0.1", "--port", str(port), "--no-engine", *args]
    process = background.start(*serve, **settings)
    base_url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        assert process.poll() is None, background.log(process)
        try:
            return httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(up, "the panel to serve", timeout=60, every=0.1)
        yield ServedPanel(background, base_url, process.pid)
    finally:
        background.stop_all()
