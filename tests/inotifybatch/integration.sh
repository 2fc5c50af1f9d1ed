#!/usr/bin/env bash
# inotifybatch against the real kernel: one scenario per run (integration.sh NAME). Each waits
# for facts (the program's own lines: ready, batch, overflow, gone, end), never for time.
set -euo pipefail

readonly line_timeout=60   # seconds for one expected line (generous: CI and the sanitizers are slow)

IB=${INOTIFYBATCH:?set INOTIFYBATCH to the program under test}
T=$(mktemp -d "${TMPDIR:-/tmp}/inotifybatch-test.XXXXXX")
S=$T/src
OUT=$T/out
ib_pid=
ibfd=
saved_queue_limit=

cleanup() {
  [ -z "$ib_pid" ] || kill -CONT "$ib_pid" 2>/dev/null || true
  [ -z "$ib_pid" ] || kill -KILL "$ib_pid" 2>/dev/null || true
  [ -z "$saved_queue_limit" ] || printf '%s\n' "$saved_queue_limit" >/proc/sys/fs/inotify/max_queued_events
  rm -rf -- "$T"
}
trap cleanup EXIT

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  printf -- '--- stderr\n' >&2
  cat "$T/err" >&2 2>/dev/null || true
  exit 1
}

# Starts inotifybatch on $S with options "$@"; its stdout is the coprocess IBC.
start() {
  mkdir -p "$OUT"
  coproc IBC { exec "$IB" --out "$OUT" "$@" "$S" 2>"$T/err"; }
  ib_pid=$IBC_PID
  exec {ibfd}<&"${IBC[0]}"   # bash forgets IBC when the program exits; the lines stay readable
  expect '^ready$'
}

# Reads lines until one matches the regex $1 (sets LINE); the batch lines met on the way are
# collected in batches (numbers).
batches=()
expect() {
  while :; do
    IFS= read -r -t "$line_timeout" -u "$ibfd" LINE || fail "no line matching '$1' (got EOF or timeout)"
    [[ $LINE =~ ^batch\ ([0-9]+)\  ]] && batches+=("$OUT/${BASH_REMATCH[1]}")
    [[ $LINE =~ $1 ]] && return 0
  done
}

# Merges every batch seen so far into $OUT/m.
merge() {
  ((${#batches[@]} > 0)) || fail "no batch"
  "$IB" --merge "$OUT/m" "$S" "${batches[@]}" >"$T/merged" || fail "--merge failed"
}

entries() { tr '\0' '\n' <"$1"; }
# grep without -q reads to the end: with -q it may exit first, and the writer's SIGPIPE fails the
# pipeline under pipefail (a found path then looked missing, under load).
has() { entries "$1" | grep -xF -- "$2" >/dev/null; }
count_of() { entries "$1" | grep -c -- "$2" || true; }

# Waits for batches until every one of the paths "$@" (./-relative) is in the merged send list.
until_sent() {
  local p missing
  ((${#batches[@]} > 0)) || expect '^batch '
  while :; do
    missing=
    merge
    for p in "$@"; do has "$OUT/m.send" "$p" || { missing=$p; break; }; done
    [ -n "$missing" ] || return 0
    expect '^batch '
  done
}

scenario_burst() {
  local i j
  mkdir -p "$S"
  for ((i = 0; i < 20; i++)); do mkdir "$S/d$i"; done
  start --delay 0.2
  for ((i = 0; i < 20; i++)); do
    for ((j = 0; j < 100; j++)); do : >"$S/d$i/f$j"; done
  done
  until_sent ./d19/f99 ./d0/f0
  local n
  n=$(count_of "$OUT/m.send" '^\./d[0-9]*/f')
  ((n == 2000)) || fail "expected 2000 files in the lists, got $n"
}

scenario_moves() {
  mkdir -p "$S/dir"
  printf 'x\n' >"$S/file"
  printf 'y\n' >"$S/dir/inner"
  start --delay 0.2
  mv "$S/file" "$S/file2"
  mv "$S/file2" "$S/file3"   # a chain: one move from file
  mv "$S/dir" "$S/moved"
  until_sent ./file3 ./moved
  entries "$OUT/m.moves" >"$T/moves.txt"
  local want
  for want in file3 file moved dir; do
    grep -qxF -- "$want" "$T/moves.txt" || fail "no '$want' in the moves: $(tr '\n' ' ' <"$T/moves.txt")"
  done
  has "$OUT/m.deleted" ./dir || fail "the old directory is not a deletion candidate"
  ! grep -qxF -- file2 "$T/moves.txt" || fail "the middle name of the chain is in the moves"
}

scenario_excludes() {
  local i watches
  mkdir -p "$S/keep" "$S/skip"
  for ((i = 0; i < 5; i++)); do mkdir "$S/skip/sub$i"; done
  start --delay 0.2 --exclude 'skip/' --exclude '*.tmp'
  # src and keep are watched; skip and its five subdirectories are not (pruned).
  watches=$(grep -c '^inotify wd:' /proc/"$ib_pid"/fdinfo/* 2>/dev/null | awk -F: '{s += $NF} END {print s}')
  ((watches == 2)) || fail "expected 2 watches (skip/ pruned), found $watches"
  : >"$S/keep/a.tmp"
  : >"$S/skip/sub0/x"
  mkdir "$S/skip/late"
  : >"$S/keep/b"
  until_sent ./keep/b
  ! has "$OUT/m.send" ./keep/a.tmp || fail "an excluded file was listed"
  ! entries "$OUT/m.send" | grep skip >/dev/null || fail "a path in an excluded directory was listed"
}

scenario_stop() {
  mkdir -p "$S"
  start --delay 30
  : >"$S/pending"
  # The event is read once the file is there; the long delay keeps it pending until TERM.
  kill -TERM "$ib_pid"
  expect '^end$'
  local rc=0
  wait "$ib_pid" || rc=$?
  ib_pid=
  ((rc == 0)) || fail "exit status $rc after SIGTERM"
  merge
  has "$OUT/m.send" ./pending || fail "the pending path was not handed out at SIGTERM"
}

scenario_gone() {
  mkdir -p "$S/sub"
  start --delay 0.2
  rm -rf -- "$S"
  expect '^gone '
  [[ $LINE == 'gone DELETE_SELF'* ]] || fail "unexpected line: $LINE"
  local rc=0
  wait "$ib_pid" || rc=$?
  ib_pid=
  ((rc == 2)) || fail "exit status $rc when the source is gone"
}

# Overflows the kernel queue of a watcher started with options "$@" (the queue lowered to
# 16384 while it starts, when the machine has it raised).
overflow_with() {
  local qf=/proc/sys/fs/inotify/max_queued_events limit
  limit=$(cat "$qf")
  if ((limit > 20000)) && [ -w "$qf" ]; then
    saved_queue_limit=$limit
    printf '16384\n' >"$qf"
  fi
  start --delay 0.2 "$@"
  if [ -n "$saved_queue_limit" ]; then
    printf '%s\n' "$saved_queue_limit" >"$qf"
    saved_queue_limit=
  fi
  limit=$(cat "$qf")
  ((limit <= 20000)) || limit=16384
  kill -STOP "$ib_pid"
  : >"$S/while-stopped"
  rm -f -- "$S/old/gone-while-stopped"
  "${INOTIFYBATCH_EVFLOOD:?}" "$S" $((limit + 1000)) || fail "evflood failed"
  kill -CONT "$ib_pid"
}

scenario_overflow() {
  mkdir -p "$S/old"
  : >"$S/a"
  : >"$S/old/gone-while-stopped"
  # With the snapshot: the differences come as a batch.
  overflow_with
  expect '^overflow( diffed)?$'
  [ "$LINE" = 'overflow diffed' ] || fail "no snapshot diff after the overflow: $LINE"
  until_sent ./while-stopped ./old/gone-while-stopped
  has "$OUT/m.deleted" ./old/gone-while-stopped || fail "the deletion while stopped is not a deletion candidate"
  kill -KILL "$ib_pid"
  wait "$ib_pid" 2>/dev/null || true
  ib_pid=
  batches=()
  rm -rf -- "$OUT"
  # Without one (--snapshot-max 0): the driver is asked for a full sync.
  overflow_with --snapshot-max 0
  expect '^overflow( diffed)?$'
  [ "$LINE" = overflow ] || fail "expected a plain overflow line, got: $LINE"
  : >"$S/after"
  until_sent ./after
}

main() {
  if [ $# -ne 1 ] || ! declare -F "scenario_$1" >/dev/null; then
    echo "usage: $0 SCENARIO" >&2
    exit 2
  fi
  "scenario_$1"
  echo "ok: inotifybatch.$1"
}
main "$@"
