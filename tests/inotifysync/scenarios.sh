#!/usr/bin/env bash
# The inotifysync scenarios, one per ctest test: scenarios.sh NAME.
# Real rsync, a real rsync daemon on 127.0.0.1, real inotify. Every wait has a deadline and
# convergence is checked by polling a comparison of the two trees.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DELAY=(--delay 0.2 --retry-max 2)

# A tree with a bit of everything, made before inotifysync starts.
seed_tree() {
  local s=$1
  mkdir -p "$s/dir/sub" "$s/empty" "$s/keep"
  printf 'one\n' >"$s/one.txt"
  printf 'two\n' >"$s/dir/two.txt"
  printf 'three\n' >"$s/dir/sub/three.txt"
  head -c 100000 /dev/urandom >"$s/dir/random.bin"
  ln -s one.txt "$s/link"
  chmod 640 "$s/dir/two.txt"
}

daemon_target() { printf 'rsync://tester@127.0.0.1:%d/m/' "$1"; }

scenario_changes() {
  local s=$T/src d=$T/dst i
  seed_tree "$s"
  start_daemon d1 "$d"
  start_sync "${DELAY[@]}" --password-file "$T/d1.password" "$s" "$(daemon_target "$DAEMON_PORT")"
  converge "$s" "$d" 10 "initial sync"

  # creates, appends, chmod, deletes, renames of files and directories with content
  printf 'new\n' >"$s/new.txt"
  : >"$s/empty-file"
  mkdir "$s/newdir"
  ln -s dir/two.txt "$s/link2"
  printf 'appended\n' >>"$s/one.txt"
  chmod 600 "$s/dir/sub/three.txt"
  chmod 700 "$s/dir/sub"
  rm "$s/dir/random.bin"
  rm -r "$s/keep"
  mv "$s/new.txt" "$s/renamed.txt"
  mv "$s/dir" "$s/moved-dir"
  printf 'after the move\n' >"$s/moved-dir/sub/late.txt"
  converge "$s" "$d" 10 "creates, appends, chmod, deletes, renames"

  # mkdir -p with immediate writes
  mkdir -p "$s/a/b/c/d"
  printf 'deep\n' >"$s/a/b/c/d/f1"
  printf 'deep\n' >"$s/a/b/c/f2"
  mkdir -p "$s/a/b/x/y" && printf 'x\n' >"$s/a/b/x/y/f3"
  for i in 1 2 3 4 5; do mkdir -p "$s/p$i/q/r" && printf '%d\n' "$i" >"$s/p$i/q/r/f"; done
  converge "$s" "$d" 10 "mkdir -p with immediate writes"

  # a directory replaced by a file, a file replaced by a directory, a rename over a file
  rm -r "$s/a/b/x"
  printf 'now a file\n' >"$s/a/b/x"
  rm "$s/empty-file"
  mkdir "$s/empty-file"
  printf 'over\n' >"$s/over"
  mv "$s/over" "$s/renamed.txt"
  rm -r "$s/p1"
  ln -s moved-dir "$s/p1"
  converge "$s" "$d" 10 "type changes"

  grep -q -E 'batch of [0-9]+ paths, [0-9]+ bytes sent, [0-9.]+ s, rsync exit 0' "$T/sync.log" ||
    fail "no batch log line"
  grep -q 'last success: 2' "$T/status" || fail "the status file has no last success"
  stop_sync
  [ "$SYNC_RC" = 0 ] || fail "exit status $SYNC_RC after SIGTERM"
  if grep -q -e "s3cret" "$T/sync.log" "$T/sync.out.log"; then fail "the password appears in the log"; fi
}

# Same-size rewrites within one second: rsync's default quick check (size and whole-second
# mtime) would skip them. Both versions get modification times within the same second
# (set explicitly, so that a slow machine cannot spread them over two seconds).
scenario_samesize() {
  local s=$T/src d=$T/dst i attempt sec
  mkdir -p "$s"
  start_daemon d1 "$d"
  start_sync "${DELAY[@]}" --password-file "$T/d1.password" "$s" "$(daemon_target "$DAEMON_PORT")"
  for attempt in 1 2 3; do
    sec=$((${EPOCHREALTIME%.*} - 100))
    for i in $(seq 1 20); do
      printf 'AAAA-%02d-%d\n' "$i" "$attempt" >"$s/f$i"
      touch -m -d "@$sec.100000000" "$s/f$i"
    done
    converge "$s" "$d" 10 "first write (attempt $attempt)"
    for i in $(seq 1 20); do
      printf 'BBBB-%02d-%d\n' "$i" "$attempt" >"$s/f$i"
      touch -m -d "@$sec.600000000" "$s/f$i"
    done
    converge "$s" "$d" 10 "same-size rewrite within the same second (attempt $attempt)"
  done
  # and a natural one: two writes as close together as the sync allows
  printf 'CCCC\n' >"$s/natural"
  converge "$s" "$d" 10 "first natural write"
  printf 'DDDD\n' >"$s/natural"
  converge "$s" "$d" 10 "natural same-size rewrite"
}

scenario_names() {
  local s=$T/src d=$T/dst n
  # shellcheck disable=SC2016,SC1003 # literal names, not expansions
  local -a names=(
    $'new\nline' "single'quote" 'double"quote' 'back\slash' 'back\slash [1].txt' 'star*' 'question?'
    '[bracket]' 'a]b' '-leading-dash' '--option-like' ' leading space' 'trailing space ' '- minus space'
    '+ plus space' '#hash' ';semicolon' '$(echo injected)' '`tick`' 'tab	char' $'\xff\xfe invalid utf8'
    'ünïcödé' '*' '?' '\' '\*' '...' '@' '%s%n' 'a b c'
  )
  mkdir -p "$s"
  for n in "${names[@]:0:10}"; do printf '%s\n' "$n" >"$s/init-$n"; done
  mkdir -p "$s/back\\dir [x]"
  for n in 1 2 3 4 5 6 7 8 9; do printf '%d\n' "$n" >"$s/back\\dir [x]/f$n"; done
  start_daemon d1 "$d"
  start_sync "${DELAY[@]}" --password-file "$T/d1.password" "$s" "$(daemon_target "$DAEMON_PORT")"
  converge "$s" "$d" 10 "initial sync of tricky names"
  for n in "${names[@]}"; do
    printf '%s\n' "$n" >"$s/$n"
    mkdir -p "$s/dir $n"
    printf 'inside\n' >"$s/dir $n/file $n"
  done
  mkdir -p "$s/run\\dir [y]" && printf 'y\n' >"$s/run\\dir [y]/f"
  converge "$s" "$d" 10 "creates of tricky names"
  for n in "${names[@]:0:12}"; do
    mv "$s/$n" "$s/moved $n"
    mv "$s/dir $n" "$s/moved dir $n"
  done
  for n in "${names[@]:12}"; do rm -r "$s/dir $n"; done
  rm "$s/init-${names[0]}" "$s/init-${names[4]}"
  mv "$s/back\\dir [x]" "$s/back\\dir [z]"
  converge "$s" "$d" 10 "renames and deletes of tricky names"
}

scenario_bigfile() {
  local s=$T/src d=$T/dst before after
  mkdir -p "$s/d1" "$s/d2"
  printf 'small\n' >"$s/d2/small"
  start_daemon d1 "$d"
  # The two moves below must land in one batch (what is checked is how a batch composes them);
  # with the 0.2 s delay a loaded CI machine put them in two. Moves that straddle two batches
  # are sent again (a known limit, not what this scenario tests).
  start_sync --delay 3 --retry-max 2 --password-file "$T/d1.password" "$s" "$(daemon_target "$DAEMON_PORT")"
  converge "$s" "$d" 10 "initial sync"
  head -c $((8 << 20)) /dev/urandom >"$s/d1/big"
  converge "$s" "$d" 20 "an 8 MiB file"
  before=$(daemon_received d1)
  # a move into another directory whose parent is then renamed: nothing to re-send
  mv "$s/d1/big" "$s/d2/big"
  mv "$s/d2" "$s/d3"
  converge "$s" "$d" 20 "a moved 8 MiB file"
  # a rename within a directory, and a move out of a directory that is then renamed
  mv "$s/d3/big" "$s/d3/big-renamed"
  converge "$s" "$d" 20 "a renamed 8 MiB file"
  sleep 0.5
  after=$(daemon_received d1)
  note "the daemon received $((after - before)) bytes for the moves of an 8 MiB file"
  (((after - before) < (1 << 20))) || fail "the moves were re-sent: $((after - before)) bytes"
}

# The kernel reads fs.inotify.max_queued_events when an inotify instance is created. When
# the machine has it raised far above the default, it is lowered to the default only while
# the watcher starts, so that 30,000 files overflow the queue.
queue_limit_file=/proc/sys/fs/inotify/max_queued_events
saved_queue_limit=
watcher_queue_limit=
lower_queue_limit() {
  local limit
  limit=$(cat "$queue_limit_file")
  watcher_queue_limit=$limit
  if ((limit > 20000)) && [ -w "$queue_limit_file" ] && [ -z "${INOTIFYSYNC_TEST_KEEP_QUEUE_LIMIT:-}" ]; then
    watcher_queue_limit=16384
    saved_queue_limit=$limit
    printf '16384\n' >"$queue_limit_file"
    note "max_queued_events lowered from $limit to 16384 while the watcher starts"
  fi
}
restore_queue_limit() {
  if [ -n "$saved_queue_limit" ]; then
    printf '%s\n' "$saved_queue_limit" >"$queue_limit_file"
    saved_queue_limit=
  fi
}

scenario_overflow() {
  local s=$T/src d=$T/dst wpid i j
  mkdir -p "$s"
  start_daemon d1 "$d"
  trap 'restore_queue_limit; cleanup_all' EXIT
  lower_queue_limit
  start_sync "${DELAY[@]}" --password-file "$T/d1.password" "$s" "$(daemon_target "$DAEMON_PORT")"
  restore_queue_limit
  for ((i = 0; i < 30; i++)); do mkdir "$s/burst$i"; done
  printf 'doomed\n' >"$s/burst3/doomed"
  converge "$s" "$d" 10 "initial sync"
  # taken once the initial sync is done (without it an overflow means a full sync)
  wait_log 1 "took its snapshot" 60
  wpid=$(watcher_of "$SYNC_PID") || fail "no watcher found"
  # Stop the watcher so that the kernel queue (max_queued_events) overflows for real: the
  # files go into directories that are already watched.
  kill -STOP "$wpid"
  # a deletion beside the new files of one directory: the diff lists both, not the directory
  rm "$s/burst3/doomed"
  for ((i = 0; i < 30; i++)); do
    for ((j = 0; j < 1000; j++)); do printf '%d\n' "$j" >"$s/burst$i/f$j"; done
  done
  mkdir "$s/burst-new"
  printf 'x\n' >"$s/burst-new/in-new-dir"
  # 30,000 files queue 60,000 events; if the queue limit could not be lowered, top them up
  # past it, so that the queue really overflows (slow with a high limit).
  local flood
  if ((watcher_queue_limit + 1000 > 60000)); then
    flood=$(evflood_path)
    "$flood" "$s" $((watcher_queue_limit + 1000 - 60000)) || fail "evflood failed"
  fi
  kill -CONT "$wpid"
  # a change after the overflow, in a directory created during it
  printf 'after\n' >"$s/burst7/after-overflow"
  # (The driver reads the 16,384 events queued before the overflow first: slow under a loaded
  # sanitizer build.)
  wait_log 1 "overflowed" 150
  converge "$s" "$d" 120 "a 30,000-file burst with a queue overflow"
  # The watcher's snapshot tells what changed: no full sync after the initial one.
  grep -q 'found by comparing the tree with the watcher.s snapshot' "$T/sync.log" ||
    fail "the overflow was not repaired from the watcher's snapshot"
  (($(grep -c 'full sync, ' "$T/sync.log") == 1)) || fail "a full sync ran after the overflow"
  [ ! -e "$d/burst3/doomed" ] || fail "the file deleted during the overflow is still on the target"
  [ -f "$d/burst3/f999" ] || fail "a file added beside the deletion is not on the target"
  printf 'later\n' >"$s/burst29/later"
  converge "$s" "$d" 10 "a change after the overflow"
}

scenario_outage() {
  local s=$T/src d=$T/dst port i
  seed_tree "$s"
  start_daemon d1 "$d"
  port=$DAEMON_PORT
  start_sync "${DELAY[@]}" --password-file "$T/d1.password" "$s" "$(daemon_target "$port")"
  converge "$s" "$d" 10 "initial sync"
  stop_daemon d1
  for i in 1 2 3 4 5; do
    printf 'during outage %d\n' "$i" >"$s/outage$i"
    mkdir -p "$s/outdir$i/sub" && printf '%d\n' "$i" >"$s/outdir$i/sub/f"
    sleep 1.8
  done
  mv "$s/dir" "$s/dir-renamed-during-outage"
  rm "$s/one.txt"
  wait_log 2 "rsync exit " 5
  wait_for 5 grep -q 'last error: .*rsync exit' "$T/status" || fail "the status file shows no error"
  wait_for 5 grep -q 'pending paths: [1-9]' "$T/status" || fail "the status file shows no pending paths"
  start_daemon d1 "$d" "$port"
  converge "$s" "$d" 10 "after a 10 s outage"
}

# A partial transfer (rsync exit 23: the daemon may not write into one directory) keeps its
# paths and is retried until it succeeds.
scenario_partial() {
  local s=$T/src d=$T/dst
  [ "$(id -u)" = 0 ] || { note "needs root (a daemon running as nobody); skipped"; return 0; }
  seed_tree "$s"
  mkdir -p "$d"
  chown nobody "$d"
  DAEMON_UID=nobody DAEMON_GID=nogroup start_daemon d1 "$d"
  start_sync "${DELAY[@]}" --password-file "$T/d1.password" "$s" "$(daemon_target "$DAEMON_PORT")"
  converge "$s" "$d" 10 "initial sync by a daemon running as nobody"
  chown root "$d/dir/sub"
  chmod 755 "$d/dir/sub"
  printf 'cannot be written yet\n' >"$s/dir/sub/blocked.txt"
  printf 'can be written\n' >"$s/free.txt"
  wait_log 2 "rsync exit 23" 10
  [ -e "$d/free.txt" ] || fail "the writable part of the batch did not arrive"
  # the status file is rewritten at most once a second
  wait_for 5 grep -q 'pending paths: [1-9]' "$T/status" || fail "the failed paths are not pending"
  chown nobody "$d/dir/sub"
  converge "$s" "$d" 10 "after the directory became writable"
}

scenario_twotargets() {
  local s=$T/src d1=$T/dst1 d2=$T/dst2 port2
  seed_tree "$s"
  start_daemon d1 "$d1"
  local t1
  t1=$(daemon_target "$DAEMON_PORT")
  start_daemon d2 "$d2"
  port2=$DAEMON_PORT
  stop_daemon d2
  start_sync "${DELAY[@]}" --password-file "$T/d1.password" "$s" "$t1" "$(daemon_target "$port2")"
  converge "$s" "$d1" 5 "target 1 while target 2 is down (initial)"
  printf 'x\n' >"$s/while-down"
  mv "$s/dir" "$s/dir2"
  converge "$s" "$d1" 5 "target 1 while target 2 is down (changes)"
  printf 'y\n' >>"$s/while-down"
  converge "$s" "$d1" 5 "target 1 while target 2 is down (more changes)"
  grep -q 'target 2: .*' "$T/status" || fail "no status line for target 2"
  start_daemon d2 "$d2" "$port2"
  converge "$s" "$d2" 10 "target 2 once it is up"
  converge "$s" "$d1" 1 "target 1 still"
}

scenario_sigterm() {
  local s=$T/src d=$T/dst wpid
  seed_tree "$s"
  start_daemon d1 "$d"
  start_sync --delay 5 --password-file "$T/d1.password" "$s" "$(daemon_target "$DAEMON_PORT")"
  converge "$s" "$d" 10 "initial sync"
  wpid=$(watcher_of "$SYNC_PID") || fail "no watcher found"
  printf 'pending\n' >"$s/pending.txt"
  mv "$s/dir" "$s/dir-pending"
  sleep 0.5
  same_tree "$s" "$d" && fail "the batch was not pending any more"
  stop_sync 10
  [ "$SYNC_RC" = 0 ] || fail "exit status $SYNC_RC after SIGTERM"
  same_tree "$s" "$d" || { show_diff "$s" "$d"; fail "the pending batch was not sent before exiting"; }
  kill -0 "$wpid" 2>/dev/null && fail "the watcher is still running"
  if pgrep -f -- "$s" >/dev/null; then fail "processes left running: $(pgrep -a -f -- "$s")"; fi
  [ ! -e "$T/sync.pid" ] || fail "pid file left behind"

  # SIGINT does the same. (A background job of a script ignores SIGINT unless it runs
  # under job control, hence set -m.)
  local rc=0
  set -m
  "$INOTIFYSYNC" --delay 5 --log "$T/sync-int.log" --password-file "$T/d1.password" \
    "$s" "$(daemon_target "$DAEMON_PORT")" 2>>"$T/sync.out.log" &
  SYNC_PID=$!
  set +m
  started_pids+=("$SYNC_PID")
  wait_for 20 grep -s -q 'full sync, ' "$T/sync-int.log" || fail "inotifysync did not start"
  printf 'pending on SIGINT\n' >"$s/pending-int.txt"
  sleep 0.5
  same_tree "$s" "$d" && fail "the batch was not pending any more"
  kill -INT "$SYNC_PID"
  wait_for 10 not_running "$SYNC_PID" || fail "inotifysync did not exit within 10 s of SIGINT"
  wait "$SYNC_PID" || rc=$?
  [ "$rc" = 0 ] || fail "exit status $rc after SIGINT"
  same_tree "$s" "$d" || { show_diff "$s" "$d"; fail "the pending batch was not sent before exiting on SIGINT"; }
  return 0
}

scenario_local() {
  local s=$T/src d=$T/local-target
  seed_tree "$s"
  printf 'skip\n' >"$s/scratch.tmp"
  start_sync "${DELAY[@]}" --exclude '*.tmp' --exclude '/cache/' --pid-file "$T/sync.pid" "$s" "$d"
  [ "$(cat "$T/sync.pid")" = "$SYNC_PID" ] || fail "pid file does not hold the pid"
  rm "$s/scratch.tmp"
  converge "$s" "$d" 10 "initial sync to a local directory"
  printf 'new\n' >"$s/new"
  mv "$s/dir" "$s/dir2"
  chmod 751 "$s/dir2/sub"
  rm "$s/one.txt"
  converge "$s" "$d" 10 "changes to a local directory"
  # excluded names are neither sent nor counted
  mkdir -p "$s/cache" "$s/deep/cache"
  printf 'x\n' >"$s/cache/a"
  printf 'x\n' >"$s/x.tmp"
  printf 'y\n' >"$s/deep/cache/b"
  wait_for 10 test -e "$d/deep/cache/b" || fail "deep/cache/b (not excluded) did not arrive"
  if [ -e "$d/cache" ] || [ -e "$d/x.tmp" ]; then fail "excluded paths were sent"; fi
  # an excluded directory costs no watch (the kernel's list names each watched inode), a kept one does
  local wpid cache_ino deep_ino
  wpid=$(watcher_of "$SYNC_PID") || fail "no watcher under inotifysync"
  printf -v cache_ino '%x' "$(stat -c %i "$s/cache")"
  printf -v deep_ino '%x' "$(stat -c %i "$s/deep/cache")"
  ! grep -qs " ino:$cache_ino " "/proc/$wpid/fdinfo/"* || fail "the excluded directory cache/ is watched"
  grep -qs " ino:$deep_ino " "/proc/$wpid/fdinfo/"* || fail "deep/cache/ (not excluded) is not watched"
  stop_sync
  [ "$SYNC_RC" = 0 ] || fail "exit status $SYNC_RC after SIGTERM"
  [ ! -e "$T/sync.pid" ] || fail "pid file left behind"
}

# --delete true|false|startup|running, as lsyncd: deletions in the initial (full) sync and
# in the batches.
scenario_deletemodes() {
  local s=$T/src mode
  seed_tree "$s"
  for mode in true false startup running; do
    mkdir -p "$T/$mode"
    printf 'extra\n' >"$T/$mode/extra-on-target"
  done
  # the startup sync
  for mode in true false startup running; do
    "$INOTIFYSYNC" --once --delete "$mode" "$s" "$T/$mode" 2>>"$T/once.log" || fail "--once --delete $mode"
  done
  [ ! -e "$T/true/extra-on-target" ] || fail "--delete true kept an extra file at startup"
  [ -e "$T/false/extra-on-target" ] || fail "--delete false deleted at startup"
  [ ! -e "$T/startup/extra-on-target" ] || fail "--delete startup kept an extra file at startup"
  [ -e "$T/running/extra-on-target" ] || fail "--delete running deleted at startup"
  # the batches
  local pids=() p
  for mode in false running; do
    "$INOTIFYSYNC" "${DELAY[@]}" --log "$T/sync-$mode.log" --delete "$mode" "$s" "$T/$mode" 2>>"$T/sync.out.log" &
    pids+=($!)
    started_pids+=($!)
  done
  wait_for 20 grep -s -q 'full sync, ' "$T/sync-false.log" || fail "--delete false did not start"
  wait_for 20 grep -s -q 'full sync, ' "$T/sync-running.log" || fail "--delete running did not start"
  rm "$s/one.txt"
  rm -r "$s/dir/sub"
  printf 'new\n' >"$s/new.txt"
  wait_for 10 test -e "$T/running/new.txt" -a -e "$T/false/new.txt" || fail "the new file did not arrive"
  wait_for 10 test ! -e "$T/running/one.txt" -a ! -e "$T/running/dir/sub" ||
    fail "--delete running did not delete in a batch"
  sleep 0.5
  if [ ! -e "$T/false/one.txt" ] || [ ! -e "$T/false/dir/sub/three.txt" ]; then
    fail "--delete false deleted in a batch"
  fi
  for p in "${pids[@]}"; do kill -TERM "$p"; done
  for p in "${pids[@]}"; do wait_for 10 not_running "$p" || fail "inotifysync did not stop"; done
}

# --full-sync-interval repairs drift on the target that no event reports.
scenario_fullsync() {
  local s=$T/src d=$T/dst
  seed_tree "$s"
  start_sync "${DELAY[@]}" --full-sync-interval 2 "$s" "$d"
  converge "$s" "$d" 10 "initial sync"
  rm "$d/one.txt"
  printf 'damaged\n' >"$d/dir/two.txt"
  converge "$s" "$d" 10 "drift repaired by the periodic full sync"
  wait_log 2 "full sync, " 10
}

# Runs inotifysync with "$@", expecting exit status $1 and stderr matching $2.
expect_error() {
  local want=$1 pattern=$2 rc=0
  shift 2
  "$INOTIFYSYNC" "$@" >"$T/err.out" 2>"$T/err.txt" </dev/null || rc=$?
  [ "$rc" = "$want" ] || fail "inotifysync $* exited $rc, expected $want: $(cat "$T/err.txt")"
  grep -q -E -- "$pattern" "$T/err.txt" || fail "inotifysync $*: stderr '$(cat "$T/err.txt")' does not match '$pattern'"
}

scenario_options() {
  local s=$T/src
  mkdir -p "$s" "$T/dst"
  printf 'pw\n' >"$T/pw-0644"
  chmod 644 "$T/pw-0644"
  printf 'pw\n' >"$T/pw-ok"
  chmod 600 "$T/pw-ok"
  mkdir "$T/pw-dir"
  expect_error 1 "does not exist" "$T/missing" "$T/dst"
  expect_error 1 "is not a directory" "$T/pw-ok" "$T/dst"
  expect_error 1 "need a SOURCE" "$s"
  expect_error 1 "no module" "$s" rsync://127.0.0.1:1
  expect_error 1 "no module" "$s" 'host::'
  expect_error 1 "parent directory .* does not exist" "$s" "$T/no/such/dir"
  expect_error 1 "inside the source" "$s" "$s/sub"
  expect_error 1 "password" "$s" 'rsync://user:pw@127.0.0.1/m'
  expect_error 1 "password file .* does not exist" --password-file "$T/pw-missing" "$s" "$T/dst"
  expect_error 1 "mode 644" --password-file "$T/pw-0644" "$s" "$T/dst"
  expect_error 1 "not a regular file" --password-file "$T/pw-dir" "$s" "$T/dst"
  expect_error 1 "unknown option '--bogus'" --bogus "$s" "$T/dst"
  expect_error 1 "not a number" --delay soon "$s" "$T/dst"
  expect_error 1 "not one of" --delete sometimes "$s" "$T/dst"
  expect_error 1 "needs a value" "$s" "$T/dst" --delay
  "$INOTIFYSYNC" --help | grep -q '^Usage: inotifysync' || fail "--help"
  "$INOTIFYSYNC" --version | grep -q -E '^inotifysync [0-9]' || fail "--version"
  # one instance per source and targets
  start_sync "${DELAY[@]}" "$s" "$T/dst"
  expect_error 1 "already syncing" "$s" "$T/dst"
  # a planted symlink at the status file name is replaced, not followed
  printf 'victim\n' >"$T/victim"
  ln -s "$T/victim" "$T/status2"
  "$INOTIFYSYNC" --once --status "$T/status2" "$s" "$T/dst2" 2>>"$T/once.log" || fail "--once failed"
  [ "$(cat "$T/victim")" = victim ] || fail "the status file followed a planted symlink"
  [ ! -L "$T/status2" ] || fail "the status file is still a symlink"
}

scenario_once() {
  local s=$T/src d=$T/dst rc=0 port
  seed_tree "$s"
  "$INOTIFYSYNC" --once "$s" "$T/local" 2>"$T/once.log" || fail "--once to a local directory failed"
  same_tree "$s" "$T/local" || fail "--once did not mirror the source"
  local want
  want=$(find "$s" | wc -l)
  grep -q -E "full sync, $want entries checked, $(find "$s" -type f | wc -l) files transferred, [0-9]+ bytes sent, [0-9.]+ s," \
    "$T/once.log" || fail "the full sync's log line lacks its counts (want $want entries)"
  ! grep -q -F 'to-chk=' "$T/once.log" || fail "rsync's progress reached a log that is not a terminal"
  # On a terminal (script(1) gives it one) the full sync shows rsync's progress on one line,
  # erased before the next log line, and still logs its counts.
  local cmd
  printf -v cmd '%q ' "$INOTIFYSYNC" --once "$s" "$T/tty"
  script -qfec "$cmd" "$T/tty.out" >/dev/null </dev/null || fail "--once on a terminal failed"
  same_tree "$s" "$T/tty" || fail "--once on a terminal did not mirror the source"
  grep -q -F "to-chk=0/$want)"$'\e[K\r\e[K' "$T/tty.out" ||
    fail "no erased progress line on the terminal: $(tr '\r' '\n' <"$T/tty.out" | head -c 600)"
  grep -q -E "full sync, $want entries checked" "$T/tty.out" || fail "the terminal run lacks the counts"
  start_daemon d1 "$d"
  port=$DAEMON_PORT
  RSYNC_PASSWORD=s3cret-test "$INOTIFYSYNC" --once "$s" "$(daemon_target "$port")" 2>>"$T/once.log" ||
    fail "--once with RSYNC_PASSWORD failed"
  same_tree "$s" "$d" || fail "--once to the daemon did not mirror the source"
  stop_daemon d1
  "$INOTIFYSYNC" --once --password-file "$T/d1.password" "$s" "$(daemon_target "$port")" 2>>"$T/once.log" || rc=$?
  [ "$rc" = 3 ] || fail "--once to a stopped daemon exited $rc, expected 3"
}

# Where inotifysync finds its watcher, inotifybatch: $INOTIFYSYNC_INOTIFYBATCH, else beside
# $INOTIFYSYNC_INOTIFYWAIT, else next to the script (the installed layout), else the build tree
# when run from the source tree, else PATH.
scenario_locate() {
  local s=$T/src want
  mkdir -p "$s" "$T/bin"
  cp "$INOTIFYSYNC" "$T/bin/inotifysync"
  ln -s "$INOTIFYSYNC_INOTIFYBATCH" "$T/bin/inotifybatch"
  # (no subshell here: the processes it started would escape the cleanup)
  local saved_iw=$INOTIFYSYNC_INOTIFYWAIT saved_ib=$INOTIFYSYNC_INOTIFYBATCH saved_sync=$INOTIFYSYNC
  unset INOTIFYSYNC_INOTIFYWAIT INOTIFYSYNC_INOTIFYBATCH
  INOTIFYSYNC=$T/bin/inotifysync
  start_sync "${DELAY[@]}" "$s" "$T/dst"
  grep -q -F "with $T/bin/inotifybatch (pid" "$T/sync.log" || fail "the inotifybatch next to the script was not used"
  stop_sync
  : >"$T/sync.log"
  if [ -x "$repo/build/bin/inotifybatch" ]; then
    want=$repo/scripts/../build/bin/inotifybatch
  else
    want=$(command -v inotifybatch)
  fi
  INOTIFYSYNC=$repo/scripts/inotifysync
  start_sync "${DELAY[@]}" "$s" "$T/dst"
  grep -q -F "with $want (pid" "$T/sync.log" || fail "expected $want: $(head -n 1 "$T/sync.log")"
  stop_sync
  : >"$T/sync.log"
  # beside the inotifywait given
  export INOTIFYSYNC_INOTIFYWAIT=$T/bin/inotifywait
  start_sync "${DELAY[@]}" "$s" "$T/dst"
  grep -q -F "with $T/bin/inotifybatch (pid" "$T/sync.log" || fail "the inotifybatch beside INOTIFYSYNC_INOTIFYWAIT was not used"
  stop_sync
  export INOTIFYSYNC_INOTIFYWAIT=$saved_iw INOTIFYSYNC_INOTIFYBATCH=$saved_ib
  INOTIFYSYNC=$saved_sync
}

scenario_watcher() {
  local s=$T/src wpid rc=0
  mkdir -p "$s"
  start_sync "${DELAY[@]}" "$s" "$T/dst"
  wpid=$(watcher_of "$SYNC_PID") || fail "no watcher found"
  kill -KILL "$wpid"
  wait_for 10 not_running "$SYNC_PID" || fail "inotifysync kept running without its watcher"
  wait "$SYNC_PID" || rc=$?
  [ "$rc" = 2 ] || fail "exit status $rc after the watcher died, expected 2"
  grep -q 'the watcher exited' "$T/sync.log" || fail "the watcher's death was not logged"
  # the source removed under it
  : >"$T/sync.log"
  start_sync "${DELAY[@]}" "$s" "$T/dst"
  rm -rf "$s"
  wait_for 10 not_running "$SYNC_PID" || fail "inotifysync kept running without its source"
  rc=0
  wait "$SYNC_PID" || rc=$?
  [ "$rc" = 2 ] || fail "exit status $rc after the source was removed, expected 2"
}

# A tree over the watch limit (the limit of a user namespace of its own, so no system setting
# changes): inotifysync refuses to start with the watcher's numbers, syncs nothing and exits 2.
scenario_watchlimit() {
  if ! unshare -U -r true 2>/dev/null; then
    note "SKIP: unshare -U -r is not available here (a user namespace sets its own watch limit)"
    exit 77
  fi
  local s=$T/src rc=0 i
  for ((i = 0; i < 10; i++)); do mkdir -p "$s/d$i"; done
  printf 'x\n' >"$s/file"
  # shellcheck disable=SC2016 # $0 and $@ are the inner shell's
  unshare -U -r /bin/sh -c 'echo 3 >/proc/sys/user/max_inotify_watches && exec "$0" "$@"' \
    "$INOTIFYSYNC" --log "$T/sync.log" "$s" "$T/dst" >>"$T/sync.out.log" 2>&1 || rc=$?
  ((rc == 2)) || fail "exit $rc on a tree over the watch limit, expected 2"
  grep -q -F 'upper limit on inotify watches reached' "$T/sync.log" || fail "the log does not name the watch limit"
  grep -q -F "holds 11 directories; the limit is 3 watches per user" "$T/sync.log" ||
    fail "the log does not give the tree's size and the limit"
  [ ! -e "$T/dst/file" ] || fail "inotifysync synced a tree it could not watch whole"
}

# Root only: a fanotify filesystem mark needs CAP_SYS_ADMIN.
need_root_for_fanotify() {
  if [ "$(id -u)" != 0 ]; then
    note "SKIP: a fanotify filesystem mark needs root (CAP_SYS_ADMIN); run as root to test it"
    exit 77
  fi
}

# Changes that need the right paths at once: a renamed directory with content, a new one.
rename_and_create() {
  local s=$1
  mv "$s/dir" "$s/renamed"
  printf 'after\n' >"$s/renamed/sub/after.txt"
  mkdir -p "$s/new/deeper"
  printf 'x\n' >"$s/new/deeper/x"
  rm "$s/one.txt"
}

# --fanotify: one filesystem mark, no inotify watch, and the same sync.
scenario_fanotify() {
  need_root_for_fanotify
  local s=$T/src d=$T/dst wpid
  seed_tree "$s"
  start_sync "${DELAY[@]}" --fanotify "$s" "$d"
  converge "$s" "$d" 20 "initial sync with --fanotify"
  wpid=$(watcher_of "$SYNC_PID") || fail "no watcher under inotifysync"
  grep -qs '^fanotify .*mflags:' "/proc/$wpid/fdinfo/"* || fail "the watcher holds no fanotify mark"
  ! grep -qs '^inotify wd:' "/proc/$wpid/fdinfo/"* || fail "the watcher holds inotify watches"
  rename_and_create "$s"
  converge "$s" "$d" 20 "renames and new directories with --fanotify"
  stop_sync
  [ "$SYNC_RC" = 0 ] || fail "exit status $SYNC_RC after SIGTERM"
}

# A source over max_user_watches, as root: the watcher takes a filesystem mark by itself. Lowers
# the real limit (per user, machine-wide) for the watcher's setup only; RUN_SERIAL in ctest.
watches_file=/proc/sys/fs/inotify/max_user_watches
saved_watches=
restore_watches() {
  if [ -n "$saved_watches" ]; then
    printf '%s\n' "$saved_watches" >"$watches_file"
    saved_watches=
  fi
}
# The inotify watches root's processes hold now (what the per-user limit counts).
root_watches() {
  local f n=0 c
  for f in /proc/[0-9]*/fdinfo/*; do
    [ "$(stat -c %u "${f%/fdinfo/*}" 2>/dev/null)" = 0 ] || continue
    c=$(grep -c '^inotify wd:' "$f" 2>/dev/null) || continue
    n=$((n + c))
  done
  REPLY=$n
}
scenario_fanotifyfallback() {
  need_root_for_fanotify
  local s=$T/src d=$T/dst i
  seed_tree "$s"
  for ((i = 0; i < 40; i++)); do mkdir -p "$s/many/d$i"; done
  trap 'restore_watches; cleanup_all' EXIT
  saved_watches=$(cat "$watches_file")
  root_watches
  # Room for 10 more watches: the source needs 46.
  printf '%d\n' $((REPLY + 10)) >"$watches_file"
  note "max_user_watches lowered from $saved_watches to $((REPLY + 10)) while the watcher starts"
  start_sync "${DELAY[@]}" "$s" "$d"
  restore_watches
  grep -q -F 'needs more inotify watches than max_user_watches allows; watching it with a fanotify filesystem mark instead' \
    "$T/sync.log" || fail "the log does not say the watcher took a filesystem mark"
  converge "$s" "$d" 20 "initial sync over the watch limit"
  rename_and_create "$s"
  printf 'y\n' >"$s/many/d39/y"
  converge "$s" "$d" 20 "changes over the watch limit"
  stop_sync
  [ "$SYNC_RC" = 0 ] || fail "exit status $SYNC_RC after SIGTERM"
}

# Starts an sshd of our own on 127.0.0.1 that lets root in with a key made here, and points
# rsync at it through RSYNC_RSH (inherited by inotifysync and its rsync).
start_sshd() {
  local port _ pid
  ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" || fail "ssh-keygen failed"
  ssh-keygen -q -t ed25519 -N '' -f "$T/id" || fail "ssh-keygen failed"
  cp "$T/id.pub" "$T/authorized_keys"
  chmod 600 "$T/authorized_keys"
  [ -d /run/sshd ] || mkdir -m 755 /run/sshd   # sshd's privilege separation directory
  export RSYNC_RSH
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    printf '%s\n' "Port $port" "ListenAddress 127.0.0.1" "HostKey $T/hostkey" "PidFile $T/sshd.pid" \
      "AuthorizedKeysFile $T/authorized_keys" "StrictModes no" "UsePAM no" "PasswordAuthentication no" \
      "KbdInteractiveAuthentication no" "PermitRootLogin prohibit-password" >"$T/sshd_config"
    /usr/sbin/sshd -D -e -f "$T/sshd_config" 2>>"$T/sshd.log" &
    pid=$!
    started_pids+=("$pid")
    RSYNC_RSH="ssh -p $port -i $T/id -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
    # shellcheck disable=SC2086,SC2317 # RSYNC_RSH is a command line, as rsync splits it; called through wait_for
    ssh_ready() { kill -0 "$pid" 2>/dev/null && $RSYNC_RSH root@127.0.0.1 true </dev/null 2>/dev/null; }
    if wait_for 10 ssh_ready; then
      note "sshd on port $port"
      return 0
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  fail "could not start sshd"
}

# Bytes inotifysync reports sent in its log lines after line $1.
bytes_sent_after() {
  tail -n +"$(($1 + 1))" "$T/sync.log" | grep -o '[0-9]* bytes sent' | awk '{ n += $1 } END { print n + 0 }'
}

# An ssh target ([user@]host:path): a real sshd on 127.0.0.1. Root only, because an sshd of
# our own needs its privilege separation user and /run/sshd; CI runs as root.
scenario_ssh() {
  if [ "$(id -u)" != 0 ]; then
    note "SKIP: starting an sshd of our own needs root"
    exit 77
  fi
  if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null; then
    note "SKIP: openssh-server is not installed (scripts/setup installs it)"
    exit 77
  fi
  local s=$T/src d=$T/ssh-target mark sent
  seed_tree "$s"
  # Names the remote shell must not interpret.
  printf 'x\n' >"$s/-rf"
  printf 'x\n' >"$s/\$(touch pwned)"
  printf 'x\n' >"$s/a b;c"
  start_sshd
  # The two moves at the end must land in one batch, as in bigfile: with the 0.2 s delay a loaded
  # fresh-clone CI run put them in two, and the moved file was sent again (a known limit).
  start_sync --delay 3 --retry-max 2 "$s" "root@127.0.0.1:$d"
  converge "$s" "$d" 30 "initial sync over ssh"
  printf 'new\n' >"$s/new"
  mv "$s/dir" "$s/dir2"
  chmod 751 "$s/dir2/sub"
  rm "$s/one.txt"
  printf 'y\n' >"$s/dir2/\`id\`"
  converge "$s" "$d" 30 "changes over ssh"
  # A big file moved into another directory whose parent is then renamed: not sent again.
  mkdir -p "$s/m1" "$s/m2"
  head -c $((8 << 20)) /dev/urandom >"$s/m1/big"
  converge "$s" "$d" 30 "an 8 MiB file over ssh"
  # shellcheck disable=SC2317 # called through wait_for
  big_batch_logged() { [ "$(bytes_sent_after 0)" -ge $((8 << 20)) ]; }
  wait_for 10 big_batch_logged || fail "the batch that sent the 8 MiB file was not logged"
  mark=$(wc -l <"$T/sync.log")
  mv "$s/m1/big" "$s/m2/big"
  mv "$s/m2" "$s/m3"
  converge "$s" "$d" 30 "a moved 8 MiB file over ssh"
  # shellcheck disable=SC2317 # called through wait_for
  moves_logged() { tail -n +"$((mark + 1))" "$T/sync.log" | grep 'bytes sent' >/dev/null; }
  wait_for 10 moves_logged || fail "no batch logged after the moves"
  sent=$(bytes_sent_after "$mark")
  note "inotifysync sent $sent bytes over ssh for the moves of an 8 MiB file"
  ((sent < (1 << 20))) || fail "the moved file was sent again: $sent bytes"
  find "$T" / /root "$d" -maxdepth 1 -name pwned 2>/dev/null | grep -q . && fail "a file name was executed by a shell"
  stop_sync
  [ "$SYNC_RC" = 0 ] || fail "exit status $SYNC_RC after SIGTERM"
}

# rsync exit 24 (files vanished while sent) on a batch: the source changed, the target is
# fine; the paths go again with the next batch, without back-off. The real rsync runs; a
# wrapper first in PATH reports 24 for its second run (the first batch).
scenario_vanished() {
  local s=$T/src d=$T/dst real
  seed_tree "$s"
  real=$(command -v rsync)
  mkdir -p "$T/bin"
  # The second real rsync (the first batch) exits 24; the safety checks' dry runs do not count.
  printf '%s\n' '#!/bin/bash' \
    "case \" \$* \" in *' --dry-run '*) exec '$real' \"\$@\" ;; esac" \
    "n=\$(cat '$T/rsync.count' 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n >'$T/rsync.count'" \
    "'$real' \"\$@\"; rc=\$?" \
    "[ \$n = 2 ] && [ \$rc = 0 ] && exit 24" \
    "exit \$rc" >"$T/bin/rsync"
  chmod 755 "$T/bin/rsync"
  PATH=$T/bin:$PATH start_sync "${DELAY[@]}" "$s" "$d"
  converge "$s" "$d" 10 "initial sync"
  printf 'a\n' >"$s/a"
  wait_log 1 'rsync exit 24 (files vanished while sent); they go again with the next batch'
  printf 'b\n' >"$s/b"
  converge "$s" "$d" 10 "the batch after exit 24"
  ! grep -q 'retry in' "$T/sync.log" || fail "exit 24 was retried with a back-off"
  wait_for 10 grep -q 'batch of .* rsync exit 0' "$T/sync.log" || fail "no batch succeeded after exit 24"
  stop_sync
  [ "$SYNC_RC" = 0 ] || fail "exit status $SYNC_RC after SIGTERM"
}

name=${1:?usage: scenarios.sh NAME}
declare -F "scenario_$name" >/dev/null || { printf 'unknown scenario %s\n' "$name" >&2; exit 2; }
note "inotifywait: $INOTIFYSYNC_INOTIFYWAIT"
"scenario_$name"
printf 'PASS: %s\n' "$name"
