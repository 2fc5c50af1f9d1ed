#!/usr/bin/env bash
# inotifysync@.service: systemd-analyze verify accepts the installed template and an instance of it
# without a single message, its hardening keeps the exposure score low, and a configuration like
# the example one becomes a command line inotifysync accepts.
#   systemd_test.sh BUILD_DIR SOURCE_DIR CMAKE
build=$1 src=$2 cmake=$3
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (Debian package systemd)"

prefix=$work/prefix
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
unit=$prefix/lib/systemd/system/inotifysync@.service
[ -f "$unit" ] || { fail "not installed: lib/systemd/system/inotifysync@.service"; finish systemd; }
grep -qx "ExecStart=$prefix/bin/inotifysync .*" "$unit" || fail "ExecStart does not run the installed inotifysync: $(grep '^ExecStart=' "$unit")"

# verify also runs the ExecStart program's checks (it must exist) and man for Documentation=.
man_args=(--man=no)
if command -v man >/dev/null; then
  export MANPATH=$prefix/share/man
  man_args=(--man=yes)
fi
mkdir "$work/units"
cp "$unit" "$work/units/"
ln -s inotifysync@.service "$work/units/inotifysync@backup.service"
for u in "$work/units/inotifysync@.service" "$work/units/inotifysync@backup.service"; do
  if ! out=$(systemd-analyze verify "${man_args[@]}" "$u" 2>&1) || [ -n "$out" ]; then
    fail "systemd-analyze verify ${man_args[*]} ${u##*/}: $out"
  fi
done
# "OK" or better (2.5 when written): a root service that reads everything cannot do much better.
if ! out=$(systemd-analyze security --offline=yes --threshold=30 "$work/units/inotifysync@backup.service" 2>&1); then
  fail "systemd-analyze security: exposure above 3.0: $(printf '%s\n' "$out" | tail -n 1)"
fi
for line in 'EnvironmentFile=/etc/inotifysync/%i.conf' 'Restart=on-failure' 'RestartPreventExitStatus=1' \
  'RuntimeDirectory=inotifysync' 'RuntimeDirectoryMode=0700' 'KillMode=mixed'; do
  grep -qx "$line" "$unit" || fail "the unit lacks $line"
done

# The example configuration, read as systemd reads an EnvironmentFile (these values need no more
# than the shell's rules), expanded as ExecStart expands $VAR (split at spaces, no globbing), with
# local directories and --once: inotifysync must accept the command line and sync.
command -v rsync >/dev/null || { finish systemd; }
mkdir -p "$work/src/sub" "$work/dst"
echo data >"$work/src/sub/file"
conf=$work/test.conf
sed -e "s|^INOTIFYSYNC_SOURCE=.*|INOTIFYSYNC_SOURCE=$work/src|" \
  -e "s|^INOTIFYSYNC_TARGETS=.*|INOTIFYSYNC_TARGETS=\"$work/dst\"|" \
  -e "s|--password-file [^ \"]*|--once -q|" "$src/packaging/systemd/inotifysync.conf.example" >"$conf"
grep -q -- '--once' "$conf" || fail "the example configuration has no --password-file to replace"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
(
  set -a
  # shellcheck disable=SC1090
  . "$conf"
  set +a -f
  # The ExecStart line with the variables substituted: $X splits, ${X} stays one word.
  words=()
  for w in $exec_start; do
    # shellcheck disable=SC2016 # '${'*'}' is the literal text ${NAME}
    case $w in
      '${'*'}') v=${w:2:-1}; words+=("${!v}") ;;
      '$'*) v=${w:1}; for x in ${!v}; do words+=("$x"); done ;;
      *) words+=("$w") ;;
    esac
  done
  "${words[@]}"
) >"$work/sync.log" 2>&1 || fail "inotifysync from the example configuration exited $?: $(cat "$work/sync.log")"
cmp -s "$work/src/sub/file" "$work/dst/sub/file" || fail "the example configuration did not sync: $(cat "$work/sync.log")"
finish systemd
