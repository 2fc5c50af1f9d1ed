#!/usr/bin/env bash
# Setup time and peak memory of a recursive watch over a big tree: our inotifywatch next to the
# reference inotifywatch and inotifywait (inotify-tools) and, if built, our inotifywait.
#
#   tests/inotifywatch/bench.sh [--build-dir DIR] [--rounds N] [--tree DIR] [FANOUT...]
#
# Builds DIR/tree (default /dev/shm/libwatch-bench, fan-outs 100 100 10: 110,100 directories)
# with inotifywatch_mktree, then runs every program N times (default 5) in turn, measuring the
# time from start until its "watches established" line on stderr and its peak resident memory
# (VmHWM) at that moment. Prints the median of each. Needs about 110,000 free inotify watches
# (/proc/sys/fs/inotify/max_user_watches, shared by all processes of the user).
set -eu

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir="$here/build"
rounds=5
tree=/dev/shm/libwatch-bench
fanout=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --tree) tree=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) fanout+=("$1"); shift ;;
  esac
done
[ ${#fanout[@]} -gt 0 ] || fanout=(100 100 10)

mktree="$build_dir/tests/bin/inotifywatch_mktree"
[ -x "$mktree" ] || { echo "build first: $mktree is missing" >&2; exit 1; }
cleanup() { rm -rf "$tree"; }
trap cleanup EXIT
rm -rf "$tree"
dirs=$("$mktree" "$tree" "${fanout[@]}")
dirs=$((dirs + 1))
echo "tree: $tree, $dirs directories (fan-outs ${fanout[*]}), $rounds rounds"

# measure NEEDLE COMMAND...: prints "<milliseconds> <VmHWM kB>"
measure() {
  local needle=$1 start end line hwm
  shift
  start=$(date +%s%N)
  # shellcheck disable=SC2069 # on purpose: stderr into the pipe, stdout discarded
  coproc RUN { exec "$@" 2>&1 >/dev/null; }
  local pid=$RUN_PID
  while IFS= read -r line <&"${RUN[0]}"; do
    if [[ "$line" == "$needle"* ]]; then
      end=$(date +%s%N)
      hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
      break
    fi
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -z "${end:-}" ]; then echo "FAILED"; return; fi
  echo "$(((end - start) / 1000000)) $hwm"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A names needles
progs=()
add() { progs+=("$1"); names[$1]=$2; needles[$1]=$3; }
add "$build_dir/bin/inotifywatch -r" "ours inotifywatch -r" "Finished establishing watches"
[ -x /usr/bin/inotifywatch ] && add "/usr/bin/inotifywatch -r" "reference inotifywatch -r" "Finished establishing watches"
[ -x /usr/bin/inotifywait ] && add "/usr/bin/inotifywait -m -r" "reference inotifywait -m -r" "Watches established."
[ -x "$build_dir/bin/inotifywait" ] && add "$build_dir/bin/inotifywait -m -r" "ours inotifywait -m -r" "Watches established."

declare -A times mems
for ((r = 0; r < rounds; r++)); do
  for p in "${progs[@]}"; do
    # shellcheck disable=SC2086  # p is a command line
    read -r ms kb < <(measure "${needles[$p]}" $p "$tree")
    times[$p]+="$ms "
    mems[$p]+="$kb "
  done
done
printf '%-30s %12s %14s\n' program "setup (ms)" "VmHWM (kB)"
for p in "${progs[@]}"; do
  t=$(tr ' ' '\n' <<<"${times[$p]}" | grep . | median)
  m=$(tr ' ' '\n' <<<"${mems[$p]}" | grep . | median)
  printf '%-30s %12s %14s\n' "${names[$p]}" "$t" "$m"
done
