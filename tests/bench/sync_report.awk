# The table of sync.sh: one line per figure, ours, lsyncd and the plain rsync -a side by side,
# the ratios ours/lsyncd and ours/rsync (of the medians when cases are repeated), and PASS/FAIL
# against the targets of issue 12.
# Input: sync.sh's results, "case<TAB>tool<TAB>key<TAB>value" (tool: ours, lsyncd or rsync).
BEGIN {
  FS = "\t"
  # case, key, label, unit, scale, target ("" none; "le N": ours <= N in the unit;
  # "lsyncd N" / "rsync N": ours/that <= N)
  n = 0
  row("changes", "conv_ms", "changes: converged", "s", 0.001, "")
  row("changes", "cpu_ms", "  CPU, whole tree", "CPU-s", 0.001, "")
  row("changes", "runs", "  rsync connections", "", 1, "")
  row("burst", "conv_ms", "burst while running: converged", "s", 0.001, "le 3")
  row("burst", "conv_ms", "  (stretch: vs rsync -a)", "s", 0.001, "rsync 1.2")
  row("burst", "cpu_ms", "  CPU, whole tree", "CPU-s", 0.001, "le 3")
  row("burst", "rss_kb", "  peak RSS, sum over the tree", "MB", 1 / 1024, "")
  row("burst", "mem_kb", "  peak memory of the cgroup", "MB", 1 / 1024, "")
  row("burst-stopped", "conv_ms", "burst while stopped: converged", "s", 0.001, "le 3")
  row("burst-stopped", "conv_ms", "  (stretch: vs rsync -a)", "s", 0.001, "rsync 1.2")
  row("burst-stopped", "cpu_ms", "  CPU, whole tree", "CPU-s", 0.001, "le 3")
  row("burst-stopped", "rss_kb", "  peak RSS, sum over the tree", "MB", 1 / 1024, "")
  row("burst-stopped", "mem_kb", "  peak memory of the cgroup", "MB", 1 / 1024, "")
  row("massive", "init_ms", "massive, new directories: initial sync", "s", 0.001, "rsync 1.1")
  row("massive", "init_counted_ms", "  (timed after the target's count)", "s", 0.001, "")
  row("massive", "init_cpu_ms", "  initial sync CPU, whole tree", "CPU-s", 0.001, "")
  row("massive", "conv_ms", "  new files while stopped: converged", "s", 0.001, "lsyncd 0.6")
  row("massive", "cpu_ms", "  CPU, whole tree", "CPU-s", 0.001, "lsyncd 0.5")
  row("massive", "rss_kb", "  peak RSS, sum over the tree", "MB", 1 / 1024, "le 150")
  row("massive", "mem_kb", "  peak memory of the cgroup", "MB", 1 / 1024, "")
  row("massive-overflow", "init_ms", "massive, queue overflow: initial sync", "s", 0.001, "rsync 1.1")
  row("massive-overflow", "init_counted_ms", "  (timed after the target's count)", "s", 0.001, "")
  row("massive-overflow", "init_cpu_ms", "  initial sync CPU, whole tree", "CPU-s", 0.001, "")
  row("massive-overflow", "conv_ms", "  new files while stopped: converged", "s", 0.001, "lsyncd 0.6")
  row("massive-overflow", "cpu_ms", "  CPU, whole tree", "CPU-s", 0.001, "lsyncd 0.5")
  row("massive-overflow", "rss_kb", "  peak RSS, sum over the tree", "MB", 1 / 1024, "le 150")
  row("massive-overflow", "mem_kb", "  peak memory of the cgroup", "MB", 1 / 1024, "")
  row("move", "conv_ms", "16 MiB move: converged", "s", 0.001, "")
  row("move", "bytes", "  bytes the daemon received", "", 1, "")
}
function row(c, key, label, unit, scale, target) {
  n++
  R_case[n] = c; R_key[n] = key; R_label[n] = label; R_unit[n] = unit; R_scale[n] = scale; R_target[n] = target
}
# every value of a figure (one per repetition); the table shows the median
{
  if ($3 == "overflow") {
    if ($4 == 1 && !((($1, $2) in overflow_seen))) { overflow[$1] = overflow[$1] " " $2; overflow_seen[$1, $2] = 1 }
    next
  }
  if ($4 == "-") next
  k = $1 SUBSEP $2 SUBSEP $3
  vals[k, ++cnt[k]] = $4
  if (cnt[k] > runs) runs = cnt[k]
}
function median(k, m, i, j, t, a) {
  m = cnt[k]
  for (i = 1; i <= m; i++) a[i] = vals[k, i]
  for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
  return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function fmt(x, unit) {
  if (x == "" || x == "-") return "-"
  if (unit == "") return sprintf("%d", x)
  if (x >= 100) return sprintf("%.0f", x)
  if (x >= 10) return sprintf("%.1f", x)
  return sprintf("%.2f", x)
}
function get(c, tool, key, scale, k) {
  k = c SUBSEP tool SUBSEP key
  if (!(k in cnt)) return ""
  return median(k) * scale
}
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2fx", a / b) }
END {
  if (runs > 1) printf "medians of %d runs per figure\n", runs
  printf "%-38s %-6s %9s %9s %9s %11s %10s %-12s %s\n", "figure", "unit", "ours", "lsyncd", "rsync -a", \
    "ours/lsyncd", "ours/rsync", "target", ""
  failed = 0
  for (i = 1; i <= n; i++) {
    c = R_case[i]; k = R_key[i]; s = R_scale[i]
    o = get(c, "ours", k, s); l = get(c, "lsyncd", k, s); r = get(c, "rsync", k, s)
    if (o == "" && l == "" && r == "") continue
    t = R_target[i]; verdict = ""; shown = t
    split(t, tt, " ")
    if (t != "" && o != "") {
      if (tt[1] == "le") { ok = o <= tt[2]; shown = "<= " tt[2] }
      else if (tt[1] == "lsyncd") { ok = (l != "" && l > 0 && o / l <= tt[2]); shown = "<= " tt[2] "x lsyncd" }
      else { ok = (r != "" && r > 0 && o / r <= tt[2]); shown = "<= " tt[2] "x rsync" }
      verdict = ok ? "PASS" : "FAIL"
      if (!ok) failed++
    }
    if (t == "") shown = "-"
    printf "%-38s %-6s %9s %9s %9s %11s %10s %-12s %s\n", R_label[i], R_unit[i], fmt(o, R_unit[i]), fmt(l, R_unit[i]), fmt(r, R_unit[i]), \
      ratio(o, l), ratio(o, r), shown, verdict
  }
  printf "\n"
  for (c in overflow) printf "overflow logged in %s by:%s\n", c, overflow[c]
  printf "%s\n", failed ? failed " target(s) NOT met" : "every target measured in this run is met"
  exit failed ? 1 : 0
}
