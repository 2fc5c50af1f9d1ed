#!/usr/bin/env bash
# bash completion for inotifywait, inotifywatch and inotifysync, driven as readline drives it:
# the function registered with `complete -F` is looked up with `complete -p` and called with
# COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set; COMPREPLY is compared.
#   completion_test.sh SOURCE_DIR BIN_DIR
src=$1 bin=$2
. "$(dirname "$0")/lib.sh"
for c in inotifywait inotifywatch inotifysync; do
  # shellcheck disable=SC1090
  . "$src/completions/$c"
done
mkdir "$work/files"
cd "$work/files"
touch alpha beta.log -- -x
mkdir "gamma dir"

# comp COMMAND WORD... : completes the last WORD ('' for a new word). bash's COMP_WORDBREAKS puts
# '=' in a word of its own: pass "--event" "=" "mod" for --event=mod. Prints COMPREPLY, sorted.
comp() {
  local -a COMP_WORDS=("$@")
  local COMP_CWORD=$(($# - 1)) COMP_LINE='' COMP_POINT w spec func
  for w in "$@"; do
    if [[ $w == = || ${COMP_LINE: -1} == = ]]; then COMP_LINE+=$w; else COMP_LINE+=${COMP_LINE:+ }$w; fi
  done
  COMP_POINT=${#COMP_LINE}
  spec=$(complete -p "$1") || { echo "(no completion registered for $1)"; return; }
  func=${spec#*-F }
  func=${func%% *}
  local -a COMPREPLY=()
  "$func" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  ((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort
}
lines() { printf '%s\n' "$@" | LC_ALL=C sort; }
check() {  # check DESCRIPTION EXPECTED COMMAND WORD...
  local what=$1 want=$2 got
  shift 2
  got=$(comp "$@")
  [ "$got" = "$want" ] || fail "$what: completing '$*' gave [$(echo "$got" | tr '\n' ' ')], expected [$(echo "$want" | tr '\n' ' ')]"
}
# The names listed under .SH SECTION of a man page, as the tags of its .TP paragraphs.
man_tags() {
  awk -v sec="$2" '/^\.SH /{s=($0 ~ "^\\.SH \"?" sec)} s&&tp{print} {tp=s&&/^\.TP/}' "$src/man/$1.1"
}

# ---- inotifywait
events=$(man_tags inotifywait EVENTS | sed -n 's/^\.B \([a-z_]*\)$/\1/p' | LC_ALL=C sort)
[ "$(echo "$events" | wc -l)" -ge 15 ] || fail "could not read the EVENTS section of inotifywait.1"
check "every event after -e" "$events" inotifywait -e ''
check "events after -e" "$(lines modify move move_self moved_from moved_to)" inotifywait -m -e mo
check "--event=VALUE" "$(lines delete delete_self)" inotifywait --event = del
check "--event= (nothing typed)" "$events" inotifywait --event =
check "the last element of a list" "$(lines modify,close modify,close_nowrite modify,close_write)" \
  inotifywait -e modify,cl
check "upper case" "$(lines create)" inotifywait -e CRE
check "no completion for a timeout" "" inotifywait -t ''
check "no completion for a format" "" inotifywait --format ''
check "files as operands" "$(lines -x alpha beta.log 'gamma dir')" inotifywait -m -r ''
check "a file name prefix" "alpha" inotifywait -m al
check "@ exclusions" "@alpha" inotifywait -r @al
check "an --outfile" "$(lines alpha)" inotifywait -d -o al
check "a --fromfile" "$(lines beta.log)" inotifywait --fromfile = be
check "operands after --" "-x" inotifywait -- -
check "long options" "$(lines --event --exclude --exclude-from --excludei)" inotifywait --e
check "--version" "--version" inotifywait --vers
check "--filename (no longer exists) is not offered" "--filesystem" inotifywait --fil
offered=$(comp inotifywait -)
for opt in $(man_tags inotifywait OPTIONS | grep -oE '\\-\\-[a-z]+(\\-[a-z]+)*' | sed 's/\\-/-/g' | sort -u); do
  case $opt in --filename) continue ;; esac
  grep -qx -- "$opt" <<<"$offered" || fail "inotifywait $opt (in the man page's OPTIONS) is not completed"
done

# ---- inotifywatch
keys=$(echo "$events" | grep -vx -e close -e move; echo total)
check "sort keys after -a" "$(echo "$keys" | LC_ALL=C sort)" inotifywatch -a ''
check "sort keys after -d" "$(lines close_nowrite close_write)" inotifywatch -r -d clo
check "--descending=" "total" inotifywatch --descending = to
check "events after -e" "$(lines close close_nowrite close_write)" inotifywatch -e clo
check "event lists" "$(lines access,delete access,delete_self)" inotifywatch -e access,del
check "--ver" "$(lines --verbose --version)" inotifywatch --ver
check "--live=SECONDS" "" inotifywatch --live = ''
check "--live then an operand" "alpha" inotifywatch --live al
check "files" "$(lines 'gamma dir')" inotifywatch -v gam
offered=$(comp inotifywatch -)
for opt in $(man_tags inotifywatch OPTIONS | grep -oE '\\-\\-[a-z]+(\\-[a-z]+)*' | sed 's/\\-/-/g' | sort -u); do
  grep -qx -- "$opt" <<<"$offered" || fail "inotifywatch $opt (in the man page's OPTIONS) is not completed"
done

# ---- the fsnotify twins complete as the programs they are
check "fsnotifywait: events after -e" "$(lines modify move move_self moved_from moved_to)" fsnotifywait -m -e mo
check "fsnotifywait: backend options" "$(lines --fanotify --filesystem --format --fromfile)" fsnotifywait --f
check "fsnotifywatch: sort keys" "total" fsnotifywatch -a to
check "fsnotifywatch: -S" "-S" fsnotifywatch -S

# ---- inotifysync
check "--delete modes" "$(lines false running startup true)" inotifysync --delete ''
check "--log file" "alpha" inotifysync --log al
check "--exclude-from=" "beta.log" inotifysync --exclude-from = b
check "no completion for --delay" "" inotifysync --delay ''
check "SOURCE and TARGETs are directories" "gamma dir" inotifysync ''
check "options" "$(lines --checksum)" inotifysync --ch
offered=$(comp inotifysync -)
for opt in $("$src/scripts/inotifysync" --help | grep -oE '^  (-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
  grep -qx -- "$opt" <<<"$offered" || fail "inotifysync $opt (in --help) is not completed"
done

# ---- every long option offered is one the program knows
for p in inotifywait inotifywatch inotifysync fsnotifywait fsnotifywatch; do
  exe=$bin/$p
  [ "$p" = inotifysync ] && exe=$src/scripts/inotifysync
  for opt in $(comp "$p" --); do
    err=$(timeout 10 "$exe" "$opt" </dev/null 2>&1 >/dev/null) || true
    case $err in
      *unrecognized* | *unknown* | *ambiguous*) fail "$p completes $opt, which it rejects: $err" ;;
    esac
  done
done
finish completion
