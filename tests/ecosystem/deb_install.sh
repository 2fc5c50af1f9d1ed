#!/usr/bin/env bash
# Installs the .deb (ecosystem.deb_build) into a throw-away root with dpkg --root, over a stand-in
# for the distribution's inotify-tools, and runs the installed programs from there.
#   deb_install.sh DEB_DIR VERSION
deb_dir=$1 version=$2
. "$(dirname "$0")/lib.sh"
debs=("$deb_dir"/*.deb)
deb=${debs[0]}
[ -f "$deb" ] || { fail "no .deb in $deb_dir (ecosystem.deb_build)"; finish deb_install; }
[ "$(id -u)" -eq 0 ] || skip "dpkg --root needs root"

root=$work/root
admin=$root/var/lib/dpkg
mkdir -p "$admin/info" "$admin/updates" "$root/usr/bin"
# inotify-tools as the distribution installs it (as far as dpkg's database goes).
cat >"$admin/status" <<'STATUS'
Package: inotify-tools
Status: install ok installed
Priority: optional
Section: misc
Installed-Size: 100
Maintainer: stand-in <nobody@example.invalid>
Architecture: all
Version: 3.22.6.0-4
Description: stand-in for the distribution's package

STATUS
printf '%s\n' /. /usr /usr/bin /usr/bin/inotifywait /usr/bin/fsnotifywait >"$admin/info/inotify-tools.list"
echo 'old inotifywait' >"$root/usr/bin/inotifywait"
echo 'old fsnotifywait' >"$root/usr/bin/fsnotifywait"

# The throw-away root has no libc6 or libstdc++6 in its database: only the dependencies are forced.
if ! dpkg --root="$root" --force-depends -i "$deb" >"$work/dpkg.log" 2>&1; then
  cat "$work/dpkg.log" >&2
  fail "dpkg --root -i failed"
  finish deb_install
fi
grep -q 'will remove inotify-tools in favour of libwatch' "$work/dpkg.log" ||
  fail "dpkg did not replace inotify-tools: $(cat "$work/dpkg.log")"
state() { dpkg-query --admindir="$admin" -W -f '${Status}' "$1" 2>/dev/null || true; }
[ "$(state libwatch)" = "install ok installed" ] || fail "libwatch is '$(state libwatch)' in the root"
[ "$(state inotify-tools)" != "install ok installed" ] || fail "inotify-tools is still installed"
# inotify-tools' fsnotifywait is replaced by ours (a link to inotifywait), not removed.
[ "$(readlink "$root/usr/bin/fsnotifywait")" = inotifywait ] ||
  fail "/usr/bin/fsnotifywait is not libwatch's link to inotifywait: $(ls -l "$root/usr/bin/fsnotifywait" 2>&1)"
dpkg --root="$root" -L libwatch | grep -x /usr/bin/fsnotifywatch >/dev/null || fail "dpkg -L libwatch lacks /usr/bin/fsnotifywatch"
dpkg --root="$root" -L libwatch | grep -x /usr/bin/inotifywait >/dev/null || fail "dpkg -L libwatch lacks /usr/bin/inotifywait"

# The programs run from the root.
for p in inotifywait inotifywatch fsnotifywait fsnotifywatch; do
  code=0
  "$root/usr/bin/$p" --help >"$work/out" 2>"$work/err" || code=$?
  [ "$code" -eq 1 ] || fail "$p --help exited $code, expected 1 (as the reference)"
  [ "$(head -n 1 "$work/out")" = "$p (libwatch) $version" ] || fail "$p --help first line: $(head -n 1 "$work/out")"
  grep -q "^Usage: $p \[ options \]" "$work/out" || fail "$p --help prints no usage line"
  [ ! -s "$work/err" ] || fail "$p --help wrote to stderr: $(cat "$work/err")"
done
for p in inotifywait inotifywatch inotifysync fsnotifywait fsnotifywatch; do
  out=$("$root/usr/bin/$p" --version) || fail "$p --version exited $?"
  [[ $out == "$p "* && $out == *" $version" ]] || fail "$p --version printed '$out', expected the package version $version"
done

# The packaged libwatch.pc, read from the root (PKG_CONFIG_SYSROOT_DIR), points into the root.
if command -v pkg-config >/dev/null; then
  pcdir=$(dirname "$(find "$root/usr/lib" -name libwatch.pc | head -n 1)")
  flags=$(PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$pcdir pkg-config --cflags --libs libwatch) ||
    fail "pkg-config cannot read the packaged libwatch.pc"
  headers=0 library=0
  for flag in $flags; do
    case $flag in
      -I*) [ -f "${flag#-I}/libwatch/libwatch.hpp" ] && headers=1 ;;
      -L*) [ -f "${flag#-L}/libwatch.a" ] || [ -f "${flag#-L}/libwatch.so" ] && library=1 ;;
    esac
  done
  [ "$headers" -eq 1 ] || fail "pkg-config --cflags names no directory of the root with libwatch/libwatch.hpp: $flags"
  [ "$library" -eq 1 ] || fail "pkg-config --libs names no directory of the root with libwatch: $flags"
  [[ " $flags " == *" -lwatch "* ]] || fail "pkg-config --libs lacks -lwatch: $flags"
fi
finish deb_install
