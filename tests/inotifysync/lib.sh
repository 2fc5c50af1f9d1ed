# Shared helpers of the inotifysync tests (sourced by scenarios.sh and the measurement script).
# Every process started here is recorded by PID and stopped by the EXIT trap.
# shellcheck shell=bash disable=SC2034 # variables set here are read by the scripts that source it

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
INOTIFYSYNC=${INOTIFYSYNC:-$repo/scripts/inotifysync}

# The inotifywait under test: the build's, passed by CMake; the reference when there is none.
if [ -z "${INOTIFYSYNC_INOTIFYWAIT:-}" ] || [ ! -x "${INOTIFYSYNC_INOTIFYWAIT}" ]; then
  INOTIFYSYNC_INOTIFYWAIT=$(command -v inotifywait)
fi
export INOTIFYSYNC_INOTIFYWAIT
# The driver's watcher: the build's, passed by CMake; else the one beside that inotifywait.
if [ -z "${INOTIFYSYNC_INOTIFYBATCH:-}" ] || [ ! -x "${INOTIFYSYNC_INOTIFYBATCH}" ]; then
  INOTIFYSYNC_INOTIFYBATCH=${INOTIFYSYNC_INOTIFYWAIT%/*}/inotifybatch
fi
export INOTIFYSYNC_INOTIFYBATCH

T=$(mktemp -d "${TMPDIR:-/tmp}/inotifysync-test.XXXXXX")
# inotifysync keeps the source identities it records (see --state-dir) in the test's directory.
export STATE_DIRECTORY=$T/state
started_pids=()

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  dump_logs
  dump_processes
  exit 1
}

# The state of every process this test started and of their children (for hangs).
dump_processes() {
  local pid child
  printf -- '--- processes\n' >&2
  for pid in "${started_pids[@]}"; do
    ps -o pid=,ppid=,stat=,wchan:24=,args= -p "$pid" >&2 2>/dev/null || continue
    for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
      ps -o pid=,ppid=,stat=,wchan:24=,args= -p "$child" >&2 2>/dev/null || true
    done
  done
}

note() { printf '# %s\n' "$*" | tee -a "$T/notes" >&2; }

dump_logs() {
  local f
  for f in "$T"/*.log; do
    [ -f "$f" ] || continue
    printf -- '--- %s (last %d lines)\n' "$f" "${INOTIFYSYNC_TEST_LOG_LINES:-40}" >&2
    tail -n "${INOTIFYSYNC_TEST_LOG_LINES:-40}" "$f" >&2
  done
}

cleanup_all() {
  [ -z "${INOTIFYSYNC_TEST_VERBOSE:-}" ] || dump_logs
  local pid
  for pid in "${started_pids[@]}"; do
    kill -CONT "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${started_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf -- "$T"
}
trap cleanup_all EXIT

now_ms() { local t=${EPOCHREALTIME//[.,]/}; REPLY=$((t / 1000)); }

# Runs "$@" until it succeeds or $1 seconds pass; returns 1 on timeout.
# Every deadline is multiplied by this: the waits end on a fact, so a generous deadline costs
# nothing when things work, and a loaded CI machine is several times slower than an idle one.
readonly deadline_slack=${TEST_DEADLINE_SLACK:-3}

wait_for() {
  local secs=$(($1 * deadline_slack)) start
  shift
  now_ms
  start=$REPLY
  while :; do
    if "$@"; then return 0; fi
    now_ms
    ((REPLY - start < secs * 1000)) || return 1
    sleep 0.1
  done
}

# A manifest of a tree: type, mode, size and symlink target of every entry, NUL-separated.
manifest() {
  (cd "$1" && find . -printf '%y %m %s %l %P\0' 2>/dev/null | sort -z)
}

# True when tree $2 mirrors tree $1: same entries, types, modes, sizes and contents.
same_tree() {
  cmp -s <(manifest "$1") <(manifest "$2") || return 1
  diff -r --no-dereference -q "$1" "$2" >/dev/null 2>&1
}

# Prints what differs between two trees (for failure messages).
show_diff() {
  diff <(manifest "$1" | tr '\0' '\n') <(manifest "$2" | tr '\0' '\n') | head -n 20 >&2 || true
  diff -r --no-dereference -q "$1" "$2" 2>&1 | head -n 10 >&2 || true
}

# Waits until $2 mirrors $1, at most $3 seconds (default 10); fails the test otherwise.
converge() {
  local src=$1 dst=$2 secs=${3:-10} what=${4:-target}
  local start
  now_ms
  start=$REPLY
  if ! wait_for "$secs" same_tree "$src" "$dst"; then
    show_diff "$src" "$dst"
    fail "$what did not converge within $secs s"
  fi
  now_ms
  note "$what converged after $((REPLY - start)) ms"
}

# Starts an rsync daemon on 127.0.0.1 with module "m" at directory $2, an auth user and a
# 0600 secrets file. $1 names it (files $T/$1.*). Sets DAEMON_PORT (reused when set in
# $3) and records the PID in daemon_pid_$1.
start_daemon() {
  local name=$1 dir=$2 port=${3:-} conf=$T/$1.conf try pid
  mkdir -p -- "$dir"
  printf 'tester:s3cret-test\n' >"$T/$name.secrets"
  chmod 600 "$T/$name.secrets"
  printf 's3cret-test\n' >"$T/$name.password"
  chmod 600 "$T/$name.password"
  for try in 1 2 3 4 5 6 7 8 9 10; do
    [ -n "$port" ] || port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    {
      printf 'address = 127.0.0.1\nport = %d\npid file = %s\nlog file = %s\n' "$port" "$T/$name.pid" "$T/$name.daemon.log"
      printf 'transfer logging = no\n'
      printf '[m]\npath = %s\nread only = no\nauth users = tester\nsecrets file = %s\nstrict modes = yes\n' "$dir" "$T/$name.secrets"
      if [ "$(id -u)" = 0 ]; then
        printf 'uid = %s\ngid = %s\nuse chroot = yes\n' "${DAEMON_UID:-root}" "${DAEMON_GID:-root}"
      else
        printf 'use chroot = no\n'
      fi
    } >"$conf"
    rm -f -- "$T/$name.pid"
    rsync --daemon --no-detach --config="$conf" >>"$T/$name.daemon.out" 2>&1 &
    pid=$!
    started_pids+=("$pid")
    if wait_for 5 daemon_ready "$port" "$pid"; then
      printf -v "daemon_pid_$name" '%s' "$pid"
      DAEMON_PORT=$port
      return 0
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [ -z "${3:-}" ] || try=10
    port=${3:-}
  done
  fail "could not start the rsync daemon $name"
}

daemon_ready() {
  kill -0 "$2" 2>/dev/null || return 1
  rsync --contimeout=2 "rsync://127.0.0.1:$1/" >/dev/null 2>&1
}

stop_daemon() {
  local var=daemon_pid_$1
  kill -TERM "${!var}" 2>/dev/null || true
  wait "${!var}" 2>/dev/null || true
}

# True when the daemon $1 serves no connection: each connection is a child process that
# logs its byte counts as it ends, possibly after the client has seen the transfer done.
daemon_settled() {
  local var=daemon_pid_$1
  ! pgrep -P "${!var}" >/dev/null
}

# Sum of the bytes the daemon $1 received, from its log, once every connection has ended.
daemon_received() {
  local total=0 n line
  wait_for 10 daemon_settled "$1" || fail "the daemon log of $1 does not settle"
  while IFS= read -r line; do
    [[ $line =~ received\ ([0-9]+)\ bytes ]] || continue
    n=${BASH_REMATCH[1]}
    total=$((total + n))
  done <"$T/$1.daemon.log"
  printf '%d\n' "$total"
}

# Starts inotifysync with "$@", logging to $T/sync.log; sets SYNC_PID and waits until the
# initial sync of every target is logged (or until $SYNC_WAIT_TARGETS successes when set).
start_sync() {
  local -a verbose=()
  [ -z "${INOTIFYSYNC_TEST_VERBOSE:-}" ] || verbose=(-v)
  "$INOTIFYSYNC" "${verbose[@]}" --log "$T/sync.log" --status "$T/status" "$@" >>"$T/sync.out.log" 2>&1 &
  SYNC_PID=$!
  started_pids+=("$SYNC_PID")
  wait_for 20 grep -s -q -F 'watches established' "$T/sync.log" ||
    fail "inotifysync did not establish its watches"
}

# Waits for $1 log lines matching $2 (a fixed string) in the inotifysync log.
wait_log() {
  local count=$1 text=$2 secs=${3:-20}
  # shellcheck disable=SC2317 # called through wait_for
  log_count_ge() { [ "$(grep -c -F -- "$text" "$T/sync.log" 2>/dev/null || true)" -ge "$count" ]; }
  wait_for "$secs" log_count_ge || fail "expected $count log lines with '$text'"
}

# The watcher (inotifybatch) started by inotifysync $1.
watcher_of() {
  local pid comm
  for pid in $(ps -o pid= --ppid "$1"); do
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    if [ "$comm" = inotifybatch ]; then
      printf '%s\n' "$pid"
      return 0
    fi
  done
  return 1
}

# Sends SIGTERM to inotifysync and waits (at most $1 s) for it to exit; sets SYNC_RC.
stop_sync() {
  local secs=${1:-20}
  kill -TERM "$SYNC_PID"
  if ! wait_for "$secs" not_running "$SYNC_PID"; then
    fail "inotifysync did not exit within $secs s of SIGTERM"
  fi
  SYNC_RC=0
  wait "$SYNC_PID" || SYNC_RC=$?
}

not_running() { ! kill -0 "$1" 2>/dev/null || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# The evflood helper: built by CMake, or compiled here when the tests run on their own.
evflood_path() {
  if [ -n "${INOTIFYSYNC_EVFLOOD:-}" ] && [ -x "$INOTIFYSYNC_EVFLOOD" ]; then
    printf '%s\n' "$INOTIFYSYNC_EVFLOOD"
    return
  fi
  cc -O2 -o "$T/evflood" "$here/evflood.c" || fail "cannot compile evflood.c"
  printf '%s\n' "$T/evflood"
}
