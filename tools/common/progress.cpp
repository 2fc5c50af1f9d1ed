#include "toolcommon/progress.hpp"

#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "toolcommon/messages.hpp"

namespace toolcommon {
namespace {

// A setup shorter than this says nothing more than it always did (issue: "more than a second").
constexpr auto kProgressAfter = std::chrono::seconds(1);
// Redrawing more often than a terminal's eye can follow only costs writes.
constexpr auto kProgressRedraw = std::chrono::milliseconds(200);
// Back to the start of the line, then clear to its end (ECMA-48 EL), so a shorter line leaves no tail.
constexpr const char* kEraseLine = "\r\033[K";

SetupProgress::Clock::duration configured_delay() {
  if (const char* v = std::getenv("LIBWATCH_PROGRESS_DELAY_MS"); v && *v) {
    char* end = nullptr;
    long ms = std::strtol(v, &end, 10);
    if (*end == 0 && ms >= 0) return std::chrono::milliseconds(ms);
  }
  return kProgressAfter;
}

}  // namespace

SetupProgress::SetupProgress(bool enabled) : enabled_(enabled), delay_(configured_delay()), start_(Clock::now()) {}

bool SetupProgress::stderr_is_terminal() noexcept { return ::isatty(STDERR_FILENO) == 1; }

std::string SetupProgress::text(std::size_t directories, Clock::duration elapsed) {
  const double seconds = std::chrono::duration<double>(elapsed).count();
  const auto rate = seconds > 0 ? static_cast<std::size_t>(static_cast<double>(directories) / seconds) : 0;
  return fmt::format("Setting up watches: {} directories watched ({} per second)", directories, rate);
}

void SetupProgress::update(std::size_t directories) {
  if (!enabled_) return;
  // A new operand's walk counts from zero again: keep the total across operands.
  if (directories < last_) done_before_ += last_;
  last_ = directories;
  const Clock::time_point now = Clock::now();
  if (now - start_ < delay_ || (shown_ && now - last_draw_ < kProgressRedraw)) return;
  last_draw_ = now;
  shown_ = true;
  write_stderr(kEraseLine + text(done_before_ + directories, now - start_));
}

void SetupProgress::erase() {
  if (!shown_) return;
  shown_ = false;
  write_stderr(kEraseLine);
}

}  // namespace toolcommon
