#!/usr/bin/env bash
# The sync measurements moved to tests/bench/sync.sh (`scripts/bench sync`, see
# tests/bench/README.md): this runs its quick mode with the old arguments.
#   [MEASURE_CASES="changes overflow move"] [MEASURE_KEEP_LOGS=DIR] measure.sh [inotifysync|lsyncd|rsync]...
# (default: all three; "overflow" is now the case burst-stopped). Needs root and lsyncd.
set -euo pipefail

main() {
  local -a tools=() cases=() args=(--quick)
  local t c
  for t in "$@"; do
    if [ "$t" = inotifysync ]; then tools+=(ours); else tools+=("$t"); fi
  done
  for c in ${MEASURE_CASES:-}; do
    if [ "$c" = overflow ]; then cases+=(burst-stopped); else cases+=("$c"); fi
  done
  ((${#tools[@]} == 0)) || args+=(--tools "$(IFS=,; printf '%s' "${tools[*]}")")
  ((${#cases[@]} == 0)) || args+=(--only "$(IFS=,; printf '%s' "${cases[*]}")")
  [ -z "${MEASURE_KEEP_LOGS:-}" ] || args+=(--keep-logs "$MEASURE_KEEP_LOGS")
  MEASURE_CASES='' exec setsid --wait "$(dirname "${BASH_SOURCE[0]}")/../bench/sync.sh" "${args[@]}"
}

main "$@"
