// The inotify backend: the only code in libwatch that makes inotify syscalls (inotify(7)).
#pragma once

#include <climits>
#include <mutex>
#include <unordered_set>

#include "backend.hpp"
#include "libwatch/fd.hpp"

namespace libwatch {

class InotifyBackend final : public Backend {
 public:
  // Throws std::system_error (errno of inotify_init1(2)).
  InotifyBackend();

  int add_watch(const char* path, Mask mask) override;
  int add_watch_fd(int fd, Mask mask) override;
  void remove_watch(int wd) override;
  int watch_of(int fd) override;

  int fd() const noexcept override { return fd_.get(); }
  // read(2) on an inotify fd fails with EINVAL unless the buffer holds the next event whole.
  std::size_t min_read_room() const noexcept override { return kEventMax; }
  ssize_t read(char* buf, std::size_t room) override;
  std::optional<RawEvent> decode(std::span<const char>& bytes) override;

 private:
  static constexpr std::size_t kEventMax = 16 + NAME_MAX + 1;  // sizeof(inotify_event) + name

  Fd fd_;
  // Watches removed by remove_watch() whose IN_IGNORED has not been read yet: their events are
  // news about a watch the core already let go, and are not passed on. Walker threads may remove
  // (a stray watch) while another walker thread adds: hence the lock.
  std::mutex removed_lock_;
  std::unordered_set<int> removed_;
};

}  // namespace libwatch
