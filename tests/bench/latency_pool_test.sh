#!/usr/bin/env bash
# bench_run latency-pool: the pooled percentiles of a known samples file, and the failure on a
# file that lacks one of the programs.
#   tests/bench/latency_pool_test.sh BENCH_RUN
set -eu

scratch=""
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() { [ -z "$scratch" ] || rm -rf "$scratch"; }

main() {
  local bench_run=$1 dir samples got want i
  trap cleanup EXIT
  scratch=$(mktemp -d)
  dir=$scratch
  samples="$dir/samples"
  # ref: 1..100 us (net: half), ours: 2..200 us (net: the same), in an order pooling must sort.
  for i in $(seq 100 -1 1); do
    printf 'ref %d %d.5\nours %d %d\n' "$i" "$((i / 2))" "$((2 * i))" "$((2 * i))" >>"$samples"
  done
  got=$("$bench_run" latency-pool "$samples")
  want=$(printf '%s\n' "ref p50_us 51" "ref p99_us 100" "ref max_us 100" "ref net_p50_us 25.5" \
    "ref net_p99_us 50.5" "ref samples 100" "ours p50_us 102" "ours p99_us 200" "ours max_us 200" \
    "ours net_p50_us 102" "ours net_p99_us 200" "ours samples 100")
  if [ "$got" != "$want" ]; then
    printf 'latency-pool printed:\n%s\nexpected:\n%s\n' "$got" "$want" >&2
    exit 1
  fi
  grep '^ref ' "$samples" >"$dir/ref-only"
  if got=$("$bench_run" latency-pool "$dir/ref-only"); then
    echo "latency-pool accepted a file without samples of ours: $got" >&2
    exit 1
  fi
  case "$got" in
    "error no samples of ours in "*) ;;
    *) echo "latency-pool: unexpected failure text: $got" >&2; exit 1 ;;
  esac
  echo "latency-pool: ok"
}

main "$@"
