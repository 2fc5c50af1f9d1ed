#!/usr/bin/env bash
# Security of inotifysync, one scenario per run:
#   security.sh names-local | names-daemon | password-env | password-file | planted-symlinks | static
# names-*: hostile file names (options, command substitutions, globs, newlines, ...) in the source,
#   before the start and while running (created, renamed, moved, deleted): nothing is executed, no
#   option is injected, nothing outside the target changes, and the target converges to the source.
# password-*: the password never appears in an argument vector (ps), in the environment of a child
#   other than rsync, in the log, the status file or on stderr.
# planted-symlinks: a lock directory, status file, pid file or log file replaced by an attacker's
#   symlink (or a lock directory of the wrong owner or mode) is refused or replaced, never followed.
# static: no eval in the script; every rsync call ends its options with --.
# Needs: rsync, and for planted-symlinks as root, setpriv (the scenario runs as nobody). Exit 77: skipped.
set -euo pipefail
export LC_ALL=C

scenario=${1:?usage: security.sh SCENARIO}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
SYNC=$repo/scripts/inotifysync
IW=${INOTIFYSYNC_INOTIFYWAIT:-$repo/build/bin/inotifywait}
export INOTIFYSYNC_INOTIFYWAIT=$IW

T=$(mktemp -d "${TMPDIR:-/tmp}/rel-security.XXXXXX")
chmod 755 "$T"
pids=()
cleanup() {
  local p
  cd /
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf -- "$T"
}
trap cleanup EXIT

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  local f
  for f in "$T"/*.log "$T"/*.err; do
    [ -f "$f" ] || continue
    printf -- '--- %s\n' "$f" >&2
    tail -n 30 "$f" >&2
  done
  exit 1
}

# Waits until "$@" succeeds, at most $1 seconds (polls a fact: a file's content, a tree).
# Every deadline is multiplied by this: the waits end on a fact, so a generous deadline costs
# nothing when things work, and a loaded CI machine (two suites side by side, a sanitizer build)
# is several times slower than an idle one (one run took 15.8 s for one batch at load 12).
readonly deadline_slack=${TEST_DEADLINE_SLACK:-4}

wait_for() {
  local secs=$(($1 * deadline_slack)) end
  shift
  end=$((${EPOCHREALTIME/./} + secs * 1000000))
  until "$@"; do
    ((${EPOCHREALTIME/./} < end)) || return 1
    sleep 0.05
  done
}

manifest() {
  (cd "$1" && find . -printf '%y %m %s %l %P\0' 2>/dev/null | sort -z && find . -type f -print0 2>/dev/null | sort -z |
    xargs -0r sha256sum 2>/dev/null)
}
same_tree() {
  manifest "$1" >"$T/m1" || true
  manifest "$2" >"$T/m2" || true
  cmp -s "$T/m1" "$T/m2"
}
converge() {
  wait_for "${3:-20}" same_tree "$1" "$2" || {
    diff <(manifest "$1" | tr '\0' '\n') <(manifest "$2" | tr '\0' '\n') | head -n 20 >&2 || true
    fail "the target did not converge: $4"
  }
}

# An rsync daemon on 127.0.0.1, module m at $1, user tester with password $2. Sets PORT.
start_daemon() {
  local dir=$1 pass=$2
  mkdir -p "$dir"
  printf 'tester:%s\n' "$pass" >"$T/secrets"
  chmod 600 "$T/secrets"
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    cat >"$T/rsyncd.conf" <<CONF
pid file = $T/rsyncd.pid
port = $PORT
address = 127.0.0.1
use chroot = no
log file = $T/rsyncd.log
[m]
  path = $dir
  read only = no
  uid = $(id -u)
  gid = $(id -g)
  auth users = tester
  secrets file = $T/secrets
CONF
    rsync --daemon --no-detach --config="$T/rsyncd.conf" 2>>"$T/rsyncd.err" &
    pids+=("$!")
    if wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; then return 0; fi
    kill "${pids[-1]}" 2>/dev/null || true
    wait "${pids[-1]}" 2>/dev/null || true
    unset 'pids[-1]'
  done
  fail "the rsync daemon did not start"
}

# Starts inotifysync "$@" in the background with its log in $T/sync.log; waits until the initial
# full sync has succeeded. Sets SYNC_PID.
# SYNC_PATH and SYNC_PASSWORD (when set) go into inotifysync's environment only: the commands
# this test runs itself must not be counted.
start_sync() {
  : >"$T/sync.log"
  if [ -n "${SYNC_PASSWORD:-}" ]; then
    PATH=${SYNC_PATH:-$PATH} RSYNC_PASSWORD=$SYNC_PASSWORD bash "$SYNC" --delay 0.2 --log "$T/sync.log" "$@" 2>>"$T/sync.err" &
  else
    PATH=${SYNC_PATH:-$PATH} bash "$SYNC" --delay 0.2 --log "$T/sync.log" "$@" 2>>"$T/sync.err" &
  fi
  SYNC_PID=$!
  pids+=("$SYNC_PID")
  wait_for 30 grep -q 'full sync, .* rsync exit 0' "$T/sync.log" || fail "no initial full sync"
}

stop_sync() {
  kill -TERM "$SYNC_PID"
  local rc=0
  wait "$SYNC_PID" || rc=$?
  [ "$rc" -eq 0 ] || fail "inotifysync exited $rc after SIGTERM"
}

# ---------------------------------------------------------------------------------------------

# Names that would do harm if a shell, an rsync option parser or a glob got hold of them.
# shellcheck disable=SC2016,SC1003 # literal on purpose: these are file names
hostile=(
  '-rf' '--delete' '--remove-source-files' '--log-file=pwned-log' '--rsync-path=touch pwned-rsync-path'
  '--files-from=list' '-e touch pwned-e' '$(touch pwned-subst)' '`touch pwned-backtick`'
  '; touch pwned-semicolon' '| touch pwned-pipe' '&& touch pwned-and' '*' '?' '[a-z]' '\' "'" '"'
  $'new\nline' $'\nleading-newline' ' leading space' 'trailing space ' '#hash' ';semicolon' $'\xff\xfe-not-utf8'
  '~' '..dots' '-' '@at' ':colon' 'host:path' 'rsync:x'
)

check_no_harm() {
  local found
  found=$(find "$T" / -maxdepth 1 -name 'pwned*' 2>/dev/null | head -n 5)
  [ -z "$found" ] || fail "something was executed: $found"
  found=$(find "$T" -name 'pwned*' 2>/dev/null | grep -v -e "^$T/src/" -e "^$T/dst/" -e "^$T/daemon/" | head -n 5) || true
  [ -z "$found" ] || fail "something was executed: $found"
  [ -z "$(ls -A "$T/cwd")" ] || fail "files appeared in the working directory: $(ls -A "$T/cwd")"
  cmp -s <(manifest "$T/bystander") "$T/bystander.manifest" || fail "a directory beside the target was changed"
}

names() {
  local kind=$1 dest n i
  mkdir -p "$T/src" "$T/cwd" "$T/bystander"
  printf 'keep\n' >"$T/bystander/file"
  manifest "$T/bystander" >"$T/bystander.manifest"
  # Before the start: files, and directories with files inside.
  i=0
  for n in "${hostile[@]}"; do
    printf 'file %s\n' "$i" >"$T/src/$n"
    mkdir -p "$T/src/dir$i/$n"
    printf 'inner %s\n' "$i" >"$T/src/dir$i/$n/$n"
    i=$((i + 1))
  done
  if [ "$kind" = daemon ]; then
    start_daemon "$T/daemon" 'daemon-pass-1'
    printf 'daemon-pass-1\n' >"$T/pw"
    chmod 600 "$T/pw"
    dest=$T/daemon
    cd "$T/cwd"
    start_sync --password-file "$T/pw" "$T/src" "rsync://tester@127.0.0.1:$PORT/m"
  else
    dest=$T/dst
    cd "$T/cwd"
    start_sync "$T/src" "$T/dst"
  fi
  converge "$T/src" "$dest" 30 "initial sync"
  check_no_harm
  manifest "$T/src" >"$T/src.before"

  # While running: new names in a new directory, renames of files and directories into other
  # hostile names, moves across directories, deletions. Files over 64 KiB take the move shortcut.
  mkdir "$T/src/new"
  i=0
  for n in "${hostile[@]}"; do
    head -c 70000 /dev/zero | tr '\0' "$((i % 10))" >"$T/src/new/$n"
    i=$((i + 1))
  done
  converge "$T/src" "$dest" 20 "new hostile names"
  i=0
  for n in "${hostile[@]}"; do
    mv -- "$T/src/new/$n" "$T/src/dir$i/$n/moved-$i"
    mv -- "$T/src/dir$i" "$T/src/renamed-$n-$i"
    i=$((i + 1))
  done
  mv -- "$T/src/-rf" "$T/src/--delete-renamed"
  mv -- "$T/src/*" "$T/src/renamed-*-12/star"
  converge "$T/src" "$dest" 20 "renames and moves"
  rm -f -- "$T/src/--delete" "$T/src/\$(touch pwned-subst)" "$T/src/"$'new\nline'
  rm -rf -- "$T/src/renamed--rf-0"
  converge "$T/src" "$dest" 20 "deletions"
  stop_sync
  check_no_harm
  # The source only changed the way this test changed it (no --remove-source-files took hold).
  [ -e "$T/src/--remove-source-files" ] || fail "a source file disappeared"
  [ -d "$T/src/new" ] || fail "the source directory 'new' disappeared"
  # Exit 24 (files vanished while sent) is not a failure: the moves above may overtake a batch
  # still in flight on a loaded machine, and the driver sends those paths again (converged above).
  local failed
  failed=$(grep 'rsync exit [1-9]' "$T/sync.log" | grep -v 'rsync exit 24 (files vanished while sent); they go again' || true)
  [ -z "$failed" ] || fail "an rsync failed: $(head -n 3 <<<"$failed")"
  return 0
}

# ---------------------------------------------------------------------------------------------

# Every command inotifysync runs goes through a wrapper (first in PATH) that records a command line
# holding the secret, and an environment holding it in any command but rsync.
make_spies() {
  local secret=$1 c real
  mkdir -p "$T/spy"
  cat >"$T/spy/.spy" <<'SPY'
#!/bin/bash
name=${0##*/}
PATH=$SPY_REALPATH
real=$(command -v -- "$name")
for a in "$@"; do
  case $a in *"$SPY_SECRET"*) printf 'ARGV %s\n' "$name" >>"$SPY_LOG" ;; esac
done
if [ -n "${RSYNC_PASSWORD+x}" ]; then
  case $name in
    rsync) ;;
    setsid) [ "${1-}" = rsync ] || printf 'ENV %s %s\n' "$name" "${1-}" >>"$SPY_LOG" ;;
    env) [ "${1-}" = -u ] && [ "${2-}" = RSYNC_PASSWORD ] || printf 'ENV %s\n' "$name" >>"$SPY_LOG" ;;
    *) printf 'ENV %s\n' "$name" >>"$SPY_LOG" ;;
  esac
fi
exec "$real" "$@"
SPY
  chmod 755 "$T/spy/.spy"
  for c in rsync setsid env mktemp sha256sum flock stat realpath readlink id mkdir chmod mv rm cat cp grep egrep tail head \
    tr sleep dirname basename sort cut date kill ls find touch wc sed awk ps timeout nohup nice ionice xargs tee logger \
    ssh printf true false test uname hostname getent; do
    real=$(command -v -- "$c" 2>/dev/null) || continue
    [ "${real#/}" != "$real" ] || continue   # builtins stay builtins
    ln -s .spy "$T/spy/$c"
  done
  export SPY_REALPATH=$PATH SPY_SECRET=$secret SPY_LOG=$T/spy.log
  : >"$SPY_LOG"
}

check_secret() {
  local secret=$1 f
  if [ -s "$T/spy.log" ]; then
    sort "$T/spy.log" | uniq -c >&2
    fail "the password reached the command line or the environment of the commands above"
  fi
  for f in "$T/sync.log" "$T/sync.err" "$T/status"; do
    [ -f "$f" ] || continue
    ! grep -q -F -- "$secret" "$f" || fail "the password is in $f"
  done
}

password() {
  local how=$1 secret='Pw-4f7a9c2e-not-in-any-log'
  mkdir -p "$T/src"
  printf 'x\n' >"$T/src/a"
  start_daemon "$T/daemon" "$secret"
  make_spies "$secret"
  local -a auth
  if [ "$how" = env ]; then
    SYNC_PASSWORD=$secret
    auth=()
  else
    printf '%s\n' "$secret" >"$T/pw"
    chmod 600 "$T/pw"
    auth=(--password-file "$T/pw")
  fi
  SYNC_PATH=$T/spy:$PATH
  start_sync -v --status "$T/status" "${auth[@]}" "$T/src" "rsync://tester@127.0.0.1:$PORT/m"
  printf 'y\n' >"$T/src/b"
  mkdir "$T/src/d"
  printf 'z\n' >"$T/src/d/c"
  converge "$T/src" "$T/daemon" 20 "changes"
  wait_for 10 grep -q 'batch of' "$T/sync.log" || fail "no batch logged"
  # A wrong password on the daemon's side: the failures are logged, the password is not.
  printf 'tester:%s\n' 'another-password' >"$T/secrets"
  printf 'w\n' >"$T/src/e"
  wait_for 20 grep -q 'rsync exit [1-9]' "$T/sync.log" || fail "the failure was not logged"
  wait_for 10 grep -q 'last error: .*rsync exit' "$T/status" || fail "the failure is not in the status file"
  kill -TERM "$SYNC_PID"
  wait "$SYNC_PID" || true   # exit 3: the last batch could not be sent
  check_secret "$secret"
}

# ---------------------------------------------------------------------------------------------

planted() {
  local -a as=()
  local uid
  uid=$(id -u)
  if [ "$uid" = 0 ]; then
    # Root's lock directory is /run/inotifysync, which only root can write: the attack is on a user's.
    command -v setpriv >/dev/null || exit 77
    as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    uid=65534
  fi
  mkdir -p "$T/src" "$T/dst" "$T/run" "$T/victim" "$T/tmp" "$T/state"
  printf 'x\n' >"$T/src/a"
  printf 'precious\n' >"$T/victim/file"
  chown -R "$uid" "$T/src" "$T/dst" "$T/run" "$T/tmp" "$T/state" 2>/dev/null || true
  chmod 700 "$T/run"
  local lockdir=$T/run/inotifysync-$uid out rc

  # (nobody keeps root's HOME: the source identities go to a state directory of its own.)
  run_as() { env XDG_RUNTIME_DIR="$T/run" XDG_STATE_HOME="$T/state" TMPDIR="$T/tmp" "${as[@]}" bash "$SYNC" "$@"; }

  # A symlink where the lock directory goes.
  ln -s "$T/victim" "$lockdir"
  rc=0
  out=$(run_as --once "$T/src" "$T/dst" 2>&1) || rc=$?
  [ "$rc" = 1 ] || fail "a symlinked lock directory was accepted (exit $rc): $out"
  [[ $out == *"lock directory '$lockdir' is not a directory owned by us with mode 700"* ]] || fail "unexpected message: $out"
  [ "$(ls -A "$T/victim")" = file ] || fail "something was written through the symlink: $(ls -A "$T/victim")"
  rm "$lockdir"
  # A lock directory somebody else made, or one that others can write to.
  mkdir -m 700 "$lockdir"
  chown 1:1 "$lockdir"
  rc=0
  out=$(run_as --once "$T/src" "$T/dst" 2>&1) || rc=$?
  [ "$rc" = 1 ] || fail "a lock directory owned by someone else was accepted (exit $rc): $out"
  chown "$uid" "$lockdir"
  chmod 777 "$lockdir"
  rc=0
  out=$(run_as --once "$T/src" "$T/dst" 2>&1) || rc=$?
  [ "$rc" = 1 ] || fail "a world-writable lock directory was accepted (exit $rc): $out"
  rmdir "$lockdir"

  # Status and pid files where an attacker left symlinks to a file of ours: replaced, not followed.
  ln -s "$T/victim/file" "$T/dst-status"
  ln -s "$T/victim/file" "$T/dst-pid"
  chown -h "$uid" "$T/dst-status" "$T/dst-pid" 2>/dev/null || true
  chmod 1777 "$T"
  rc=0
  out=$(run_as --once --status "$T/dst-status" --pid-file "$T/dst-pid" "$T/src" "$T/dst" 2>&1) || rc=$?
  chmod 755 "$T"
  [ "$rc" = 0 ] || fail "--once failed (exit $rc): $out"
  [ "$(cat "$T/victim/file")" = precious ] || fail "the status or pid file was written through a symlink"
  if [ ! -f "$T/dst-status" ] || [ -L "$T/dst-status" ]; then fail "the status file is not a regular file of its own"; fi
  # A symlinked log file is refused.
  ln -s "$T/victim/file" "$T/log"
  rc=0
  out=$(run_as --once --log "$T/log" "$T/src" "$T/dst" 2>&1) || rc=$?
  [ "$rc" = 1 ] || fail "a symlinked log file was accepted (exit $rc): $out"
  [ "$(cat "$T/victim/file")" = precious ] || fail "the log was written through a symlink"
  # And the legitimate case still works: the lock directory is made with mode 700.
  rc=0
  out=$(run_as --once "$T/src" "$T/dst" 2>&1) || rc=$?
  [ "$rc" = 0 ] || fail "a clean start failed (exit $rc): $out"
  [ "$(stat -c '%u %a' "$lockdir")" = "$uid 700" ] || fail "lock directory: $(stat -c '%u %a' "$lockdir")"
}

# ---------------------------------------------------------------------------------------------

static() {
  local bad
  bad=$(grep -nE '(^|[;&|[:space:](])eval([[:space:]]|$)' "$SYNC") && fail "eval in inotifysync: $bad"
  # Every rsync the script runs ends its options with -- before the source and destination
  # (continuation lines joined first).
  local calls
  calls=$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$SYNC" | grep -E '^[[:space:]]*(run_rsync|rsync|setsid rsync) ') ||
    fail "no rsync call found"
  bad=$(printf '%s\n' "$calls" | grep -v -e ' -- ' -e 'setsid rsync "\$@"' || true)
  [ -z "$bad" ] || fail "rsync calls without --: $bad"
  return 0
}

case $scenario in
  names-local) names local ;;
  names-daemon) names daemon ;;
  password-env) password env ;;
  password-file) password file ;;
  planted-symlinks) planted ;;
  static) static ;;
  *) echo "unknown scenario $scenario" >&2; exit 2 ;;
esac
echo "ok: $scenario"
