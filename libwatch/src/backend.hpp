// The kernel side of libwatch behind one small interface, so that the Reader, the Walker, the
// MoveTracker and the Watcher never know which kernel interface produced an event.
//
// A backend watches directories (and files given as operands) and turns what its kernel reports
// into RawEvents with inotify(7)'s meaning:
//   wd      the backend's key for a watched directory (or file), >= 0, handed out by add_watch();
//           -1 only with IN_Q_OVERFLOW.
//   mask    IN_* bits, IN_ISDIR for a directory entry.
//   cookie  pairs an IN_MOVED_FROM with its IN_MOVED_TO (non-zero and equal in both).
//   name    the entry inside the directory; empty for the directory itself.
// What the core relies on (each backend keeps it, synthesising events where its kernel does not):
//   1. IN_IGNORED is a wd's last event: after the kernel dropped the watch (the directory was
//      deleted, its file system unmounted) and after remove_watch(). Nothing carries the wd
//      after it, and the wd is not handed out again before it.
//   2. Lost events are one {wd -1, IN_Q_OVERFLOW}; the core then repairs its table (see
//      watches_each_directory()).
//   3. A rename inside the watched tree is IN_MOVED_FROM then IN_MOVED_TO, adjacent, with the same
//      cookie; a move in or out of the tree is a lone IN_MOVED_TO or IN_MOVED_FROM with a cookie.
//   4. read() never blocks, and a record never spans two reads.
// Calls come from the thread that owns the Watcher, except add_watch() and add_watch_fd(), which
// the parallel setup walk makes from several threads at once.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "libwatch/event.hpp"

namespace libwatch {

class WatchTable;

// One event as a backend decoded it: no kernel types.
struct RawEvent {
  int wd = -1;
  Mask mask = 0;
  std::uint32_t cookie = 0;
  std::string_view name;  // valid until the next decode()
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The watch table the core keeps. A backend that learns of directories from its events (one
  // mark on a whole file system) registers them there; the others only look up wds.
  void attach(WatchTable& table) noexcept { table_ = &table; }

  // ---- watches ----
  // Watch what path names (relative to the working directory), or the directory open as fd.
  // mask: the IN_* events wanted, plus IN_ONLYDIR, IN_DONT_FOLLOW and IN_MASK_ADD as
  // inotify_add_watch(2) takes them. Returns the wd (the same one for an object already watched:
  // the mask is replaced, or extended with IN_MASK_ADD), or -errno.
  virtual int add_watch(const char* path, Mask mask) = 0;
  virtual int add_watch_fd(int fd, Mask mask) = 0;
  // Stop watching wd; its IN_IGNORED follows in the event stream.
  virtual void remove_watch(int wd) = 0;
  // The wd of the directory open as fd if this backend watches it with a wd that is in the table,
  // else -1. Leaves no watch behind that was not there.
  virtual int watch_of(int fd) = 0;
  // A wd left the table (released after IN_IGNORED, dropped with a subtree, or gone in a repair):
  // forget what is kept for it.
  virtual void forget(int /*wd*/) {}

  // ---- events ----
  // Pollable for POLLIN while events are waiting.
  virtual int fd() const noexcept = 0;
  // read() needs this much room at least (inotify: one event with the longest name).
  virtual std::size_t min_read_room() const noexcept = 0;
  // One non-blocking read into buf: the bytes read, 0 when nothing is waiting, -errno on failure.
  virtual ssize_t read(char* buf, std::size_t room) = 0;
  // The next event from bytes (whole records from read(), front first; decode consumes what it
  // used). nullopt when bytes holds nothing more. The core asks for an event only after it applied
  // the previous one to the table, so a backend may resolve a record against the table as it is.
  // A backend that makes several events of one record keeps the rest and returns them first.
  virtual std::optional<RawEvent> decode(std::span<const char>& bytes) = 0;

  // ---- what the core adapts to ----
  // Our own reads of a directory are reported as events (inotify), so a walk adds each watch
  // without OPEN/ACCESS/CLOSE_NOWRITE and upgrades it once the directory was read (D14). False for
  // a backend that drops the events our own process causes.
  virtual bool reports_own_reads() const noexcept { return true; }
  // Every directory needs a watch of its own (inotify, fanotify inode marks): add() walks the tree
  // and the repair after an overflow walks it again. False for one mark on a whole file system:
  // add() registers the root only, and the repair calls repair() and resets the table to the roots
  // (the backend registers directories again as events name them).
  virtual bool watches_each_directory() const noexcept { return true; }
  // Events were lost (an IN_Q_OVERFLOW was delivered): drop what the backend caches.
  virtual void repair() {}
  // A root operand is in the table as wd (a backend that registers directories below the roots
  // from its events needs to know where they are).
  virtual void root_added(int /*wd*/) {}
  // Whether the directory name inside the table's entry parent belongs to a watched tree (the
  // roots' -r, '@' exclusions and prune decide): set by the Tree, asked by a backend that
  // registers directories from its events.
  using Scope = std::function<bool(WatchId parent, std::string_view name)>;
  void set_scope(Scope scope) { scope_ = std::move(scope); }

 protected:
  WatchTable* table_ = nullptr;
  Scope scope_;
};

// Backend::read() for a non-blocking kernel fd: the bytes read, 0 when nothing is waiting
// (EAGAIN), -errno on failure; retried after EINTR.
inline ssize_t read_ready(int fd, char* buf, std::size_t room) {
  for (;;) {
    ssize_t n = ::read(fd, buf, room);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return errno == EAGAIN ? 0 : -errno;
  }
}

// The inotify backend (inotify.cpp). Throws std::system_error when inotify_init1(2) fails.
std::unique_ptr<Backend> make_inotify_backend();
// The fanotify backend (fanotify.cpp): inode marks, or with filesystem one filesystem mark per
// file system; lazy (with filesystem): no walk, directories registered as events name them
// (fanotify_lazy.cpp). Throws std::system_error when fanotify_init(2) fails.
std::unique_ptr<Backend> make_fanotify_backend(bool filesystem = false, bool lazy = false);

}  // namespace libwatch
