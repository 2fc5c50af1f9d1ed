#include "output.hpp"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace inotifywait {

EventOutput::EventOutput(int fd) : fd_(fd) {
  buf_.reserve(2 * kFlushBytes);
  ends_.reserve(kMaxEvents);
}

void EventOutput::flush() {
  std::size_t done = 0;
  while (done < buf_.size()) {
    ssize_t n = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno, done);
    done += static_cast<std::size_t>(n);
    ++writes_;
  }
  buf_.clear();  // keeps the capacity: no allocation for the next burst
  ends_.clear();
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

void Messages::error(std::string_view line) {
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(2, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace inotifywait
