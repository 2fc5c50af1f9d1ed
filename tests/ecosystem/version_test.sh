#!/usr/bin/env bash
# --version on every program: one line on stdout, "<program> ... <project version>", nothing on
# stderr, exit 0 (inotifysync is a script with its own version string: it must follow the project).
#   version_test.sh BIN_DIR INOTIFYSYNC VERSION
bin=$1 sync=$2 version=$3
. "$(dirname "$0")/lib.sh"
for p in "$bin/inotifywait" "$bin/inotifywatch" "$sync"; do
  name=${p##*/}
  code=0
  "$p" --version >"$work/out" 2>"$work/err" || code=$?
  [ "$code" -eq 0 ] || fail "$name --version exited $code"
  [ ! -s "$work/err" ] || fail "$name --version wrote to stderr: $(cat "$work/err")"
  [ "$(wc -l <"$work/out")" -eq 1 ] || fail "$name --version printed $(wc -l <"$work/out") lines"
  out=$(cat "$work/out")
  [[ $out == "$name "* && $out == *" $version" ]] || fail "$name --version: '$out', expected '$name ... $version'"
done
finish version
