"""The public surface: every public name and method is documented and typed."""

from __future__ import annotations

import inspect
from pathlib import Path

import cryptocache


def test_every_public_name_has_a_docstring():
    missing = []
    for name in cryptocache.__all__:
        obj = getattr(cryptocache, name)
        if name in ("TimeLike", "WarmItem", "__version__"):
            continue  # type aliases and a string
        if not inspect.getdoc(obj):
            missing.append(name)
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__arrow_c_stream__":
                    continue
                if callable(member) or isinstance(member, property):
                    if not inspect.getdoc(member):
                        missing.append(f"{name}.{attr}")
    assert not missing, missing


def test_typed_package():
    root = Path(cryptocache.__file__).parent
    assert (root / "py.typed").exists() and (root / "_native.pyi").exists()


def test_async_cache_mirrors_cache():
    sync = {n for n in vars(cryptocache.Cache) if not n.startswith("_")}
    coroutines = {
        n for n, m in vars(cryptocache.AsyncCache).items() if inspect.iscoroutinefunction(m)
    }
    assert {"klines", "trades", "funding_rates", "order_book", "warm", "stats", "close"} <= (
        coroutines
    )
    assert sync - {"disk_dir"} <= coroutines | {"closed"}
