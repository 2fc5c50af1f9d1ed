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

// tool is "wait" or "watch"; argv0 may be null or empty (then the inotify twin).
Program program_for(const char* argv0, std::string_view tool);

}  // namespace toolcommon
