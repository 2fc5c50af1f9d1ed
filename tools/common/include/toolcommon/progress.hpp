// The self-updating "setting up" line of a long recursive setup (on a terminal only): shown once
// setup has taken kProgressAfter, redrawn at most every kProgressRedraw, and erased before the
// next message, so that the bytes of a run whose stderr is not a terminal never change.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace toolcommon {

class SetupProgress {
 public:
  using Clock = std::chrono::steady_clock;
  // enabled: the caller's verdict (stderr is a terminal, messages go there, not silenced).
  // The delay is LIBWATCH_PROGRESS_DELAY_MS when set (tests), else kProgressAfter.
  explicit SetupProgress(bool enabled);
  // True when stderr (fd 2) is a terminal.
  static bool stderr_is_terminal() noexcept;

  // AddOptions::progress: directories watched so far by the current add().
  void update(std::size_t directories);
  // Call before any other output to stderr, and when setup is over.
  void erase();
  // The line drawn for n directories after elapsed (no control bytes): for tests.
  static std::string text(std::size_t directories, Clock::duration elapsed);

 private:
  bool enabled_;
  bool shown_ = false;
  Clock::duration delay_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  std::size_t done_before_ = 0;  // directories of the earlier operands
  std::size_t last_ = 0;
};

}  // namespace toolcommon
