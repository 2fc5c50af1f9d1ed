# The process tree of one measured run (a syncer or a plain rsync): everything it starts,
# found by membership (a per-run cgroup) or by parentage from its pid, never by program names,
# so that the accounting stays right whatever the syncer runs inside.
# Sourced by sync.sh after tests/inotifysync/lib.sh (T, started_pids, wait_for, now_ms).
# shellcheck shell=bash disable=SC2034 # TREE_* are read by the script that sources this

readonly cg_cpu_root=/sys/fs/cgroup/cpuacct # cgroup v1: cpuacct.usage counts exited tasks too
readonly cg_mem_root=/sys/fs/cgroup/memory  # cgroup v1: memory.max_usage_in_bytes is a true peak
# cgroup v1 cpu: one task group for the whole tree. Outside the root group the kernel's
# autogroups do not apply, so a process the syncer starts in a session of its own (setsid) keeps
# the tree's weight instead of getting a share of its own (or losing the bench's priority).
readonly cg_sched_root=/sys/fs/cgroup/cpu
readonly rss_sample_s=0.1                   # the RSS sampler's period (a peak lasting less is missed)
readonly idle_window_s=1                    # idle: the tree used less than idle_cpu_ms in this window
readonly idle_cpu_ms=20
clk_tck=$(getconf CLK_TCK)
readonly clk_tck

tree_mode=proc # cgroup when a per-run v1 cgroup can be made, else proc (parentage from /proc)
tree_runs=0
tree_cg_cpu=
tree_cg_mem=
tree_cg_sched=
TREE_CPU_SHARES=1024 # the tree's weight (1024: a nice 0 autogroup); sync.sh sets it from --nice
TREE_PID=
TREE_IDLE_CPU_MS=0
rss_sampler_pid=

# Picks the accounting once: a per-run cgroup when writable (MEASURE_NO_CGROUP=1 forces /proc).
tree_init() {
  local probe=libwatch-sync-probe.$$
  if [ -z "${MEASURE_NO_CGROUP:-}" ] && mkdir "$cg_cpu_root/$probe" 2>/dev/null; then
    rmdir "$cg_cpu_root/$probe"
    if mkdir "$cg_mem_root/$probe" 2>/dev/null; then
      rmdir "$cg_mem_root/$probe"
      tree_mode=cgroup
    fi
  fi
}

# Runs "$@" in the background as the root of a new tree (in fresh cgroups from its first
# instruction on: the subshell joins them, then execs); sets TREE_PID.
tree_start() {
  tree_runs=$((tree_runs + 1))
  if [ "$tree_mode" = cgroup ]; then
    tree_cg_cpu=$cg_cpu_root/libwatch-sync.$$.$tree_runs
    tree_cg_mem=$cg_mem_root/libwatch-sync.$$.$tree_runs
    mkdir "$tree_cg_cpu" "$tree_cg_mem"
    tree_cg_sched=$cg_sched_root/libwatch-sync.$$.$tree_runs
    if mkdir "$tree_cg_sched" 2>/dev/null; then
      printf '%d\n' "$TREE_CPU_SHARES" >"$tree_cg_sched/cpu.shares"
    else
      tree_cg_sched=
    fi
  fi
  (
    if [ "$tree_mode" = cgroup ]; then
      printf '%d\n' "$BASHPID" >"$tree_cg_cpu/cgroup.procs"
      printf '%d\n' "$BASHPID" >"$tree_cg_mem/cgroup.procs"
      [ -z "$tree_cg_sched" ] || printf '%d\n' "$BASHPID" >"$tree_cg_sched/cgroup.procs"
    fi
    exec "$@"
  ) &
  TREE_PID=$!
  started_pids+=("$TREE_PID")
}

# Runs "$@" as a tree to its end (a plain rsync); sets TREE_RUN_RC, TREE_RUN_CPU_MS (in /proc
# mode from /usr/bin/time, since the root's own CPU is gone once it is reaped), TREE_RUN_RSS_KB
# (sampled) and TREE_RUN_MEM_KB (the cgroup's peak).
tree_run() {
  TREE_RUN_RC=0
  if [ "$tree_mode" = cgroup ]; then
    tree_start "$@"
  else
    tree_start /usr/bin/time -f '%U %S' -o "$T/time.out" "$@"
  fi
  rss_sampler_start
  wait "$TREE_PID" || TREE_RUN_RC=$?
  TREE_RUN_RSS_KB=$(rss_sampler_stop)
  TREE_RUN_MEM_KB=$(tree_mem_peak_kb)
  if [ "$tree_mode" = cgroup ]; then
    TREE_RUN_CPU_MS=$(tree_cpu_ms)
  else
    local user sys
    read -r user sys < <(tail -n 1 "$T/time.out")
    TREE_RUN_CPU_MS=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d\n", (u + s) * 1000 }')
  fi
  tree_release
}

# The pids of the tree, one a line: the cgroup's members, or TREE_PID and its descendants.
tree_pids() {
  if [ "$tree_mode" = cgroup ]; then
    cat "$tree_cg_mem/cgroup.procs"
    return
  fi
  local -A kids=()
  local f line rest pid ppid
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    pid=${line%% *}
    rest=${line##*) } # after the name, which may hold spaces: state ppid ...
    rest=${rest#* }
    ppid=${rest%% *}
    kids[$ppid]+=" $pid"
  done
  local -a todo=("$TREE_PID")
  while ((${#todo[@]})); do
    pid=${todo[0]}
    todo=("${todo[@]:1}")
    [ -e "/proc/$pid" ] || continue
    printf '%d\n' "$pid"
    # shellcheck disable=SC2206 # the pids are words
    todo+=(${kids[$pid]:-})
  done
}

# CPU milliseconds (user + system) used by the tree since it started, exited processes included
# (in /proc mode: those reaped by a process of the tree, through its cutime and cstime).
tree_cpu_ms() {
  if [ "$tree_mode" = cgroup ]; then
    local ns
    read -r ns <"$tree_cg_cpu/cpuacct.usage"
    printf '%d\n' $((ns / 1000000))
    return
  fi
  local pid line rest ticks=0
  local -a f
  for pid in $(tree_pids); do
    { read -r line <"/proc/$pid/stat"; } 2>/dev/null || continue
    rest=${line##*) }
    read -r -a f <<<"$rest"
    # fields 14-17 of stat (utime stime cutime cstime); f[0] is field 3
    ticks=$((ticks + f[11] + f[12] + f[13] + f[14]))
  done
  printf '%d\n' $((ticks * 1000 / clk_tck))
}

# Sum of VmRSS over the tree's processes now, in kB.
tree_rss_kb() {
  local pid key value unit sum=0
  for pid in $(tree_pids); do
    {
      while read -r key value unit; do
        if [ "$key" = VmRSS: ]; then
          sum=$((sum + value))
          break
        fi
      done <"/proc/$pid/status"
    } 2>/dev/null || true
  done
  printf '%d\n' "$sum"
}

# Peak memory of the cgroup (RSS, page cache and kernel memory it was charged) in kB since the
# last tree_mem_reset; "-" without a cgroup.
tree_mem_peak_kb() {
  if [ "$tree_mode" != cgroup ]; then
    printf -- '-\n'
    return
  fi
  local bytes
  read -r bytes <"$tree_cg_mem/memory.max_usage_in_bytes"
  printf '%d\n' $((bytes / 1024))
}

tree_mem_reset() {
  [ "$tree_mode" != cgroup ] || printf '0\n' >"$tree_cg_mem/memory.max_usage_in_bytes"
}

# Samples the sum of VmRSS over the tree until rss_sampler_stop; the peak goes to $T/rss.peak.
rss_sampler_start() {
  printf '0\n' >"$T/rss.peak"
  (
    trap 'exit 0' TERM
    peak=0
    while :; do
      sum=$(tree_rss_kb)
      if ((sum > peak)); then
        peak=$sum
        printf '%d\n' "$peak" >"$T/rss.peak"
      fi
      sleep "$rss_sample_s"
    done
  ) &
  rss_sampler_pid=$!
  started_pids+=("$rss_sampler_pid")
}

# Stops the sampler; prints the peak RSS sum in kB.
rss_sampler_stop() {
  kill -TERM "$rss_sampler_pid" 2>/dev/null || true
  wait "$rss_sampler_pid" 2>/dev/null || true
  cat "$T/rss.peak"
}

# The processes of the tree that hold an inotify instance: the event readers.
tree_readers() {
  local pid
  for pid in $(tree_pids); do
    if find "/proc/$pid/fd" -lname 'anon_inode:inotify' -print -quit 2>/dev/null | grep -q .; then
      printf '%d\n' "$pid"
    fi
  done
}

tree_has_reader() { [ -n "$(tree_readers)" ]; }

# True when the tree used less than idle_cpu_ms in idle_window_s and "$@" holds (a fact such
# as "the daemon serves no connection"); sets TREE_IDLE_CPU_MS to the CPU at the window's start.
tree_idle() {
  local before after
  before=$(tree_cpu_ms)
  sleep "$idle_window_s"
  after=$(tree_cpu_ms)
  ((after - before < idle_cpu_ms)) || return 1
  "$@" || return 1
  TREE_IDLE_CPU_MS=$before
}

# Stops the tree: SIGTERM to its root and, after the root has exited, to whatever is left.
tree_stop() {
  local -a pids
  mapfile -t pids < <(tree_pids)
  kill -CONT "${pids[@]}" 2>/dev/null || true
  kill -TERM "$TREE_PID" 2>/dev/null || true
  wait "$TREE_PID" 2>/dev/null || true
  [ "$tree_mode" != cgroup ] || mapfile -t pids <"$tree_cg_mem/cgroup.procs"
  local pid
  for pid in "${pids[@]}"; do
    [ "$pid" = "$TREE_PID" ] || kill -TERM "$pid" 2>/dev/null || true
  done
  wait_for 30 tree_gone "${pids[@]}" || fail "the processes of run $tree_runs do not exit"
  tree_release
}

tree_gone() {
  local pid
  if [ "$tree_mode" = cgroup ]; then
    [ -z "$(cat "$tree_cg_mem/cgroup.procs")" ]
    return
  fi
  for pid in "$@"; do
    [ ! -e "/proc/$pid" ] || return 1
  done
}

# Removes the run's cgroups (once empty).
tree_release() {
  [ "$tree_mode" = cgroup ] || return 0
  rmdir "$tree_cg_cpu" "$tree_cg_mem" ${tree_cg_sched:+"$tree_cg_sched"} 2>/dev/null || true
}
