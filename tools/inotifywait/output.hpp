// Where inotifywait's bytes go: events into a buffer written to fd 1 in large writes, messages to
// stderr or syslog.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace inotifywait {

// Events are appended to buffer() and written out by flush() (or by end_event() once the buffer
// holds kFlushBytes, or kMaxEvents events). A failed write ends the program: a reader that went away (EPIPE, when
// SIGPIPE is ignored; with the default disposition SIGPIPE ends us first, as it ends the
// reference) exits quietly with status 1, any other error prints one line and exits 1. A file
// that filled up mid-event is cut back to the last whole event.
class EventOutput {
 public:
  static constexpr std::size_t kFlushBytes = 64 * 1024;
  static constexpr std::size_t kMaxEvents = 4096;

  explicit EventOutput(int fd = 1);
  std::string& buffer() noexcept { return buf_; }
  // Called after each event has been appended: marks where it ends (so that a failed write never
  // leaves part of an event in a file), and writes the buffer out once it is large.
  void end_event() {
    ends_.push_back(buf_.size());  // (capacity reserved: no allocation)
    if (buf_.size() >= kFlushBytes || ends_.size() == kMaxEvents) flush();
  }
  void flush();
  std::size_t writes() const noexcept { return writes_; }

 private:
  [[noreturn]] void fail(int err, std::size_t written);

  int fd_;
  std::string buf_;
  std::vector<std::size_t> ends_;  // where each buffered event ends
  std::size_t writes_ = 0;
};

// Diagnostics. "Routable" messages (setup lines, watch errors, runtime errors) go to syslog with
// -s/-d, else to stderr; the others always go to stderr. Messages are complete lines.
class Messages {
 public:
  void use_syslog();  // openlog("inotifywait", LOG_CONS | LOG_PID | LOG_NDELAY, LOG_DAEMON)
  void routable(std::string_view line) const;
  static void error(std::string_view line);

 private:
  bool syslog_ = false;
};

}  // namespace inotifywait
