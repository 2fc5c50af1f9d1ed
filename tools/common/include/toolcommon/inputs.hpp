// Option values shared by inotifywait and inotifywatch: event lists, timeouts, the list of paths
// to watch (--fromfile, operands, @exclusions). The regular expressions are in filters.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libwatch/event.hpp>

#include "toolcommon/filters.hpp"  // RegexOptions, Filter (they lived here)

namespace toolcommon {

using libwatch::Mask;

// ---- -e/--event ------------------------------------------------------------------------------

// A comma-separated list of event names, case-insensitive ("modify,CLOSE_write"). Empty elements
// are ignored (D10: "modify," is "modify"; "" and "," give 0, which means "no events named").
// nullopt if any element is not an event name.
std::optional<Mask> parse_event_list(std::string_view list);

// parse_event_list, or Failure(invalid_event_message(list)).
Mask event_list_or_fail(std::string_view list);

// ---- -t/--timeout ----------------------------------------------------------------------------

// Seconds, parsed like strtol(arg, 10) with the whole string consumed: leading white space and a
// sign are accepted ("+5", " 1"); 0 means "no timeout". Errors (Failure, exit 1), as the
// reference words them:
//   ""             -> "The provided value is not a valid timeout value.\n"
//                     "Please specify a long int value.\n"
//   "1.5", "5x"    -> "'1.5' is not a valid timeout value.\n" "Please specify a long int value.\n"
//   out of long    -> "Something went wrong with the timeout value you provided.\n"
//                     "Numerical result out of range\n"
// D9: negative values and values of 2^32 or more (which the reference wraps) are rejected:
//   "'-1' is not a valid timeout value.\n"
//   "Please specify a number of seconds from 0 to 4294967295.\n"
std::uint32_t parse_timeout(std::string_view arg);

inline constexpr std::uint32_t kMaxTimeout = 4294967295u;

// ---- paths: --fromfile, operands, @exclusions -------------------------------------------------

struct WatchList {
  std::vector<std::string> paths;       // in watch order: --fromfile entries, then operands
  std::vector<std::string> exclusions;  // '@' entries, without the '@'
  std::string diagnostics;              // "Couldn't open <file>: <strerror>\n" (not fatal)
};

// Builds the list as the reference does. --fromfile FILE ("-" = standard input) is read line by
// line: one trailing '\n' is removed and nothing else is trimmed; lines are split every 4095
// bytes; empty lines and a lone "@" are skipped; "@X" excludes X. An unreadable FILE is reported
// in diagnostics and the operands are still used. Operands: "" and "@" are skipped, "@X" excludes
// X, anything else is a path. The caller prints kNoFilesMessage when paths is empty.
WatchList build_watch_list(const std::optional<std::string>& fromfile, std::span<const std::string> operands);

}  // namespace toolcommon
