// A look inside a Watcher, for tests only (not installed).
#pragma once

#include <cstddef>

#include "libwatch/watcher.hpp"
#include "watch_table.hpp"

namespace libwatch::detail {

struct Inspect {
  static const WatchTable& table(const Watcher& w);
  // The kernel interface's descriptor (the inotify fd).
  static int kernel_fd(const Watcher& w);
  // Another event is ready without waiting (synthetic, queued, or readable now: this may read).
  static bool has_pending(Watcher& w);
  static std::size_t queued_bytes(const Watcher& w);
};

}  // namespace libwatch::detail
