#!/usr/bin/env bash
# The inotifysync safety scenarios, one per ctest test: safety.sh NAME. Nothing wipes a
# target by accident (an empty or replaced source, a mount over or under it, too many
# deletions), --keep-deleted, and the holes of issue 12 (symlink swap, log file, a path too
# long to send, the lock per target, passwords in messages). Real rsync, real mounts (root).
# shellcheck disable=SC2119 # stop_sync's deadline argument is optional
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DELAY=(--delay 0.2 --retry-max 2)

daemon_target() { printf 'rsync://tester@127.0.0.1:%d/m/' "$1"; }

# N files f1..fN in directory $1.
make_files() {
  local dir=$1 n=$2 k
  mkdir -p -- "$dir"
  for ((k = 1; k <= n; k++)); do printf '%d\n' "$k" >"$dir/f$k"; done
}

# Waits until tree $2 has the entries and contents of tree $1 (directory sizes aside: they
# differ between file systems; the target's kept deletions aside).
converge_content() {
  # shellcheck disable=SC2317 # called through wait_for
  entries() { (cd "$1" && find . -path ./.inotifysync-deleted -prune -o -printf '%y %m %P\0' | sort -z); }
  # shellcheck disable=SC2317 # called through wait_for
  same_content() {
    cmp -s <(entries "$1") <(entries "$2") &&
      diff -r --no-dereference -x .inotifysync-deleted -q "$1" "$2" >/dev/null 2>&1
  }
  wait_for "$3" same_content "$1" "$2" || { show_diff "$1" "$2"; fail "$4 did not converge within $3 s"; }
}

count_files() { find "$1" -type f -not -path '*/.inotifysync-deleted/*' | wc -l; }

# Runs inotifysync --once "$@", its log in $T/once.log; sets ONCE_RC.
run_once() {
  ONCE_RC=0
  "$INOTIFYSYNC" --once --status "$T/status" "$@" >>"$T/once.log" 2>&1 || ONCE_RC=$?
}

# Mounting needs root (and a kernel that lets us): else the scenario is skipped.
need_mount() {
  if [ "$(id -u)" != 0 ] || ! mkdir -p "$T/mnt-probe" || ! mount -t tmpfs probe "$T/mnt-probe" 2>/dev/null; then
    note "SKIP: cannot mount a tmpfs here (needs root)"
    exit 77
  fi
  umount "$T/mnt-probe"
}
mounted=()
mount_tmpfs() {
  mount -t tmpfs inotifysync-test "$1" || fail "cannot mount a tmpfs on $1"
  mounted+=("$1")
}
unmount_all() {
  local k
  for ((k = ${#mounted[@]} - 1; k >= 0; k--)); do umount -l "${mounted[k]}" 2>/dev/null || true; done
  mounted=()
}
umount_quietly() { umount "$1" 2>/dev/null; }
# The mounts go before lib.sh's cleanup removes the test directory.
trap 'unmount_all; cleanup_all' EXIT

expect_refused() {   # $1 = log file, $2 = the check's name as the log line gives it
  grep -q -F "deletions refused, $2" "$1" || fail "no refusal naming '$2' in $1"
  grep -F "deletions refused, $2" "$1" | grep -q -F -- '--allow-mass-delete' ||
    fail "the refusal does not name the override --allow-mass-delete"
  wait_for 5 grep -q 'deletions: REFUSED' "$T/status" || fail "the status file does not say that deletions were refused"
}

# After $3 happened to source $1 since its first sync to $2: --once exits 4, the target keeps
# the 21 entries it had, and the log names the identity check.
expect_identity_refused() {
  run_once "$1" "$2"
  ((ONCE_RC == 4)) || fail "$3: exit $ONCE_RC, expected 4"
  [ "$(count_files "$2")" = 21 ] || fail "$3 wiped the target"
  expect_refused "$T/once.log" "source identity"
}

# An empty source with a populated target: --once refuses to delete and exits 4; with
# --allow-mass-delete it deletes.
scenario_emptysource() {
  local s=$T/src d=$T/dst
  make_files "$s" 20
  run_once "$s" "$d"
  ((ONCE_RC == 0)) || fail "first sync: exit $ONCE_RC"
  rm -rf "${s:?}"/*
  run_once "$s" "$d"
  ((ONCE_RC == 4)) || fail "an empty source: exit $ONCE_RC, expected 4"
  [ "$(count_files "$d")" = 20 ] || fail "the target lost files to an empty source"
  expect_refused "$T/once.log" "empty source"
  run_once --allow-mass-delete "$s" "$d"
  ((ONCE_RC == 0)) || fail "--allow-mass-delete: exit $ONCE_RC"
  [ "$(count_files "$d")" = 0 ] || fail "--allow-mass-delete did not delete"
}

# An empty tmpfs mounted over a populated source (a network share that failed to mount):
# refused both on a first run ever (the source is empty) and after a recorded first sync
# with something in it (it is not the mount it was).
scenario_emptymount() {
  need_mount
  local s=$T/src d=$T/dst d2=$T/dst2
  make_files "$s" 20
  cp -a "$s/." "$d2"
  mount_tmpfs "$s"
  run_once "$s" "$d2"
  ((ONCE_RC == 4)) || fail "first run on an empty mount: exit $ONCE_RC, expected 4"
  [ "$(count_files "$d2")" = 20 ] || fail "the empty mount wiped the target"
  expect_refused "$T/once.log" "empty source"
  unmount_all
  run_once "$s" "$d"
  ((ONCE_RC == 0)) || fail "first sync: exit $ONCE_RC"
  mount_tmpfs "$s"
  printf 'x\n' >"$s/lonely"
  expect_identity_refused "$s" "$d" "a mount over the source"
}

# The source (a mount) is unmounted while the driver runs: it exits 2; the restart (what
# the unit does 30 s later) on the empty mount point must not delete the target.
scenario_unmount() {
  need_mount
  local s=$T/src d=$T/dst rc=0
  mkdir -p "$s"
  mount_tmpfs "$s"
  make_files "$s/data" 20
  start_sync "${DELAY[@]}" "$s" "$d"
  converge_content "$s" "$d" 10 "initial sync"
  # A pass that started before convergence may still hold the mount open for a moment.
  wait_for 10 umount_quietly "$s" || fail "$s stayed busy: it cannot be unmounted"
  mounted=()
  wait_for 20 not_running "$SYNC_PID" || fail "the driver did not exit when its source was unmounted"
  wait "$SYNC_PID" || rc=$?
  ((rc == 2)) || fail "exit $rc after the unmount, expected 2"
  : >"$T/sync.log"
  start_sync "${DELAY[@]}" "$s" "$d"
  wait_log 1 "deletions refused, source identity"
  expect_refused "$T/sync.log" "source identity"
  [ "$(count_files "$d")" = 20 ] || fail "the restart deleted the target"
  stop_sync
  ((SYNC_RC == 4)) || fail "exit $SYNC_RC after SIGTERM with deletions refused, expected 4"
}

# A file system mounted over the running source: the next full sync (SIGHUP) must notice
# it and delete nothing that is merely hidden.
scenario_overmount() {
  need_mount
  local s=$T/src d=$T/dst
  make_files "$s" 20
  start_sync "${DELAY[@]}" "$s" "$d"
  converge "$s" "$d" 10 "initial sync"
  mount_tmpfs "$s"
  printf 'on top\n' >"$s/top"
  kill -HUP "$SYNC_PID"
  wait_log 1 "deletions refused, source identity"
  wait_log 2 "full sync,"
  [ "$(count_files "$d")" = 21 ] || fail "the target lost files hidden by a mount over the source"
  [ -f "$d/top" ] || fail "the transfers without deletions did not go on"
  stop_sync
  ((SYNC_RC == 4)) || fail "exit $SYNC_RC, expected 4"
}

# A file system mounted under the running source (on one of its directories) hides what
# is there: the next full sync deletes nothing of it.
scenario_undermount() {
  need_mount
  local s=$T/src d=$T/dst
  make_files "$s" 5
  make_files "$s/sub" 20
  start_sync "${DELAY[@]}" "$s" "$d"
  converge "$s" "$d" 10 "initial sync"
  mount_tmpfs "$s/sub"
  kill -HUP "$SYNC_PID"
  wait_log 1 "deletions refused, source identity"
  wait_log 2 "full sync,"
  [ "$(count_files "$d/sub")" = 20 ] || fail "the target lost files hidden by a mount under the source"
  stop_sync
  ((SYNC_RC == 4)) || fail "exit $SYNC_RC, expected 4"
}

# The source directory deleted and recreated (nearly) empty, then the driver restarted.
scenario_recreated() {
  local s=$T/src d=$T/dst
  make_files "$s" 20
  run_once "$s" "$d"
  ((ONCE_RC == 0)) || fail "first sync: exit $ONCE_RC"
  rm -rf "$s"
  mkdir "$s"
  printf 'new\n' >"$s/new"
  expect_identity_refused "$s" "$d" "a recreated source"
}

# A refusal on one target holds back nothing on the others: the source recreated since the
# first sync to t1 (refused there), t2 is new (deletes as usual); both get the new files.
scenario_othertargets() {
  local s=$T/src t1=$T/t1 t2=$T/t2
  make_files "$s" 5
  run_once "$s" "$t1"
  ((ONCE_RC == 0)) || fail "first sync: exit $ONCE_RC"
  rm -rf "$s"
  mkdir "$s"
  printf 'a\n' >"$s/a"
  printf 'b\n' >"$s/b"
  start_sync "${DELAY[@]}" "$s" "$t1" "$t2"
  wait_log 1 "target 1 $t1/: deletions refused, source identity"
  converge "$s" "$t2" 10 "the other target"
  rm "$s/b"
  printf 'c\n' >"$s/c"
  converge "$s" "$t2" 10 "the other target, deleting"
  wait_for 20 test -f "$t1/c" || fail "the refused target does not get new files"
  { [ -f "$t1/b" ] && [ -f "$t1/f1" ]; } || fail "the refused target lost files"
  if grep -q "target 2 .*deletions refused" "$T/sync.log"; then fail "target 2 was refused too"; fi
  stop_sync
  ((SYNC_RC == 4)) || fail "exit $SYNC_RC, expected 4"
}

# More deletions than --max-delete in one batch: counted before anything is deleted, so
# nothing is; the other changes still go; a move's old names are no deletions.
scenario_maxdelete() {
  local s=$T/src d=$T/dst
  make_files "$s" 20
  make_files "$s/moving" 10
  # A delay of 1 s: the 10 deletions of one rm go out in one batch.
  start_sync --delay 1 --retry-max 2 --max-delete 5 "$s" "$d"
  converge "$s" "$d" 10 "initial sync"
  mv "$s/moving" "$s/moved"
  converge "$s" "$d" 10 "a directory of 10 files moved (its old names are not counted)"
  rm "$s"/f{1..10}
  printf 'late\n' >"$s/late"
  wait_log 1 "deletions refused, deletion limit: 10 deletions, more than the limit of 5"
  wait_for 20 test -f "$d/late" || fail "the transfers without deletions did not go on"
  { [ -f "$d/f1" ] && [ -f "$d/f10" ]; } || fail "files were deleted beyond the limit"
  [ "$(count_files "$d")" = 31 ] || fail "the target has $(count_files "$d") files, expected 31"
  grep -q 'deletions: REFUSED' "$T/status" || wait_for 5 grep -q 'deletions: REFUSED' "$T/status" ||
    fail "the status file does not say so"
  # SIGHUP re-arms the checks: the full sync counts again (10 of 31) and refuses again.
  kill -HUP "$SYNC_PID"
  wait_log 2 "deletions refused, deletion limit"
  stop_sync
  ((SYNC_RC == 4)) || fail "exit $SYNC_RC, expected 4"
}

# A directory replaced by a new one: the batch lists the directory (nothing is gone from the
# source's view of the list), so it goes first with --max-delete=0; rsync -r would delete the
# old files below it, and those deletions are counted and refused like any others.
scenario_dirreplaced() {
  local s=$T/src d=$T/dst
  make_files "$s/d" 10
  make_files "$s" 3
  start_sync --delay 1 --retry-max 2 --max-delete 5 "$s" "$d"
  converge "$s" "$d" 10 "initial sync"
  rm -rf "$s/d"
  mkdir "$s/d"
  printf 'new\n' >"$s/d/new"
  wait_log 1 "deletions refused, deletion limit: 10 deletions, more than the limit of 5"
  wait_for 20 test -f "$d/d/new" || fail "the new file did not go without the deletions"
  [ "$(count_files "$d/d")" = 11 ] || fail "$d/d has $(count_files "$d/d") files, expected 11: deleted beyond the limit"
  stop_sync
  ((SYNC_RC == 4)) || fail "exit $SYNC_RC, expected 4"
}

# rsync's own --max-delete (given by the user) stops a batch after 2 deletions with exit
# 25: the retries must not delete 2 more each time (20 files became 2 in 10 s).
scenario_erosion() {
  local s=$T/src d=$T/dst k left
  make_files "$s" 20
  start_sync "${DELAY[@]}" --rsync-opt=--max-delete=2 "$s" "$d"
  converge "$s" "$d" 10 "initial sync"
  for ((k = 1; k <= 10; k++)); do rm "$s/f$k"; done
  wait_log 1 "deletions refused, deletion limit"
  left=$(count_files "$d")
  ((left >= 18)) || fail "$left files left: more than 2 deleted"
  for k in 1 2 3; do
    printf '%d\n' "$k" >"$s/later$k"
    wait_for 20 test -f "$d/later$k" || fail "batch $k after the refusal did not go"
  done
  [ "$(count_files "$d")" = $((left + 3)) ] || fail "the target has $(count_files "$d") files, expected $left + 3: retries deleted more"
  stop_sync
}

# --keep-deleted: a deleted and an overwritten file are found in the dated directory, on a
# local and on a daemon target; the dated directories are not sent back nor deleted.
scenario_keepdeleted() {
  local s=$T/src d=$T/dst dd=$T/ddst day
  printf -v day '%(%Y-%m-%d)T' -1
  make_files "$s" 3
  start_daemon d1 "$dd"
  start_sync "${DELAY[@]}" --keep-deleted 7 --password-file "$T/d1.password" "$s" "$d" \
    "$(daemon_target "$DAEMON_PORT")"
  converge "$s" "$d" 10 "initial sync (local)"
  converge "$s" "$dd" 10 "initial sync (daemon)"
  rm "$s/f1"
  printf 'second version\n' >"$s/f2"
  for t in "$d" "$dd"; do
    wait_for 20 test -f "$t/.inotifysync-deleted/$day/f1" || fail "the deleted file is not kept on $t"
    wait_for 20 grep -q -x 2 "$t/.inotifysync-deleted/$day/f2" || fail "the overwritten file is not kept on $t"
    [ ! -e "$t/f1" ] || fail "f1 was not deleted on $t"
    grep -q 'second version' "$t/f2" || fail "f2 was not updated on $t"
  done
  kill -HUP "$SYNC_PID"
  wait_log 4 "full sync,"
  [ -f "$d/.inotifysync-deleted/$day/f1" ] || fail "a full sync deleted the kept files"
  [ ! -e "$s/.inotifysync-deleted" ] || fail "kept files came back to the source"
  stop_sync
  [ "$SYNC_RC" = 0 ] || fail "exit $SYNC_RC"
}

# --keep-deleted over the ssh transport (a remote shell that runs the remote rsync here):
# kept files in the dated directory, an expired one pruned through rsync.
scenario_keepssh() {
  local s=$T/src d=$T/sdst day
  printf -v day '%(%Y-%m-%d)T' -1
  printf '%s\n' '#!/bin/sh' 'shift' 'exec sh -c "$*"' >"$T/fake-rsh"
  chmod 755 "$T/fake-rsh"
  export RSYNC_RSH=$T/fake-rsh
  make_files "$s" 3
  mkdir -p "$d/.inotifysync-deleted/2000-01-01"
  printf 'old\n' >"$d/.inotifysync-deleted/2000-01-01/old"
  start_sync "${DELAY[@]}" --keep-deleted 7 "$s" "somehost:$d"
  converge_content "$s" "$d" 10 "initial sync over the remote shell"
  wait_for 10 test ! -e "$d/.inotifysync-deleted/2000-01-01" || fail "the expired directory was not pruned"
  rm "$s/f1"
  printf 'second version\n' >"$s/f2"
  wait_for 20 test -f "$d/.inotifysync-deleted/$day/f1" || fail "the deleted file is not kept"
  wait_for 20 grep -q -x 2 "$d/.inotifysync-deleted/$day/f2" || fail "the overwritten file is not kept"
  stop_sync
  [ "$SYNC_RC" = 0 ] || fail "exit $SYNC_RC"
}

# Pruning: a dated directory older than DAYS goes, a recent one stays (local and daemon).
scenario_prune() {
  local s=$T/src d=$T/dst dd=$T/ddst day recent
  printf -v day '%(%Y-%m-%d)T' -1
  printf -v recent '%(%Y-%m-%d)T' $((EPOCHSECONDS - 2 * 86400))
  make_files "$s" 3
  start_daemon d1 "$dd"
  for t in "$d" "$dd"; do
    mkdir -p "$t/.inotifysync-deleted/2000-01-01/sub" "$t/.inotifysync-deleted/$recent" "$t/.inotifysync-deleted/$day"
    printf 'old\n' >"$t/.inotifysync-deleted/2000-01-01/sub/old"
    printf 'recent\n' >"$t/.inotifysync-deleted/$recent/recent"
  done
  run_once --keep-deleted 7 --password-file "$T/d1.password" "$s" "$d" "$(daemon_target "$DAEMON_PORT")"
  ((ONCE_RC == 0)) || fail "exit $ONCE_RC"
  for t in "$d" "$dd"; do
    [ ! -e "$t/.inotifysync-deleted/2000-01-01" ] || fail "the expired directory is still on $t"
    [ -f "$t/.inotifysync-deleted/$recent/recent" ] || fail "the recent directory is gone from $t"
    [ -d "$t/.inotifysync-deleted/$day" ] || fail "today's directory is gone from $t"
  done
  grep -q 'removed the deletions kept for more than 7 days: 2000-01-01' "$T/once.log" || fail "the pruning is not logged"
}

# A pending d/passwd, then d replaced by a symlink to a directory outside the source within
# the batch delay: nothing outside the source is read, the target holds the symlink.
scenario_symlinkswap() {
  local s=$T/src d=$T/dst out=$T/outside
  mkdir -p "$s/d" "$out"
  printf 'inside\n' >"$s/d/passwd"
  printf 'outside secret\n' >"$out/passwd"
  chmod 600 "$out/passwd"
  start_sync --delay 2 --retry-max 2 "$s" "$d"
  converge "$s" "$d" 10 "initial sync"
  printf 'changed\n' >"$s/d/passwd"
  rm -rf "$s/d"
  ln -s "$out" "$s/d"
  wait_for 20 test -L "$d/d" || { ls -lR "$d" >&2; fail "the target does not hold the symlink"; }
  if grep -r -q 'outside secret' "$d"; then fail "a file outside the source was copied into the target"; fi
  converge "$s" "$d" 10 "the symlink swap"
  stop_sync
}

# --log: not in a directory others can write, not a file of someone else, not a symlink.
scenario_logfile() {
  local s=$T/src d=$T/dst rc
  mkdir -p "$s" "$T/open"
  chmod 777 "$T/open"
  rc=0
  "$INOTIFYSYNC" --once --log "$T/open/sync.log" "$s" "$d" 2>"$T/err.log" || rc=$?
  ((rc == 1)) || fail "a log in a directory others can write: exit $rc, expected 1"
  grep -q 'others can write' "$T/err.log" || fail "no reason given: $(cat "$T/err.log")"
  [ ! -e "$T/open/sync.log" ] || fail "the log was created there"
  mkdir -p "$T/closed"
  printf 'theirs\n' >"$T/closed/sync.log"
  chown 65534 "$T/closed/sync.log" 2>/dev/null || { note "SKIP part: cannot chown"; return 0; }
  rc=0
  "$INOTIFYSYNC" --once --log "$T/closed/sync.log" "$s" "$d" 2>"$T/err.log" || rc=$?
  ((rc == 1)) || fail "a log owned by someone else: exit $rc, expected 1"
  [ "$(cat "$T/closed/sync.log")" = theirs ] || fail "someone else's file was written"
  printf 'victim\n' >"$T/victim"
  ln -s "$T/victim" "$T/closed/link.log"
  rc=0
  "$INOTIFYSYNC" --once --log "$T/closed/link.log" "$s" "$d" 2>"$T/err.log" || rc=$?
  ((rc == 1)) || fail "a symlink log: exit $rc, expected 1"
  [ "$(cat "$T/victim")" = victim ] || fail "the log followed a symlink"
  rc=0
  "$INOTIFYSYNC" --once --log "$T/closed/mine.log" "$s" "$d" 2>"$T/err.log" || rc=$?
  ((rc == 0)) || fail "a log in a safe directory: exit $rc"
  grep -q 'full sync' "$T/closed/mine.log" || fail "nothing logged"
}

# One path deeper than rsync's limit: reported, and the rest goes on in batches (not a
# full sync every --retry-max seconds for ever).
scenario_longpath() {
  local s=$T/src d=$T/dst k name
  mkdir -p "$s"
  printf 'ok\n' >"$s/ok"
  (
    cd "$s"
    for ((k = 1; k <= 17; k++)); do
      printf -v name 'd%0250d' "$k"
      mkdir "$name"
      cd "$name"
    done
    printf 'deep\n' >f
  )
  start_sync "${DELAY[@]}" "$s" "$d"
  wait_log 1 "paths longer than rsync's limit of 4096 bytes cannot be sent"
  wait_log 1 "full sync,"
  printf 'new\n' >"$s/new"
  wait_for 20 test -f "$d/new" || fail "the new file was not sent"
  wait_log 1 "batch of"
  [ "$(grep -c 'full sync,' "$T/sync.log")" = 1 ] || fail "more full syncs after the one with the long path"
  grep -q 'path too long to send' "$T/status" || wait_for 5 grep -q 'path too long to send' "$T/status" ||
    fail "the status file does not report the long path"
  stop_sync
  [ "$SYNC_RC" = 0 ] || fail "exit $SYNC_RC"
}

# One lock per (source, target): "src t1 t2" running excludes "src t2 t1" and "src t1",
# but not "src t3".
scenario_lockpair() {
  local s=$T/src rc
  mkdir -p "$s" "$T/t1" "$T/t2" "$T/t3"
  start_sync "${DELAY[@]}" "$s" "$T/t1" "$T/t2"
  for tl in "$T/t2 $T/t1" "$T/t1" "$T/t2/"; do
    rc=0
    # shellcheck disable=SC2086 # the target lists are split on purpose
    "$INOTIFYSYNC" --once "$s" $tl 2>"$T/err.log" || rc=$?
    ((rc == 1)) || fail "'src $tl' ran beside 'src t1 t2' (exit $rc)"
    grep -q 'already syncing' "$T/err.log" || fail "no lock message: $(cat "$T/err.log")"
  done
  rc=0
  "$INOTIFYSYNC" --once "$s" "$T/t3" 2>"$T/err.log" || rc=$?
  ((rc == 0)) || fail "another target was locked too (exit $rc)"
  stop_sync
}

# A password in a target URL is refused and never printed back.
scenario_password() {
  local s=$T/src rc t
  mkdir -p "$s"
  for t in 'rsync://user:hunter2@127.0.0.1:1/m/' 'user:hunter2@127.0.0.1::m/x'; do
    rc=0
    "$INOTIFYSYNC" --once "$s" "$t" >"$T/out.log" 2>&1 || rc=$?
    ((rc == 1)) || fail "exit $rc for $t"
    if grep -q hunter2 "$T/out.log"; then fail "the password was printed: $(cat "$T/out.log")"; fi
    grep -q 'password' "$T/out.log" || fail "no reason given"
  done
}

# A full sync still pending at exit is reported as such, not as "0 paths".
scenario_fullpending() {
  local s=$T/src port
  mkdir -p "$s"
  port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
  start_sync "${DELAY[@]}" "$s" "rsync://127.0.0.1:$port/m/"
  wait_log 1 "retry in"
  stop_sync
  [ "$SYNC_RC" = 3 ] || fail "exit $SYNC_RC, expected 3"
  if grep -q '0 paths could not be sent' "$T/sync.log"; then fail "'0 paths could not be sent' for a pending full sync"; fi
  grep -q 'the full sync did not succeed before exiting' "$T/sync.log" || fail "the pending full sync is not reported"
}

# The unit keeps the state where inotifysync looks for it and says how to wait for the
# source's mount (RequiresMountsFor= cannot come from the environment file), and
# inotifysync takes systemd's $STATE_DIRECTORY.
scenario_unit() {
  local unit=$repo/packaging/systemd/inotifysync@.service.in s=$T/src
  grep -q '^StateDirectory=inotifysync$' "$unit" || fail "no StateDirectory in the unit"
  grep -q '^#.*RequiresMountsFor=' "$unit" || fail "the unit does not say how to add RequiresMountsFor="
  mkdir -p "$s"
  STATE_DIRECTORY=$T/unit-state run_once "$s" "$T/dst"
  ((ONCE_RC == 0)) || fail "exit $ONCE_RC"
  compgen -G "$T/unit-state/*.source" >/dev/null || fail "no state file in \$STATE_DIRECTORY"
}

name=${1:?usage: safety.sh NAME}
declare -F "scenario_$name" >/dev/null || { printf 'unknown scenario %s\n' "$name" >&2; exit 2; }
note "inotifywait: $INOTIFYSYNC_INOTIFYWAIT"
"scenario_$name"
printf 'PASS: %s\n' "$name"
