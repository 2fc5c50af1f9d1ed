#include "output.hpp"

#include <toolcommon/messages.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace inotifywait {

namespace {

// A pipe opened again through /proc is a new open file description of the same pipe: O_NONBLOCK
// on it leaves the one we share with the shell (and with other writers) as it was. Anything else,
// or without /proc: -1 (blocking writes).
int reopen_nonblocking(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return -1;
  return ::open(fmt::format("/proc/self/fd/{}", fd).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

bool is_socket(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

EventOutput::EventOutput(int fd) : fd_(fd), nonblocking_(reopen_nonblocking(fd)), socket_(is_socket(fd)) {
  buf_.reserve(2 * kFlushBytes);
  if (!nonblocking_) ends_.reserve(kMaxEvents + 1);
}

ssize_t EventOutput::write_once() {
  const char* data = buf_.data() + head_;
  const std::size_t size = buf_.size() - head_;
  if (nonblocking_) return ::write(nonblocking_.get(), data, size);
  if (socket_) return ::send(fd_, data, size, MSG_DONTWAIT);
  return ::write(fd_, data, size);
}

void EventOutput::write_some(bool wait) {
  events_ = 0;
  while (head_ < buf_.size()) {
    ssize_t n = write_once();
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // The reader is behind: hold the bytes unless told to wait or the budget is spent.
      const int out = nonblocking_ ? nonblocking_.get() : fd_;
      if (!wait && wait_ && buf_.size() - head_ >= kHoldBytes && wait_(libwatch::PollFd{.fd = out, .events = POLLOUT}))
        continue;
      if (wait || buf_.size() - head_ >= kMaxHeldBytes) {
        pollfd p{.fd = out, .events = POLLOUT, .revents = 0};
        ::poll(&p, 1, -1);
        continue;
      }
      // No write per event while it stays full: try again a chunk later, or when poll says so.
      retry_at_ = buf_.size() - head_ + kFlushBytes;
      if (head_ >= kFlushBytes && head_ * 2 >= buf_.size()) {
        buf_.erase(0, head_);
        head_ = 0;
      }
      return;
    }
    if (n < 0) fail(errno, head_);
    head_ += static_cast<std::size_t>(n);
    ++writes_;
  }
  buf_.clear();  // keeps the capacity: no allocation for the next burst
  head_ = 0;
  ends_.clear();
  retry_at_ = kFlushBytes;
}

libwatch::PollFd EventOutput::flush_ready() {
  write_some(false);
  if (head_ == buf_.size()) return {};
  return {.fd = nonblocking_ ? nonblocking_.get() : fd_, .events = POLLOUT};
}

void EventOutput::fail(int err, std::size_t written) {
  // A short write followed by an error (a full disk) leaves the start of an event behind. In a
  // regular file it can be taken back: cut the file to the end of the last whole event.
  std::size_t whole = 0;
  for (std::size_t end : ends_)
    if (end <= written) whole = end;
  struct stat st;
  if (written > whole && ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size >= static_cast<off_t>(written - whole)) [[maybe_unused]]
    int r = ::ftruncate(fd_, st.st_size - static_cast<off_t>(written - whole));
  // The reader went away: nobody wants the events any more, so end without a word.
  if (err != EPIPE) Messages::error(fmt::format("Couldn't write events: {}\n", std::strerror(err)));
  std::_Exit(1);
}

void Messages::use_syslog() {
  ::openlog("inotifywait", LOG_CONS | LOG_PID | LOG_NDELAY, LOG_DAEMON);
  syslog_ = true;
}

void Messages::routable(std::string_view line) const {
  if (syslog_) {
    // The reference sends the text with its trailing newline.
    std::string text(line);
    ::syslog(LOG_INFO, "%s", text.c_str());
    return;
  }
  error(line);
}

void Messages::error(std::string_view line) { toolcommon::write_stderr(line); }

}  // namespace inotifywait
