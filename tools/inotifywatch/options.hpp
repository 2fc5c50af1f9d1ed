// inotifywatch's command line: the reference's options (getopt_long syntax and diagnostics, via
// toolcommon) plus --live[=SECONDS].
#pragma once

#include <sys/inotify.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libwatch/watcher.hpp>
#include <toolcommon/inputs.hpp>

#include "stats.hpp"

namespace inotifywatch {

struct Options {
  int verbose = 0;
  // -I (inotify, the default), -F (fanotify inode marks), -S (a filesystem mark): see apply_backend_option.
  libwatch::BackendKind backend = libwatch::BackendKind::inotify;
  Mask events = 0;            // -e, OR-ed together; 0: none given (all events)
  std::uint32_t timeout = 0;  // -t; 0: until a signal
  bool zero = false;          // -z
  bool recursive = false;     // -r
  bool no_dereference = false;
  std::optional<std::string> fromfile;
  toolcommon::RegexOptions regex;  // with --exclude-from (D18)
  std::vector<std::string> prune;  // --prune (an addition)
  bool json = false;               // --json (an addition): the final table as one JSON document
  SortKey sort;
  std::optional<double> live;  // --live: seconds between updates
  std::vector<std::string> operands;

  // What was asked for: the -e mask, or every event.
  Mask requested() const noexcept { return events ? events : IN_ALL_EVENTS; }
};

inline constexpr double kDefaultLiveSeconds = 1.0;

// Parses argv as the reference does, in its order: options one by one (a bad event, timeout or
// sort key, a second --fromfile or -a, --help: Failure at once), then the getopt diagnostic if
// any, then the consistency checks (sort key against the mask, D6, regex conflicts). Throws
// toolcommon::Failure (message for stderr, exit status); --help prints to stdout first.
Options parse_options(int argc, char** argv);

// The text --help prints (to stdout, exit 1); program is "inotifywatch" or "fsnotifywatch".
std::string help_text(std::string_view program = "inotifywatch");

// --live's value: seconds, a positive decimal number no larger than a day. nullopt if invalid.
std::optional<double> parse_live_seconds(std::string_view arg);

}  // namespace inotifywatch
