// inotifybatch's command line (see man/inotifybatch.1).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace inotifybatch {

struct Options {
  std::chrono::microseconds delay{1000000};
  std::size_t max_batch = 10000;
  std::vector<std::string> excludes;       // --exclude, in order
  std::vector<std::string> exclude_files;  // --exclude-from, in order
  std::size_t snapshot_max = 1000000;      // --snapshot-max N entries (0: no snapshot)
  bool snapshot_on_signal = false;         // --snapshot-on-signal: take it at SIGUSR1
  std::string out;                         // --out DIR
  std::string merge;                       // --merge OUT: merge mode
  std::vector<std::string> operands;       // SOURCE, or for --merge SOURCE BATCH...
  bool fanotify = false;                   // --fanotify: one filesystem mark, no watch per directory
  bool help = false, version = false;
};

// Throws toolcommon::Failure (exit 1) with a usage message.
Options parse_options(int argc, char** argv);
// "1", "0.25": seconds to microseconds, at most a year; nullopt-like: throws Failure.
std::chrono::microseconds parse_seconds(const std::string& value, const std::string& option);

extern const char* const kUsage;

}  // namespace inotifybatch
