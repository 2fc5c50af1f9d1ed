// Option values shared by inotifywait and inotifywatch: event lists, timeouts, the list of paths
// to watch (--fromfile, operands, @exclusions) and the --exclude/--include regular expression.
#pragma once

#include <regex.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libwatch/event.hpp>

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

// ---- --exclude / --excludei / --include / --includei -----------------------------------------

// The four options as given on the command line (the last of each wins).
struct RegexOptions {
  std::optional<std::string> exclude, excludei, include, includei;
  int exclude_count = 0, excludei_count = 0;

  // Records one occurrence.
  void set_exclude(std::string v) { exclude = std::move(v), ++exclude_count; }
  void set_excludei(std::string v) { excludei = std::move(v), ++excludei_count; }
  void set_include(std::string v) { include = std::move(v); }
  void set_includei(std::string v) { includei = std::move(v); }

  // The first conflict in the reference's order, or empty:
  //   "--exclude and --excludei cannot both be specified.\n"
  //   "--include and --includei cannot both be specified.\n"
  //   "include and exclude regexp cannot both be specified.\n"
  std::string conflict() const;
  // inotifywait's non-fatal warnings for repeated options ("--exclude: only the last option will
  // be taken into consideration.\n", then the --excludei one); empty if none.
  std::string repeat_warnings() const;
};

// The compiled regular expression: an event passes when its "%w%f" string does not match an
// --exclude, or matches an --include. Compiled with regcomp(REG_EXTENDED | REG_NOSUB, plus
// REG_ICASE for the 'i' forms), unanchored.
class Filter {
 public:
  Filter() = default;
  // Compiles the winning option of opts (call after RegexOptions::conflict() came back empty).
  // Failure "Error in `exclude' regular expression.\n" (or `include') if it does not compile.
  explicit Filter(const RegexOptions& opts);
  ~Filter();
  Filter(Filter&& other) noexcept;
  Filter& operator=(Filter&& other) noexcept;
  Filter(const Filter&) = delete;
  Filter& operator=(const Filter&) = delete;

  bool active() const noexcept { return mode_ != Mode::none; }
  // path is the event's "%w%f", NUL-terminated (regexec(3) takes a C string).
  bool passes(const char* path) const noexcept;
  bool passes(const std::string& path) const noexcept { return passes(path.c_str()); }

 private:
  enum class Mode { none, exclude, include };
  Mode mode_ = Mode::none;
  regex_t re_{};
};

}  // namespace toolcommon
