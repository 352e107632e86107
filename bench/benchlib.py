"""What the bench scripts share: where they find the cryptocache CLI, and how they read
an `--exchanges` list."""

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


def chosen(names: str, known) -> list[str]:
    """The comma-separated `names` (an `--exchanges` argument), each one of `known`."""
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    for n in chosen:
        if n not in known:
            raise SystemExit(f"unknown exchange {n!r}: one of {', '.join(known)}")
    return chosen
