// Where inotifywait's bytes go: events into a buffer written to fd 1 in large writes, messages to
// stderr or syslog.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <libwatch/fd.hpp>
#include <libwatch/watcher.hpp>

namespace inotifywait {

// Events are appended to buffer() and written out by flush() or flush_ready() (or by end_event()
// once kFlushBytes or kMaxEvents are waiting). A reader that stalls must not stall us: libwatch
// reads the kernel only while we come back to next(), so on a pipe or socket the bytes are written
// without blocking and what the reader cannot take yet is held (up to kHoldBytes, then writing
// waits in Watcher::wait_ready, which reads the kernel meanwhile; without that handler up to
// kMaxHeldBytes, then writing waits, and a kernel queue overflow is reported as usual). A failed
// write ends the program: a reader that went away (EPIPE, when SIGPIPE is ignored; with the
// default disposition SIGPIPE ends us first, as it ends the reference) exits quietly with status
// 1, any other error prints one line and exits 1. A file that filled up mid-event is cut back to
// the last whole event.
class EventOutput {
 public:
  static constexpr std::size_t kFlushBytes = 64 * 1024;
  static constexpr std::size_t kMaxEvents = 4096;
  // The same budget as libwatch's own queue (WatcherOptions::queue_bytes): over a million events.
  static constexpr std::size_t kMaxHeldBytes = std::size_t{64} << 20;
  // With a wait_with() handler, what is held before writing waits in it: four pipes' worth, reused,
  // where holding a whole 300,000-event drain (15 MB) had up to 3,300 page faults (perf, issue 13).
  static constexpr std::size_t kHoldBytes = 4 * kFlushBytes;

  explicit EventOutput(int fd = 1);
  std::string& buffer() noexcept { return buf_; }
  // Called after each event has been appended: marks where it ends (so that a failed write never
  // leaves part of an event in a file), and writes the buffer out once it is large.
  void end_event() {
    if (!nonblocking_) ends_.push_back(buf_.size());  // (capacity reserved: no allocation)
    if (buf_.size() - head_ >= retry_at_ || ++events_ >= kMaxEvents) write_some(false);
  }
  // Writes everything, waiting for the reader if it must.
  void flush() { write_some(true); }
  // Writes what the reader takes now. Bytes left: the descriptor and POLLOUT, to wait for.
  libwatch::PollFd flush_ready();
  std::size_t writes() const noexcept { return writes_; }
  // Where a full pipe is waited for once kHoldBytes are held (Watcher::wait_ready, which reads the
  // kernel meanwhile); false: it did not wait, the bytes are held. Without it, up to kMaxHeldBytes
  // are held.
  void wait_with(std::function<bool(libwatch::PollFd)> wait) { wait_ = std::move(wait); }

 private:
  void write_some(bool wait);
  ssize_t write_once();
  [[noreturn]] void fail(int err, std::size_t written);

  int fd_;
  libwatch::Fd nonblocking_;  // a private open file description of a pipe, or nothing
  bool socket_ = false;       // send(MSG_DONTWAIT) instead
  std::string buf_;
  std::size_t head_ = 0;                // bytes of buf_ already written
  std::size_t retry_at_ = kFlushBytes;  // pending bytes that trigger the next write
  std::size_t events_ = 0;              // events appended since the last write
  std::vector<std::size_t> ends_;       // where each buffered event ends (blocking writes only)
  std::size_t writes_ = 0;
  std::function<bool(libwatch::PollFd)> wait_;
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
