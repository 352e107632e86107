"""Fixtures: the exchange simulator (the `cryptocache sim` CLI) and real redis-servers."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOW_MS = 1_717_245_000_000  # 2024-06-01T12:30:00Z: the simulator's fixed "now"


def _cli() -> str:
    env = os.environ.get("CRYPTOCACHE_CLI")
    if env:
        return env
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    for candidate in (
        Path(target) / "debug" / "cryptocache",
        Path(target) / "release" / "cryptocache",
    ):
        if candidate.exists():
            return str(candidate)
    pytest.exit(
        "build the simulator first: cargo build -p cryptocache-cli (or set CRYPTOCACHE_CLI)"
    )
    raise AssertionError


def _serve(*args: str) -> tuple[subprocess.Popen[bytes], str]:
    """Starts the CLI with `args` (a server printing its URL first); returns it and the URL."""
    proc = subprocess.Popen([_cli(), *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    url = proc.stdout.readline().decode().strip()
    assert url.startswith("http://"), url
    return proc, url


class Sim:
    """A running simulator: its URL, counters and control endpoints."""

    def __init__(self) -> None:
        self.proc, self.url = _serve("sim", "--port", "0")

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def post(self, path: str, body: Any = None) -> None:
        data = json.dumps(body if body is not None else {}).encode()
        req = urllib.request.Request(
            self.url + path, data=data, method="POST", headers={"content-type": "application/json"}
        )
        urllib.request.urlopen(req, timeout=10).read()

    def total(self) -> int:
        """Exchange requests served since the last reset."""
        return int(self.get("/_sim/stats")["total"])

    def count(self, path: str) -> int:
        """Requests served on one endpoint path since the last reset."""
        return int(self.get("/_sim/stats")["endpoints"].get(path, 0))

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="session")
def sim_server():
    s = Sim()
    s.post("/_sim/clock", {"now_ms": NOW_MS})
    yield s
    s.stop()


@pytest.fixture
def sim(sim_server: Sim) -> Sim:
    sim_server.post("/_sim/reset")
    sim_server.post("/_sim/delay", {"ms": 0})
    return sim_server


@pytest.fixture
def cache(sim: Sim, tmp_path: Path):
    import cryptocache

    # The REST path (request counts, faults); test_archives.py covers the archives.
    with cryptocache.Cache(exchange_url=sim.url, disk_path=tmp_path / "disk", archives="off") as c:
        yield c


class Relay:
    """A `cryptocache serve` child in front of the simulator (no disk), on a free port."""

    def __init__(self, sim: Sim) -> None:
        self.proc, self.url = _serve("serve", "--port", "0", "--no-disk", "--exchange-url", sim.url)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@pytest.fixture
def relay(sim: Sim):
    r = Relay(sim)
    yield r
    r.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Redis:
    """A child redis-server on a free port, killed by PID."""

    def __init__(self) -> None:
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(exe):
            pytest.skip("redis-server is not installed")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}"
        deadline = time.time() + 5
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as c:
                    c.sendall(b"PING\r\n")
                    if c.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def redis_server():
    r = Redis()
    yield r
    r.stop()
