#!/usr/bin/env bash
# Measures inotifysync next to lsyncd (Debian's lsyncd, default.rsync, delay 1) against an
# rsync daemon on 127.0.0.1:
#   changes   1,000 changed files: time from the last change to convergence, rsync runs
#   overflow  a 30,000-file burst that overflows the kernel queue (16384 events) while the
#             event reader is stopped: time from the end of the burst to convergence, and
#             the CPU seconds used by the syncer and its children meanwhile
#   move      a 16 MiB file moved into another directory whose parent is then renamed:
#             the bytes the daemon received
# Usage: [MEASURE_CASES="changes overflow move"] [MEASURE_KEEP_LOGS=DIR] [MEASURE_SYNC_OPTS=-v]
#        measure.sh [inotifysync|lsyncd]...
# (default: both). Needs root for the queue
# limit (lowered to 16384 only while the syncer starts) and lsyncd installed for its rows.
set -euo pipefail
# shellcheck source=lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# A fresh source, daemon and syncer for each measurement.
setup_case() {
  rm -rf -- "$T/src" "$T/dst"
  mkdir -p "$T/src" "$T/dst"
  : >"$T/sync.log"
}

# Starts the syncer $1 on $T/src; sets TOOL_PID and READER_PID (the process that reads the
# inotify queue: inotifywait for inotifysync, lsyncd itself).
start_tool() {
  local tool=$1 target
  target=$(printf 'rsync://tester@127.0.0.1:%d/m/' "$DAEMON_PORT")
  lower_limit
  case $tool in
    inotifysync)
      # shellcheck disable=SC2086 # MEASURE_SYNC_OPTS: extra options, split on spaces
      /usr/bin/time -f '%U %S' -o "$T/time.out" "$INOTIFYSYNC" ${MEASURE_SYNC_OPTS:-} --delay 1 --log "$T/sync.log" \
        --password-file "$T/d1.password" "$T/src" "$target" 2>>"$T/sync.out.log" &
      TOOL_PID=$!
      started_pids+=("$TOOL_PID")
      wait_for 30 grep -s -q 'full sync, ' "$T/sync.log" || fail "inotifysync did not start"
      MAIN_PID=$(pgrep -P "$TOOL_PID")
      READER_PID=$(watcher_of "$MAIN_PID")
      ;;
    lsyncd)
      cat >"$T/lsyncd.conf" <<EOF
settings { logfile = "$T/sync.log", nodaemon = true, insist = true }
sync { default.rsync, source = "$T/src", target = "$target", delay = 1,
       rsync = { archive = true, password_file = "$T/d1.password" } }
EOF
      /usr/bin/time -f '%U %S' -o "$T/time.out" lsyncd -nodaemon "$T/lsyncd.conf" \
        >>"$T/sync.out.log" 2>&1 &
      TOOL_PID=$!
      started_pids+=("$TOOL_PID")
      wait_for 30 grep -s -q 'Startup of .* finished' "$T/sync.log" || fail "lsyncd did not start"
      MAIN_PID=$(pgrep -P "$TOOL_PID")
      READER_PID=$MAIN_PID
      ;;
  esac
  restore_limit
}

stop_tool() {
  kill -TERM "$MAIN_PID" 2>/dev/null || true
  wait "$TOOL_PID" 2>/dev/null || true
}

saved_limit=
lower_limit() {
  local f=/proc/sys/fs/inotify/max_queued_events
  saved_limit=$(cat "$f")
  [ "$saved_limit" = 16384 ] || printf '16384\n' >"$f"
}
restore_limit() {
  [ -z "$saved_limit" ] || printf '%s\n' "$saved_limit" >/proc/sys/fs/inotify/max_queued_events
  saved_limit=
}

# CPU seconds (user + system) of a process and its reaped children so far.
cpu_of() {
  local f
  read -r -a f <"/proc/$1/stat" || { printf '0\n'; return; }
  # fields 14-17 (utime stime cutime cstime), in clock ticks; the name has no spaces here
  printf '%d\n' $((f[13] + f[14] + f[15] + f[16]))
}

rsync_runs() { grep -c 'rsync to m/' "$T/d1.daemon.log" || true; }

measure_changes() {
  local tool=$1 i t_last start runs0 runs1
  setup_case
  for i in $(seq 1 1000); do printf 'v1 %d\n' "$i" >"$T/src/f$i"; done
  start_tool "$tool"
  converge "$T/src" "$T/dst" 30 "initial sync"
  sleep 2
  runs0=$(rsync_runs)
  for i in $(seq 1 1000); do printf 'v2 changed %d\n' "$i" >>"$T/src/f$i"; done
  now_ms
  t_last=$REPLY
  wait_for 60 same_tree "$T/src" "$T/dst" || fail "$tool: 1000 changes did not converge"
  now_ms
  start=$((REPLY - t_last))
  sleep 3
  runs1=$(rsync_runs)
  printf '%-12s changes   1000 files: converged %d ms after the last change, %d rsync runs\n' \
    "$tool" "$start" $((runs1 - runs0)) | tee -a "$T/results"
  stop_tool
}

measure_overflow() {
  local tool=$1 i j t0 cpu0 cpu1 ms hz
  setup_case
  for ((i = 0; i < 30; i++)); do mkdir "$T/src/b$i"; done
  start_tool "$tool"
  converge "$T/src" "$T/dst" 30 "initial sync"
  sleep 2
  kill -STOP "$READER_PID"
  for ((i = 0; i < 30; i++)); do
    for ((j = 0; j < 1000; j++)); do printf '%d\n' "$j" >"$T/src/b$i/f$j"; done
  done
  hz=$(getconf CLK_TCK)
  cpu0=$(($(cpu_of "$MAIN_PID") + ( READER_PID != MAIN_PID ? $(cpu_of "$READER_PID") : 0 )))
  now_ms
  t0=$REPLY
  kill -CONT "$READER_PID"
  wait_for 120 same_tree "$T/src" "$T/dst" || fail "$tool: the burst did not converge"
  now_ms
  ms=$((REPLY - t0))
  sleep 1
  # CPU of the syncer, its reaped children (rsync) and, for inotifysync, its watcher
  cpu1=$(($(cpu_of "$MAIN_PID") + ( READER_PID != MAIN_PID ? $(cpu_of "$READER_PID") : 0 )))
  local overflowed=no
  grep -q -i 'overflow' "$T/sync.log" && overflowed=yes
  printf '%-12s overflow  30000 files: converged %d ms after the burst, %d.%02d CPU s (overflow seen: %s)\n' \
    "$tool" "$ms" $(((cpu1 - cpu0) / hz)) $(((cpu1 - cpu0) % hz * 100 / hz)) "$overflowed" | tee -a "$T/results"
  stop_tool
}

measure_move() {
  local tool=$1 before after
  setup_case
  mkdir -p "$T/src/d1" "$T/src/d2"
  head -c $((16 << 20)) /dev/urandom >"$T/src/d1/big"
  printf 'small\n' >"$T/src/d2/small"
  start_tool "$tool"
  converge "$T/src" "$T/dst" 30 "initial sync"
  sleep 2
  before=$(daemon_received d1)
  mv "$T/src/d1/big" "$T/src/d2/big"
  mv "$T/src/d2" "$T/src/d3"
  wait_for 60 same_tree "$T/src" "$T/dst" || fail "$tool: the move did not converge"
  sleep 3
  after=$(daemon_received d1)
  printf '%-12s move      16 MiB: the daemon received %d bytes\n' "$tool" $((after - before)) | tee -a "$T/results"
  stop_tool
}

tools=("$@")
((${#tools[@]})) || tools=(inotifysync lsyncd)
start_daemon d1 "$T/dst"
trap 'restore_limit; cleanup_all' EXIT
note "inotifywait: $INOTIFYSYNC_INOTIFYWAIT"
read -r -a cases <<<"${MEASURE_CASES:-changes overflow move}"
for tool in "${tools[@]}"; do
  for c in "${cases[@]}"; do
    "measure_$c" "$tool"
    cp "$T/sync.log" "$T/$tool-$c.log"
  done
done
printf '\n'
cat "$T/results"
if [ -n "${MEASURE_KEEP_LOGS:-}" ]; then
  mkdir -p "$MEASURE_KEEP_LOGS"
  cp "$T"/*-*.log "$T/results" "$MEASURE_KEEP_LOGS/"
fi
