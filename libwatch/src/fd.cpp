#include "libwatch/fd.hpp"

#include <unistd.h>

#include <cerrno>
#include <string>

namespace libwatch {

Fd::Fd(int fd, const char* what) : fd_(fd) {
  if (fd < 0) throw std::system_error(errno, std::generic_category(), what);
}

void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

WatchError::WatchError(int err, std::string operand, std::string path)
    : std::system_error(err, std::generic_category(), path.empty() ? operand : path),
      operand_(std::move(operand)),
      path_(std::move(path)) {}

void throw_errno(int err, std::string_view op, std::string_view path) {
  std::string what(op);
  if (!path.empty()) {
    what += ": ";
    what += path;
  }
  throw std::system_error(err, std::generic_category(), what);
}

}  // namespace libwatch
