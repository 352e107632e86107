"""Where the bench scripts find the cryptocache CLI: `$CRYPTOCACHE_CLI`, else the
workspace's release build, else its debug build."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli() -> str:
    """The path of the cryptocache CLI to run; exits with a hint when none is built."""
    env = os.environ.get("CRYPTOCACHE_CLI")
    if env:
        return env
    for profile in ("release", "debug"):
        path = ROOT / "target" / profile / "cryptocache"
        if path.exists():
            return str(path)
    raise SystemExit("build the CLI first: cargo build --release -p cryptocache-cli")
