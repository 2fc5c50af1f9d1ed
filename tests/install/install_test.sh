#!/usr/bin/env bash
# cmake --install puts everything where users expect it, and an outside CMake project can
# find_package(libwatch), link libwatch::libwatch and watch a directory with it.
set -euo pipefail
build=$1 consumer_src=$2 cmake=${3:-cmake}
work=$(mktemp -d "${TMPDIR:-/tmp}/libwatch-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

"$cmake" --install "$build" --prefix "$prefix" >/dev/null

fail=0
expect() {
  if [ ! -e "$prefix/$1" ]; then
    echo "missing from the install tree: $1" >&2
    fail=1
  fi
}
expect_exec() {
  expect "$1"
  if [ -e "$prefix/$1" ] && [ ! -x "$prefix/$1" ]; then
    echo "not executable: $1" >&2
    fail=1
  fi
}
expect_exec bin/inotifywait
expect_exec bin/inotifywatch
expect_exec bin/inotifysync
expect_exec bin/fsnotifywait
expect_exec bin/fsnotifywatch
expect_exec bin/inotifybatch
for page in inotifywait inotifywatch inotifysync inotifybatch fsnotifywait fsnotifywatch; do expect "share/man/man1/$page.1"; done
for h in libwatch.hpp event.hpp fd.hpp watcher.hpp; do expect "include/libwatch/$h"; done
# The watch table is the library's business: its header stays inside.
if [ -e "$prefix/include/libwatch/watch_table.hpp" ]; then echo "installed an internal header: include/libwatch/watch_table.hpp"; fail=1; fi
# shellcheck disable=SC2012 # plain names: lib or lib64
libdir=$(cd "$prefix" && ls -d lib*/ | head -n 1)
libdir=${libdir%/}
expect "$libdir/libwatch.a"
expect "$libdir/cmake/libwatch/libwatchConfig.cmake"
expect "$libdir/cmake/libwatch/libwatchConfigVersion.cmake"
[ "$fail" -eq 0 ] || exit 1

# The installed programs run from the install tree.
out=$("$prefix/bin/inotifywait" --help 2>&1 || true)
case $out in
  *"Usage: inotifywait"*) ;;
  *) echo "installed inotifywait --help printed: $out" >&2; exit 1 ;;
esac

# The fanotify twins are the same programs under the name that makes fanotify the default.
out=$("$prefix/bin/fsnotifywait" --help 2>&1 || true)
case $out in
  *"Usage: fsnotifywait"*) ;;
  *) echo "installed fsnotifywait --help printed: $out" >&2; exit 1 ;;
esac

# An outside project.
"$cmake" -S "$consumer_src" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
"$cmake" --build "$work/consumer" >/dev/null
mkdir "$work/watched"
"$work/consumer/consumer" "$work/watched"
echo "install tree and find_package consumer: ok"
