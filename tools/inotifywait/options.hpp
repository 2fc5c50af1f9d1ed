// inotifywait's command line: the option table, parsing and the reference's validation order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libwatch/event.hpp>
#include <libwatch/watcher.hpp>
#include <toolcommon/inputs.hpp>

namespace inotifywait {

struct Options {
  bool monitor = false;
  bool daemon = false;
  bool syslog = false;
  bool recursive = false;
  bool no_dereference = false;
  bool csv = false;
  bool no_newline = false;
  bool json = false;  // --json (an addition): one JSON object per event
  // -I (inotify, inotifywait's default) or -F (fanotify inode marks, fsnotifywait's default), the
  // last one wins; -S (a filesystem mark) wins over both (toolcommon::apply_backend_option).
  libwatch::BackendKind backend = libwatch::BackendKind::inotify;
  int quiet = 0;
  std::uint32_t timeout = 0;          // seconds, 0 = none
  libwatch::Mask events = 0;          // OR of every -e; 0 = none given (all events)
  std::optional<std::string> format;  // --format as given (the last one, D11)
  std::optional<std::string> timefmt;
  std::optional<std::string> fromfile;
  std::optional<std::string> outfile;
  toolcommon::RegexOptions regex;  // with --exclude-from (D18)
  std::vector<std::string> prune;  // --prune (an addition)
  std::vector<std::string> operands;

  // The mask used for printing and for the single-event exit status (IN_ALL_EVENTS by default).
  libwatch::Mask requested() const noexcept { return events ? events : IN_ALL_EVENTS; }
};

// Parses argv and runs the checks of the reference's steps 1 to 12 (parse-time errors, then the
// consistency checks, then warnings, then the exit for a getopt error). Everything it prints goes
// to stderr, except --help (stdout). Throws toolcommon::Failure to end the program (the message,
// if any, has not been printed yet: the caller prints it).
Options parse_options(int argc, char** argv);

// The --help text (D16: our name and version, the reference's layout); program is "inotifywait"
// or "fsnotifywait" (which also lists -I, -F and -S).
std::string help_text(std::string_view program = "inotifywait");

}  // namespace inotifywait
