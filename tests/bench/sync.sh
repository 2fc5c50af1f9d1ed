#!/usr/bin/env bash
# scripts/bench sync: inotifysync next to lsyncd 2.2.3 (default.rsync, delay 1) and a plain
# `rsync -a` of the same files (the floor), in one run, against one rsync daemon on 127.0.0.1.
# Cases (issue 12):
#   changes        1,000 changed files while the syncer runs
#   burst          N new files (30,000; 10,000 in --quick) in N/1000 directories while it runs
#   burst-stopped  the same burst while the event reader is stopped (SIGSTOP): the queue overflows
#   massive        a tree of M files synced at start (100,000; 20,000 in --quick), then 3M new
#                  files in 3M/1000 new directories while the reader is stopped (only the
#                  directories' creation is queued: the syncer finds the files by scanning them)
#   massive-overflow  the same, the 3M/1000 directories made (and synced) before the reader
#                  stops: every new file is an event, and the queue overflows on a big tree
#   move           a 16 MiB file moved to another directory whose parent is then renamed
# For each: the time from the end of the workload (SIGCONT when stopped) until the target
# matches the source (the file count, then an rsync --dry-run itemize that lists nothing), the
# CPU seconds of the syncer's whole process tree from the start of the workload until it is idle,
# and its peak memory: the sum of VmRSS over the tree, sampled, and the per-run cgroup's peak.
# The queue limit (max_queued_events) is 16384 only while the syncer starts, then restored.
#   sync.sh [--quick | --smoke] [--only CASES] [--tools LIST] [--repeat N] [--keep-logs DIR] [--nice N]
# CASES: comma-separated (default: all, in the order above); LIST: of ours, lsyncd, rsync
# (default all three); --repeat N: each case N times, the tools in turn, the table shows medians.
# Needs root (the queue limit, cgroups) and lsyncd. Exit status 0 when every target of issue 12
# is met (always with --smoke, which checks the harness).
# Environment: INOTIFYSYNC (the driver), INOTIFYSYNC_INOTIFYWAIT, MEASURE_TMPDIR (default
# /dev/shm), MEASURE_NO_CGROUP=1 (account by /proc parentage), TEST_DEADLINE_SLACK.
set -euo pipefail

readonly queue_limit=16384   # the kernel's default max_queued_events: what the bursts overflow
readonly delay_s=1           # batch delay of both syncers
readonly start_deadline_s=60 # every deadline is multiplied by lib.sh's slack
readonly converge_deadline_s=900
readonly idle_deadline_s=300
readonly nap_s=0.02          # wait_in_step's poll of the daemon (a /proc read, no process)

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export TMPDIR=${MEASURE_TMPDIR:-/dev/shm}
# shellcheck source=../inotifysync/lib.sh
. "$bench_dir/../inotifysync/lib.sh"
# shellcheck source=sync_tree.sh
. "$bench_dir/sync_tree.sh"

src=$T/src
dst=$T/dst
results=$T/results.tsv
target=

# ---- the queue limit, lowered only while a syncer starts ------------------------------------
readonly queue_sysctl=/proc/sys/fs/inotify/max_queued_events
saved_limit=
lower_limit() {
  saved_limit=$(cat "$queue_sysctl")
  printf '%d\n' "$queue_limit" >"$queue_sysctl"
}
restore_limit() {
  [ -z "$saved_limit" ] || printf '%s\n' "$saved_limit" >"$queue_sysctl"
  saved_limit=
}

# ---- workloads ------------------------------------------------------------------------------
# An empty source and target (the daemon serves $dst).
fresh_trees() {
  rm -rf -- "$src" "$dst"
  mkdir -p "$src" "$dst"
  : >"$T/sync.log"
}

# make_files PREFIX FIRST COUNT: directories PREFIX<FIRST>... with files_per_dir small files each.
make_files() {
  local prefix=$1 first=$2 count=$3 i j d
  for ((i = first; i < first + count; i++)); do
    d=$src/$prefix$i
    mkdir -p "$d"
    for ((j = 0; j < files_per_dir; j++)); do printf '%d\n' "$j" >"$d/f$j"; done
  done
}

entries() { find "$1" -mindepth 1 -printf . 2>/dev/null | wc -c; }

# ---- convergence, a fact ---------------------------------------------------------------------
# The daemon's log lines so far (every connection adds some, at its start and at its end), read
# without a process.
daemon_log_lines() {
  local -a lines=()
  mapfile -t lines <"$T/d1.daemon.log" 2>/dev/null || true
  REPLY=${#lines[@]}
}

# True when $dst holds $1 entries and an rsync dry run from $src lists nothing to do (directory
# times aside: a batch need not set them). Called while the daemon is idle: if its log shows no
# connection since then, the target matched from the start of the check (STEP_MS; the count of
# 100,000 entries took 0.1-0.2 s, which the floor rsync does not pay); else from when the count
# matched. STEP_COUNTED_MS: always when the count matched.
in_step() {
  local idle_ms log0
  now_ms
  idle_ms=$REPLY
  daemon_log_lines
  log0=$REPLY
  [ "$(entries "$dst")" -eq "$1" ] || return 1
  now_ms
  STEP_COUNTED_MS=$REPLY
  STEP_MS=$REPLY
  [ -z "$(rsync -a -O --delete -n -i --out-format='%i %n' "$src/" "$dst/" 2>&1)" ] || return 1
  daemon_log_lines
  if [ "$REPLY" = "$log0" ] && ! daemon_busy; then STEP_MS=$idle_ms; fi
  return 0
}

# True while the daemon serves a connection (a child per connection), read without a process.
daemon_busy() {
  local var=daemon_pid_d1 conns=
  local pid=${!var}
  read -r conns <"/proc/$pid/task/$pid/children" || true
  [ -n "$conns" ]
}

# Waits until the target matches the source; sets STEP_MS (and STEP_COUNTED_MS). While the daemon serves a
# connection the target is not counted: a find over 100,000 entries every poll competed with
# the transfer being timed (the floor rsync has no poller); the daemon is looked at every
# nap_s without a process, so the end of a transfer is seen within that; between transfers
# the target is counted every 0.1 s as before.
wait_in_step() {
  local want start nap
  want=$(entries "$src")
  now_ms
  start=$REPLY
  while :; do
    nap=$nap_s
    if ! daemon_busy; then
      in_step "$want" && return 0
      nap=0.1   # as wait_for: a count between transfers
    fi
    now_ms
    if ((REPLY - start >= converge_deadline_s * deadline_slack * 1000)); then
      show_diff "$src" "$dst"
      fail "$1 did not converge"
    fi
    read -r -t "$nap" -u "$nap_fd" _ || true
  done
}

# Waits until the tree is idle and no connection to the daemon is open; sets TREE_IDLE_CPU_MS.
wait_idle() {
  wait_for "$idle_deadline_s" tree_idle daemon_settled d1 || fail "$1 does not become idle"
}

# ---- the syncers -----------------------------------------------------------------------------
# Starts syncer $1 (ours or lsyncd) on $src as a new tree; the queue limit is lowered until one
# of its processes holds an inotify instance.
start_syncer() {
  lower_limit
  case $1 in
    ours)
      # Each case's source is a new tree at the same path: a state directory kept from the
      # previous case would (rightly) make the safety checks refuse every deletion.
      rm -rf -- "${STATE_DIRECTORY:?}"
      # shellcheck disable=SC2086 # MEASURE_SYNC_OPTS: extra options, split on spaces
      tree_start "$INOTIFYSYNC" ${MEASURE_SYNC_OPTS:-} --delay "$delay_s" --log "$T/sync.log" \
        --password-file "$T/d1.password" "$src" "$target" >>"$T/sync.out.log" 2>&1
      ;;
    lsyncd)
      cat >"$T/lsyncd.conf" <<EOF
settings { logfile = "$T/sync.log", nodaemon = true, insist = true }
sync { default.rsync, source = "$src", target = "$target", delay = $delay_s,
       rsync = { archive = true, password_file = "$T/d1.password" } }
EOF
      tree_start lsyncd -nodaemon "$T/lsyncd.conf" >>"$T/sync.out.log" 2>&1
      ;;
  esac
  wait_for "$start_deadline_s" tree_has_reader || fail "$1 did not open an inotify instance"
  restore_limit
}

# The floor: one plain rsync -a of $src to the target; sets FLOOR_MS and the TREE_RUN_* figures.
floor_rsync() {
  local t0
  now_ms
  t0=$REPLY
  tree_run rsync -a --password-file="$T/d1.password" "$src/" "$target" >>"$T/sync.out.log" 2>&1
  now_ms
  FLOOR_MS=$((REPLY - t0))
  ((TREE_RUN_RC == 0)) || fail "rsync -a exited with status $TREE_RUN_RC"
}

readers=()
stop_readers() {
  mapfile -t readers < <(tree_readers)
  ((${#readers[@]})) || fail "no event reader to stop"
  kill -STOP "${readers[@]}"
}
cont_readers() { kill -CONT "${readers[@]}"; }

# record CASE TOOL KEY VALUE
record() { printf '%s\t%s\t%s\t%s\n' "$@" >>"$results"; }

# Records the figures of a syncer's phase that began at CPU $2 (ms): CPU until idle, peaks.
record_phase() {
  local c=$1 tool=$2 cpu0=$3 conv_ms=$4
  record "$c" "$tool" conv_ms "$conv_ms"
  record "$c" "$tool" cpu_ms $((TREE_IDLE_CPU_MS - cpu0))
  record "$c" "$tool" rss_kb "$(rss_sampler_stop)"
  record "$c" "$tool" mem_kb "$(tree_mem_peak_kb)"
  if grep -q -i overflow "$T/sync.log"; then record "$c" "$tool" overflow 1; else record "$c" "$tool" overflow 0; fi
}

record_floor() {
  record "$1" rsync conv_ms "$FLOOR_MS"
  record "$1" rsync cpu_ms "$TREE_RUN_CPU_MS"
  record "$1" rsync rss_kb "$TREE_RUN_RSS_KB"
  record "$1" rsync mem_kb "$TREE_RUN_MEM_KB"
}

rsync_runs() { grep -c 'rsync to m/' "$T/d1.daemon.log" || true; }

# ---- the cases -------------------------------------------------------------------------------
# A syncer started on the current source, the initial sync done, everything idle.
ready_syncer() {
  start_syncer "$1"
  wait_in_step "$1: the initial sync"
  wait_idle "$1 after the initial sync"
}

case_changes() {
  local tool=$1 i cpu0 t0 runs0
  fresh_trees
  mkdir "$src/c"
  for ((i = 0; i < changes_files; i++)); do printf 'v1 %d\n' "$i" >"$src/c/f$i"; done
  if [ "$tool" = rsync ]; then
    floor_rsync
    for ((i = 0; i < changes_files; i++)); do printf 'v2 changed %d\n' "$i" >>"$src/c/f$i"; done
    floor_rsync
    record changes rsync runs 1
    record_floor changes
    return
  fi
  ready_syncer "$tool"
  runs0=$(rsync_runs)
  cpu0=$(tree_cpu_ms)
  tree_mem_reset
  rss_sampler_start
  for ((i = 0; i < changes_files; i++)); do printf 'v2 changed %d\n' "$i" >>"$src/c/f$i"; done
  now_ms
  t0=$REPLY
  wait_in_step "$tool: the changes"
  wait_idle "$tool after the changes"
  record_phase changes "$tool" "$cpu0" $((STEP_MS - t0))
  record changes "$tool" runs $(($(rsync_runs) - runs0))
  tree_stop
}

# case_burst CASE TOOL STOPPED(0|1)
case_burst() {
  local c=$1 tool=$2 stopped=$3 cpu0 t0
  fresh_trees
  local i
  for ((i = 0; i < burst_dirs; i++)); do mkdir "$src/b$i"; done
  if [ "$tool" = rsync ]; then
    floor_rsync
    make_files b 0 "$burst_dirs"
    floor_rsync
    record_floor "$c"
    return
  fi
  ready_syncer "$tool"
  ((stopped == 0)) || stop_readers
  cpu0=$(tree_cpu_ms)
  tree_mem_reset
  rss_sampler_start
  make_files b 0 "$burst_dirs"
  ((stopped == 0)) || cont_readers
  now_ms
  t0=$REPLY
  wait_in_step "$tool: the burst"
  wait_idle "$tool after the burst"
  record_phase "$c" "$tool" "$cpu0" $((STEP_MS - t0))
  tree_stop
}

# case_massive CASE TOOL EXISTING(0|1): the new files go into new directories (0: only their
# creation is queued while stopped, the syncer finds the files when it scans them) or into
# directories made and synced beforehand (1: every file is an event, the queue overflows).
case_massive() {
  local c=$1 tool=$2 existing=$3 t0 cpu0 i
  fresh_trees
  make_files m 0 "$massive_init_dirs"
  if [ "$tool" = rsync ]; then
    floor_rsync
    record "$c" rsync init_ms "$FLOOR_MS"
    record "$c" rsync init_counted_ms "$FLOOR_MS"
    record "$c" rsync init_cpu_ms "$TREE_RUN_CPU_MS"
    if ((existing)); then
      for ((i = massive_init_dirs; i < massive_init_dirs + massive_new_dirs; i++)); do mkdir "$src/m$i"; done
      floor_rsync
    fi
    make_files m "$massive_init_dirs" "$massive_new_dirs"
    floor_rsync
    record_floor "$c"
    return
  fi
  now_ms
  t0=$REPLY
  start_syncer "$tool"
  rss_sampler_start # the peaks cover the whole run, the initial sync included
  wait_in_step "$tool: the initial sync of the tree"
  record "$c" "$tool" init_ms $((STEP_MS - t0))
  record "$c" "$tool" init_counted_ms $((STEP_COUNTED_MS - t0))
  wait_idle "$tool after the initial sync"
  record "$c" "$tool" init_cpu_ms "$TREE_IDLE_CPU_MS"
  if ((existing)); then
    for ((i = massive_init_dirs; i < massive_init_dirs + massive_new_dirs; i++)); do mkdir "$src/m$i"; done
    wait_in_step "$tool: the new directories"
    wait_idle "$tool after the new directories"
  fi
  stop_readers
  cpu0=$(tree_cpu_ms)
  make_files m "$massive_init_dirs" "$massive_new_dirs"
  cont_readers
  now_ms
  t0=$REPLY
  wait_in_step "$tool: the new files"
  wait_idle "$tool after the new files"
  record_phase "$c" "$tool" "$cpu0" $((STEP_MS - t0))
  tree_stop
}

case_move() {
  local tool=$1 before t0 cpu0
  fresh_trees
  mkdir -p "$src/d1" "$src/d2"
  head -c $((16 << 20)) /dev/urandom >"$src/d1/big"
  printf 'small\n' >"$src/d2/small"
  if [ "$tool" = rsync ]; then
    floor_rsync
    before=$(daemon_received d1)
    mv "$src/d1/big" "$src/d2/big"
    mv "$src/d2" "$src/d3"
    floor_rsync
    record_floor move
    record move rsync bytes $(($(daemon_received d1) - before))
    return
  fi
  ready_syncer "$tool"
  before=$(daemon_received d1)
  cpu0=$(tree_cpu_ms)
  tree_mem_reset
  rss_sampler_start
  mv "$src/d1/big" "$src/d2/big"
  mv "$src/d2" "$src/d3"
  now_ms
  t0=$REPLY
  wait_in_step "$tool: the move"
  wait_idle "$tool after the move"
  record_phase move "$tool" "$cpu0" $((STEP_MS - t0))
  record move "$tool" bytes $(($(daemon_received d1) - before))
  tree_stop
}

run_case() {
  case $1 in
    changes) case_changes "$2" ;;
    burst) case_burst burst "$2" 0 ;;
    burst-stopped) case_burst burst-stopped "$2" 1 ;;
    massive) case_massive massive "$2" 0 ;;
    massive-overflow) case_massive massive-overflow "$2" 1 ;;
    move) case_move "$2" ;;
    *) fail "unknown case '$1'" ;;
  esac
}

# ---- main -------------------------------------------------------------------------------------
# The header comment of this file, up to the first line that is not a comment.
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; }

main() {
  local mode=full only=${MEASURE_CASES:-} tools=ours,lsyncd,rsync keep="" niceness=-10 repeat=1
  while (($#)); do
    case $1 in
      --quick) mode=quick ;;
      --smoke) mode=smoke ;;
      --only) only=$2; shift ;;
      --only=*) only=${1#*=} ;;
      --tools) tools=$2; shift ;;
      --tools=*) tools=${1#*=} ;;
      --keep-logs) keep=$2; shift ;;
      --keep-logs=*) keep=${1#*=} ;;
      --repeat) repeat=$2; shift ;;
      --repeat=*) repeat=${1#*=} ;;
      --nice) niceness=$2; shift ;;
      --nice=*) niceness=${1#*=} ;;
      -h | --help) usage; exit 0 ;;
      *) printf 'sync.sh: unknown argument %s\n' "$1" >&2; exit 2 ;;
    esac
    shift
  done
  case $mode in
    full) files_per_dir=1000 changes_files=1000 burst_dirs=30 massive_init_dirs=100 massive_new_dirs=300 ;;
    quick) files_per_dir=1000 changes_files=1000 burst_dirs=10 massive_init_dirs=20 massive_new_dirs=60 ;;
    smoke) files_per_dir=100 changes_files=100 burst_dirs=3 massive_init_dirs=2 massive_new_dirs=6 ;;
  esac
  local -a cases tool_list
  IFS=', ' read -r -a cases <<<"${only:-changes,burst,burst-stopped,massive,massive-overflow,move}"
  IFS=', ' read -r -a tool_list <<<"$tools"
  # exit status 77 (a skipped CTest test) when the machine cannot run it
  [ "$(id -u)" = 0 ] || { printf 'sync.sh: needs root (the queue limit, cgroups)\n' >&2; exit 77; }
  if [[ " ${tool_list[*]} " == *" lsyncd "* ]] && ! command -v lsyncd >/dev/null; then
    printf 'sync.sh: lsyncd is not installed\n' >&2
    exit 77
  fi
  # A session and autogroup of its own at a higher priority, like scripts/bench's trials.
  if [ "$niceness" != 0 ] && [ "$(ps -o sid= -p $$ | tr -d ' ')" = $$ ]; then
    printf '%d\n' "$niceness" >/proc/self/autogroup 2>/dev/null || niceness=0
  else
    niceness=0
  fi
  tree_init
  # the tree's cpu cgroup gets the weight of a nice $niceness autogroup (1.25x per step, as the kernel)
  TREE_CPU_SHARES=$(awk -v n="$niceness" 'BEGIN { printf "%d\n", 1024 * 1.25 ^ -n }')
  trap 'restore_limit; cleanup_all' EXIT
  # A FIFO nobody writes: read -t on it is a sleep without a process.
  mkfifo "$T/nap"
  exec {nap_fd}<>"$T/nap"
  : >"$results"
  start_daemon d1 "$dst"
  target=$(printf 'rsync://tester@127.0.0.1:%d/m/' "$DAEMON_PORT")
  local started c tool
  now_ms
  started=$REPLY
  printf 'libwatch sync benchmark (%s): %s, commit %s, %d CPUs, load %s\n' "$mode" \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git -C "$bench_dir" rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf 'ours: %s (watcher %s); lsyncd: %s; %s; accounting: %s; nice %s (cpu.shares %s); files in %s\n' \
    "$INOTIFYSYNC" "$INOTIFYSYNC_INOTIFYWAIT" "$(lsyncd -version 2>&1 | head -n 1 || true)" \
    "$(rsync --version | head -n 1)" "$tree_mode" "$niceness" "$TREE_CPU_SHARES" "$TMPDIR"
  printf 'workloads: changes %d files; bursts %d files in %d directories; massive %d files, then %d in %d new directories%s\n' \
    "$changes_files" $((burst_dirs * files_per_dir)) "$burst_dirs" $((massive_init_dirs * files_per_dir)) \
    $((massive_new_dirs * files_per_dir)) "$massive_new_dirs" "$([ "$mode" = full ] || echo ' (the targets are set for the full workload)')"
  local r t_case
  for c in "${cases[@]}"; do
    for ((r = 1; r <= repeat; r++)); do
      printf '%-16s' "$c"
      for tool in "${tool_list[@]}"; do
        now_ms
        t_case=$REPLY
        run_case "$c" "$tool"
        cp "$T/sync.log" "$T/$tool-$c.log" 2>/dev/null || true
        now_ms
        printf ' %s %ds' "$tool" $(((REPLY - t_case) / 1000))
      done
      printf ' (load %s)\n' "$(cut -d' ' -f1 /proc/loadavg)"
    done
  done
  printf '\n'
  local status=0
  awk -f "$bench_dir/sync_report.awk" "$results" || status=$?
  now_ms
  printf 'elapsed: %ds, load at the end %s\n' $(((REPLY - started) / 1000)) "$(cut -d' ' -f1-3 /proc/loadavg)"
  if [ -n "$keep" ]; then
    mkdir -p "$keep"
    cp "$T"/*-*.log "$results" "$keep/" 2>/dev/null || true
  fi
  # exit status 0 when every target is met; a smoke run only proves the harness
  [ "$mode" = smoke ] || return "$status"
}

main "$@"
