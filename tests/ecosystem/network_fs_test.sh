#!/usr/bin/env bash
# D19 on a real FUSE mount (bindfs, a FUSE file system from Debian): inotifywait and inotifywatch
# name a watched root on FUSE, and under -r a FUSE mount inside the tree, in one warning line
# each; inotifywait -qq silences it. Root only: /dev/fuse is root's on Debian and CI runs as root.
#   network_fs_test.sh BIN_DIR
bin=$1
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip "mounting a FUSE file system here needs root (/dev/fuse is mode 0600)"
[ -c /dev/fuse ] || skip "no /dev/fuse on this machine"
command -v bindfs >/dev/null || skip "bindfs is not installed (Debian package bindfs; scripts/setup installs it)"

mounts=()
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup_mounts() {
  local m
  for m in "${mounts[@]}"; do fusermount -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup_mounts EXIT

mkdir -p "$work/src/sub" "$work/mnt" "$work/tree/local/share"
bindfs "$work/src" "$work/mnt" || skip "bindfs could not mount (no FUSE in this container?)"
mounts+=("$work/mnt")
bindfs "$work/src" "$work/tree/local/share" || skip "bindfs could not mount a second time"
mounts+=("$work/tree/local/share")

warning() {
  printf 'Warning: %s is on a network file system (fuse): inotify sees only the changes made on this machine, not those made by other clients or the server; run the watcher on the machine that exports it, or add periodic full syncs (inotifysync --full-sync-interval).\n' "$1"
}
beware='Setting up watches.  Beware: since -r was given, this may take a while!'

# Runs a program for one second (-t 1) and compares what it wrote to stderr with $want.
check() {
  local what=$1 got
  shift
  got=$("$@" 2>&1 >/dev/null) || true
  [ "$got" = "$want" ] || fail "$what: stderr was:
$got
expected:
$want"
}

want="$beware
$(warning "$work/mnt")
Watches established."
check "inotifywait -r on a FUSE root" "$bin/inotifywait" -r -t 1 "$work/mnt"

want="$beware
$(warning "$work/tree/local/share")
Watches established."
check "inotifywait -r on a tree holding a FUSE mount" "$bin/inotifywait" -r -t 1 "$work/tree"

want="Setting up watches.
Watches established."
check "inotifywait without -r does not look inside the tree" "$bin/inotifywait" -t 1 "$work/tree"

want=""
check "inotifywait -qq" "$bin/inotifywait" -qq -r -t 1 "$work/mnt"

want="Establishing watches...
$(warning "$work/tree/local/share")
Finished establishing watches, now collecting statistics.
No events occurred."
check "inotifywatch -r on a tree holding a FUSE mount" "$bin/inotifywatch" -r -t 1 "$work/tree"

# inotifysync on a FUSE source: the watcher's warning reaches the log (even with -q) and the status
# file, and the sync goes on. Waits on the status file's first success, with a generous deadline.
sync=$(cd "$(dirname "$0")/../.." && pwd)/scripts/inotifysync
command -v rsync >/dev/null || fail "rsync is not installed (scripts/setup installs it)"
printf 'x\n' >"$work/src/file"
INOTIFYSYNC_INOTIFYWAIT=$bin/inotifywait "$sync" -q --state-dir "$work/state" --log "$work/sync.log" \
  --status "$work/status" "$work/mnt" "$work/dst" &
sync_pid=$!
for ((i = 0; i < 600; i++)); do
  grep -q '^  last success: [0-9]' "$work/status" 2>/dev/null && break
  kill -0 "$sync_pid" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$sync_pid" 2>/dev/null
wait "$sync_pid" || true
line="warning: $(warning "$work/mnt/" | sed 's/^Warning: //')"
grep -q -F -x -- "$line" <(sed 's/^[^ ]* [^ ]* //' "$work/sync.log") ||
  fail "inotifysync -q: no '$line' in the log:
$(cat "$work/sync.log")"
grep -q -F -x -- "$line" "$work/status" || fail "inotifysync: no warning in the status file:
$(cat "$work/status")"
[ -f "$work/dst/file" ] || fail "inotifysync on a FUSE source did not sync"

finish network_fs
