#!/usr/bin/env bash
# libwatch.pc: install the project into a scratch prefix, then build and run a consumer with
# nothing but `pkg-config --cflags --libs libwatch` (and -std=c++20, which libwatch needs).
#   pkgconfig_test.sh BUILD_DIR CONSUMER_SOURCE VERSION CMAKE CXX
build=$1 consumer=$2 version=$3 cmake=$4 cxx=$5
. "$(dirname "$0")/lib.sh"
command -v pkg-config >/dev/null || skip "pkg-config is not installed"

prefix=$work/prefix
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
pcs=("$prefix"/lib*/pkgconfig/libwatch.pc "$prefix"/lib/*/pkgconfig/libwatch.pc)
pc=
for f in "${pcs[@]}"; do [ -f "$f" ] && pc=$f; done
[ -n "$pc" ] || { fail "no libwatch.pc under $prefix/lib*"; finish pkgconfig; }
export PKG_CONFIG_PATH=${pc%/*}
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR

[ "$(pkg-config --modversion libwatch)" = "$version" ] ||
  fail "pkg-config --modversion libwatch: '$(pkg-config --modversion libwatch)', expected '$version'"
[ "$(pkg-config --variable=prefix libwatch)" = "$prefix" ] ||
  fail "prefix in libwatch.pc is '$(pkg-config --variable=prefix libwatch)', expected the install prefix $prefix"
cflags=$(pkg-config --cflags libwatch)
libs=$(pkg-config --libs libwatch)
[[ " $cflags " == *" -I$prefix/include "* ]] || fail "--cflags '$cflags' lacks -I$prefix/include"
[[ " $libs " == *" -lwatch "* ]] || fail "--libs '$libs' lacks -lwatch"

# shellcheck disable=SC2086 # pkg-config's output is a list of flags
if ! "$cxx" -std=c++20 -o "$work/consumer" "$consumer" $cflags $libs 2>"$work/cxx.err"; then
  cat "$work/cxx.err" >&2
  fail "the consumer does not build with: $cxx -std=c++20 consumer.cpp $cflags $libs"
  finish pkgconfig
fi
mkdir "$work/watched"
out=$("$work/consumer" "$work/watched") || fail "the consumer failed (exit $?)"
[ "$out" = "CREATE file" ] || fail "the consumer printed '$out'"
finish pkgconfig
