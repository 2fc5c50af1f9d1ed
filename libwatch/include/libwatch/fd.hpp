// An owning file descriptor, and the error type libwatch throws.
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace libwatch {

// Move-only owner of one file descriptor. Closes it in the destructor; close() is not
// retried on EINTR (close(2), NOTES: the descriptor is released even when EINTR is returned).
class Fd {
 public:
  Fd() noexcept = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  // Takes the result of a syscall: throws std::system_error(errno, what) when fd < 0.
  Fd(int fd, const char* what);
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

// Setup failed for one operand given to Watcher::add(). code() is the errno; operand() is the
// path exactly as given to add(); path() is where it failed (deeper than the operand when the
// failure happened inside a recursive walk, e.g. ENOSPC).
class WatchError : public std::system_error {
 public:
  WatchError(int err, std::string operand, std::string path);
  const std::string& operand() const noexcept { return operand_; }
  const std::string& path() const noexcept { return path_; }

 private:
  std::string operand_;
  std::string path_;
};

// Throws std::system_error(err, "<op>: <path>") (or just op when path is empty).
[[noreturn]] void throw_errno(int err, std::string_view op, std::string_view path = {});

}  // namespace libwatch
