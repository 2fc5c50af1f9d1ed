// Which of the twins the program runs as: inotifywait/inotifywatch (inotify by default) or
// fsnotifywait/fsnotifywatch (fanotify by default). One binary each; argv[0] decides, as upstream's
// 4.x tools do (a basename starting with "fsnotify").
#pragma once

#include <string>
#include <string_view>

#include <libwatch/watcher.hpp>

namespace toolcommon {

struct Program {
  std::string name;  // what --help and --version print: "inotifywait" or "fsnotifywait"
  libwatch::BackendKind default_backend = libwatch::BackendKind::inotify;
};

// -I, -F or -S (option is the letter) seen on the command line: the last of -I and -F wins, and
// -S (a fanotify filesystem mark) wins over both wherever it is, as in upstream's tools.
void apply_backend_option(libwatch::BackendKind& backend, char option) noexcept;

// tool is "wait" or "watch"; argv0 may be null or empty (then the inotify twin).
Program program_for(const char* argv0, std::string_view tool);

}  // namespace toolcommon
