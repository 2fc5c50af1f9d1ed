#!/usr/bin/env bash
# The five man pages: no message at all from groff -ww -man -z or mandoc -Tlint (style level
# included), the sections a Debian user expects, --version among the options, and the project
# version in the footer.
#   man_lint.sh SOURCE_DIR VERSION
src=$1 version=$2
. "$(dirname "$0")/lib.sh"
command -v groff >/dev/null || skip "groff is not installed (Debian package groff-base)"
command -v mandoc >/dev/null || skip "mandoc is not installed (Debian package mandoc)"
for page in inotifywait inotifywatch inotifysync fsnotifywait fsnotifywatch; do
  f=$src/man/$page.1
  [ -f "$f" ] || { fail "man/$page.1 is missing"; continue; }
  out=$(groff -ww -man -z "$f" 2>&1) || fail "groff -ww -man -z $page.1 exited $?"
  [ -z "$out" ] || fail "groff -ww -man -z $page.1:"$'\n'"$out"
  out=$(mandoc -Tlint "$f" 2>&1) || fail "mandoc -Tlint $page.1 exited $?"
  [ -z "$out" ] || fail "mandoc -Tlint $page.1:"$'\n'"$out"
  sections=$(sed -n 's/^\.SH "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$f")
  for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
    grep -qx "$s" <<<"$sections" || fail "$page.1 has no $s section"
  done
  grep -qx -e COMPATIBILITY -e NOTES <<<"$sections" || fail "$page.1 has neither COMPATIBILITY nor NOTES"
  # --version as the tag of an option paragraph.
  awk '/^\.SH /{s=($2=="OPTIONS")} s&&tp{print} {tp=s&&/^\.TP/}' "$f" | grep -q 'version' ||
    fail "$page.1 does not list --version under OPTIONS"
  th=$(head -n 1 "$f")
  [[ $th == '.TH '*"\"libwatch $version\""* ]] || fail "$page.1: '$th' does not name libwatch $version"
done
finish man_lint
