#!/usr/bin/env bash
# Installs the cryptocache C/C++ library into PREFIX:
#   PREFIX/include/cryptocache.h, cryptocache.hpp
#   PREFIX/lib/libcryptocache.so, libcryptocache.a
#   PREFIX/lib/pkgconfig/cryptocache.pc          -> pkg-config --cflags --libs cryptocache
#   PREFIX/lib/cmake/cryptocache/*.cmake          -> find_package(cryptocache)
#
# Usage: bindings-c/install.sh PREFIX [BUILD_DIR]
# BUILD_DIR holds libcryptocache_c.{so,a}; without it the library is built with
# `cargo build --release -p cryptocache-c` first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${1:?usage: install.sh PREFIX [BUILD_DIR]}"
build_dir="${2:-}"
if [ -z "$build_dir" ]; then
    (cd "$here/.." && cargo build --release -p cryptocache-c)
    build_dir="${CARGO_TARGET_DIR:-$here/../target}/release"
fi
version="$(sed -n 's/^#define CRYPTOCACHE_VERSION "\(.*\)"$/\1/p' "$here/include/cryptocache.h")"
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

install -d "$prefix/include" "$prefix/lib/pkgconfig" "$prefix/lib/cmake/cryptocache"
install -m 644 "$here/include/cryptocache.h" "$here/include/cryptocache.hpp" "$prefix/include/"
install -m 755 "$build_dir/libcryptocache_c.so" "$prefix/lib/libcryptocache.so"
install -m 644 "$build_dir/libcryptocache_c.a" "$prefix/lib/libcryptocache.a"
sed -e "s|@PREFIX@|$prefix|g" -e "s|@VERSION@|$version|g" "$here/cryptocache.pc.in" \
    > "$prefix/lib/pkgconfig/cryptocache.pc"
for f in cryptocacheConfig cryptocacheConfigVersion; do
    sed -e "s|@VERSION@|$version|g" "$here/cmake/$f.cmake.in" > "$prefix/lib/cmake/cryptocache/$f.cmake"
done
echo "installed cryptocache $version into $prefix"
