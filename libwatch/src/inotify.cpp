#include "inotify.hpp"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "watch_table.hpp"

namespace libwatch {

static_assert(sizeof(inotify_event) == 16);

InotifyBackend::InotifyBackend() : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC), "inotify_init1") {}

std::unique_ptr<Backend> make_inotify_backend() { return std::make_unique<InotifyBackend>(); }

int InotifyBackend::add_watch(const char* path, Mask mask) {
  int wd = ::inotify_add_watch(fd_.get(), path, mask);
  return wd >= 0 ? wd : -errno;
}

int InotifyBackend::add_watch_fd(int fd, Mask mask) {
  // /proc/self/fd/N is a link to the open directory; following it is the point (no
  // IN_DONT_FOLLOW): it names the directory wherever it is now, and whatever its path's length.
  char proc[32];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  mask &= ~static_cast<Mask>(IN_DONT_FOLLOW);
  return add_watch(proc, mask);
}

void InotifyBackend::remove_watch(int wd) {
  if (wd < 0) return;
  // Remembered even when the kernel refuses (EINVAL: it dropped the watch itself and its
  // IN_IGNORED is on its way): the core has let go of wd either way.
  ::inotify_rm_watch(fd_.get(), wd);
  std::lock_guard l(removed_lock_);
  removed_.insert(wd);
}

// Asking to watch it again returns its wd and changes nothing (IN_MASK_ADD of a bit every
// followed directory's watch has); a watch this creates on a directory not in the table is removed.
int InotifyBackend::watch_of(int fd) {
  int wd = add_watch_fd(fd, IN_MASK_ADD | IN_CREATE);
  if (wd < 0) return -1;
  if (table_ && table_->find(wd) != kNoWatch) return wd;
  remove_watch(wd);
  return -1;
}

ssize_t InotifyBackend::read(char* buf, std::size_t room) { return read_ready(fd_.get(), buf, room); }

std::optional<RawEvent> InotifyBackend::decode(std::span<const char>& bytes) {
  while (bytes.size() >= sizeof(inotify_event)) {
    inotify_event hdr;
    std::memcpy(&hdr, bytes.data(), sizeof hdr);
    const char* name = bytes.data() + sizeof hdr;
    bytes = bytes.subspan(sizeof hdr + hdr.len);
    if (!removed_.empty() && hdr.wd >= 0) {
      std::lock_guard l(removed_lock_);
      if (auto it = removed_.find(hdr.wd); it != removed_.end()) {
        if (hdr.mask & IN_IGNORED) removed_.erase(it);
        continue;
      }
    }
    return RawEvent{.wd = hdr.wd, .mask = hdr.mask, .cookie = hdr.cookie, .name = {name, ::strnlen(name, hdr.len)}};
  }
  return std::nullopt;
}

}  // namespace libwatch
