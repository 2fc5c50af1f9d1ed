#!/usr/bin/env bash
# The .deb built by deb_build.sh: control fields (dpkg-deb -I/-f) and contents (dpkg-deb -c): the
# three programs and the two fsnotify links, man pages, library, headers, CMake and pkg-config files, completions, the
# systemd unit; files that name installed paths name /usr, not the build machine's paths.
#   deb_contents.sh DEB_DIR SOURCE_DIR VERSION
deb_dir=$1 src=$2 version=$3
. "$(dirname "$0")/lib.sh"
debs=("$deb_dir"/*.deb)
deb=${debs[0]}
[ -f "$deb" ] || { fail "no .deb in $deb_dir (ecosystem.deb_build)"; finish deb_contents; }

# ---- control fields
dpkg-deb -I "$deb" >"$work/info" || fail "dpkg-deb -I failed"
grep -q ' control ' "$work/info" || fail "dpkg-deb -I lists no control file"
field() { dpkg-deb -f "$deb" "$1"; }
# A comma-separated relation field holds this package name (with or without a version).
has_relation() {
  local value=$1 name=$2 item
  IFS=',' read -ra items <<<"$value"
  for item in "${items[@]}"; do
    item=${item# }
    [[ ${item%% *} == "$name" ]] && return 0
  done
  return 1
}
[ "$(field Package)" = libwatch ] || fail "Package: '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version: '$(field Version)', expected $version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: '$(field Architecture)'"
[ "$(field Section)" = utils ] || fail "Section: '$(field Section)'"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
depends=$(field Depends)
has_relation "$depends" libc6 || fail "Depends: '$depends' lacks libc6"
# The C++ runtime and fmt are needed only when the programs link them shared
# (LIBWATCH_STATIC_RUNTIME=OFF, or a sanitizer build): what the binaries name decides.
dpkg-deb -x "$deb" "$work/root"
for p in inotifywait inotifywatch inotifybatch; do
  [ -f "$work/root/usr/bin/$p" ] || continue
  libc=0
  while read -r so; do
    case "$so" in
      libc.so.*) libc=1 ;;
      libstdc++.so.*) has_relation "$depends" libstdc++6 || fail "Depends: '$depends' lacks libstdc++6 ($p needs $so)" ;;
      libgcc_s.so.*) has_relation "$depends" libgcc-s1 || fail "Depends: '$depends' lacks libgcc-s1 ($p needs $so)" ;;
      libfmt.so.*) [[ $depends == *libfmt* ]] || fail "Depends: '$depends' lacks libfmt ($p needs $so)" ;;
    esac
  done < <(readelf -d "$work/root/usr/bin/$p" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  [ "$libc" -eq 1 ] || fail "readelf -d finds no libc.so.6 among what $p needs"
done
has_relation "$(field Depends)" rsync && fail "rsync must be recommended, not required"
has_relation "$(field Recommends)" rsync || fail "Recommends: '$(field Recommends)' lacks rsync"
for f in Provides Conflicts Replaces; do
  has_relation "$(field "$f")" inotify-tools || fail "$f: '$(field "$f")' lacks inotify-tools"
done

# ---- contents
dpkg-deb -c "$deb" >"$work/list" || fail "dpkg-deb -c failed"
# "perms owner size date time path": path -> perms, and the owners.
declare -A mode link
while read -r perms owner _ _ _ path rest; do
  [ -z "$rest" ] || path="$path $rest"
  # A symbolic link is listed as "path -> target": the path is the key, the target its own entry.
  if [[ $perms == l* ]]; then
    link[${path% -> *}]=${path##* -> }
    path=${path% -> *}
  fi
  mode[$path]=$perms
  [ "$owner" = root/root ] || fail "$path is owned by $owner"
  [[ $path == ./usr/* || $path == ./ ]] || fail "$path is outside /usr"
done <"$work/list"
expect() {  # expect PATH [PERMS]
  if [ -z "${mode[$1]+set}" ]; then
    fail "missing from the package: ${1#.}"
  elif [ -n "${2:-}" ] && [ "${mode[$1]}" != "$2" ]; then
    fail "${1#.} has mode ${mode[$1]}, expected $2"
  fi
}
# The one library directory the package uses (lib, lib64 or lib/<multiarch>).
libdir=$(grep -oE '\./usr/lib[^ ]*/libwatch\.a$' "$work/list" | head -n 1)
libdir=${libdir%/libwatch.a}
[ -n "$libdir" ] || fail "missing from the package: /usr/lib*/libwatch.a"
for p in inotifywait inotifywatch inotifysync inotifybatch; do
  expect "./usr/bin/$p" -rwxr-xr-x
  expect "./usr/share/man/man1/$p.1" -rw-r--r--
  expect "./usr/share/bash-completion/completions/$p" -rw-r--r--
done
# The fanotify-default twins Debian's inotify-tools ships too: links to the programs (argv[0]
# decides), with their own man pages and completions.
for p in fsnotifywait fsnotifywatch; do
  expect "./usr/bin/$p"
  [ "${link[./usr/bin/$p]-}" = "${p/fsno/ino}" ] || fail "/usr/bin/$p is not a link to ${p/fsno/ino}: ${mode[./usr/bin/$p]-} ${link[./usr/bin/$p]-}"
  expect "./usr/share/man/man1/$p.1" -rw-r--r--
  expect "./usr/share/bash-completion/completions/$p" -rw-r--r--
done
for h in "$src"/libwatch/include/libwatch/*.hpp; do expect "./usr/include/libwatch/${h##*/}" -rw-r--r--; done
for f in libwatchConfig.cmake libwatchConfigVersion.cmake libwatchTargets.cmake; do
  expect "$libdir/cmake/libwatch/$f" -rw-r--r--
done
expect "$libdir/pkgconfig/libwatch.pc" -rw-r--r--
expect "./usr/lib/systemd/system/inotifysync@.service" -rw-r--r--
expect "./usr/share/doc/libwatch/copyright" -rw-r--r--

# ---- files configured at install time name /usr
pc=$work/root/${libdir#./}/pkgconfig/libwatch.pc
if [ -f "$pc" ]; then
  grep -qx 'prefix=/usr' "$pc" || fail "libwatch.pc: $(grep '^prefix=' "$pc"), expected prefix=/usr"
fi
unit=$work/root/usr/lib/systemd/system/inotifysync@.service
if [ -f "$unit" ]; then
  grep -q '^ExecStart=/usr/bin/inotifysync ' "$unit" || fail "the unit's $(grep '^ExecStart=' "$unit")"
fi
if grep -rl '_CPack_Packages' "$work/root" >"$work/leaks"; then
  fail "files naming cpack's staging tree: $(tr '\n' ' ' <"$work/leaks")"
fi
if grep -l '/usr/local' "$pc" "$unit" "$work/root/${libdir#./}"/cmake/libwatch/* >"$work/leaks" 2>/dev/null; then
  fail "files naming /usr/local: $(tr '\n' ' ' <"$work/leaks")"
fi
finish deb_contents
