# shellcheck shell=bash
# Sourced by the tests/ecosystem scripts: a scratch directory removed at exit, fail and skip.
set -euo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/libwatch-eco.XXXXXX")
trap 'rm -rf "$work"' EXIT
status=0
# Records a failure and goes on, so that one run lists every problem.
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  status=1
}
# ctest counts exit 77 as skipped (SKIP_RETURN_CODE in CMakeLists.txt).
skip() {
  printf 'SKIP: %s\n' "$*"
  exit 77
}
finish() {
  [ "$status" -eq 0 ] && printf '%s: ok\n' "$1"
  exit "$status"
}
