// Watcher: recursive watching with correct paths, no missed entries in new directories, and
// overflow repair. One thread of control: the thread that calls next() owns the Watcher (add(),
// the path functions and the handlers run on it); a large setup walks on a few helper threads
// inside add().
#pragma once

#include <signal.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libwatch/event.hpp"

namespace libwatch {

using Clock = std::chrono::steady_clock;

namespace detail {
struct Inspect;  // tests look inside (libwatch/src/inspect.hpp)
}

struct AddOptions {
  // Events the caller is interested in (kernel bits, may include IN_ONESHOT, IN_ISDIR, ...).
  Mask mask = IN_ALL_EVENTS;
  // Watch every directory below the operand. Symbolic links inside the tree are not followed;
  // a symbolic link given as the operand itself is (it is opened as a directory).
  bool recursive = false;
  // Keep following the tree after setup (implies recursive): watch directories that are created
  // or moved in, and report what is already inside them (synthetic IN_CREATE events, parents
  // before children); relabel renamed directories; drop subtrees moved out. Adds
  // IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO to the kernel mask; the extra events are delivered
  // too, so callers filter on what they asked for.
  bool track = false;
  // IN_DONT_FOLLOW: a symbolic link operand is watched itself (ignored for a recursive operand
  // that is a link to a directory, which is opened as a directory, as the reference does).
  bool dont_follow = false;
  // '@' exclusions: subdirectories not to watch (with their subtrees) during recursive setup.
  // Compared as exact strings with the path the walk builds (operand + '/' + names); one
  // trailing '/' on an exclusion is ignored.
  std::vector<std::string> exclude;
  // Subdirectories not to watch (with their subtrees), by a predicate on the same path: at setup,
  // when they appear later and in a repair. Called from the setup walk's threads at once.
  std::function<bool(std::string_view path)> prune;
  // Progress of a recursive setup: called on the thread that called add(), with the number of
  // directories this add() has watched so far, every few dozen directories and at least every
  // 100 ms while helper threads walk; not kept after add() returns. Whether and how to show it
  // is the caller's business.
  std::function<void(std::size_t directories)> progress;
};

// The kernel interface a Watcher uses.
enum class BackendKind {
  inotify,         // inotify(7): one watch per directory
  fanotify_inode,  // fanotify(7) with one inode mark per directory (Linux 5.17+)
  // fanotify(7) with one filesystem mark (FAN_MARK_FILESYSTEM, needs CAP_SYS_ADMIN) per file system
  // of the operands, filtered to the watched trees by directory handle: no mark (and no watch
  // limit) per directory. The setup walks the tree to learn the directories' handles unless
  // WatcherOptions::lazy_directories. Reads of directories by this process (the walks, and the
  // caller's own) are not reported.
  fanotify_filesystem,
};

struct WatcherOptions {
  // fanotify_inode reports what inotify would with these differences: events on a subdirectory
  // itself (OPEN, ATTRIB, ...) reach its parent only when the subdirectory is watched too, and
  // events the kernel merged come apart in a fixed order (create, open, access, modify, attrib,
  // close, delete), once each. The constructor throws std::system_error when fanotify_init(2)
  // fails (EPERM: not permitted; EINVAL: the kernel is older than 5.17).
  BackendKind backend = BackendKind::inotify;
  // With fanotify_filesystem: add() registers the operand and walks nothing (ready in the same
  // time whatever the tree's size); a directory enters the table when an event first names it
  // (resolved by handle, CAP_DAC_READ_SEARCH), so watch_count() and for_each_watch() cover only
  // the directories events have named, and the repair after an overflow walks nothing either (it
  // keeps the directories whose path still leads to them).
  // An event inside a directory that was removed before the event was read, and that no record
  // read by then names, cannot be placed and is dropped. Ignored with the other backends.
  bool lazy_directories = false;
  // Upper bound of the in-process queue of raw kernel events, in bytes. When it is full, next()
  // stops reading the kernel; the kernel's queue then fills and reports IN_Q_OVERFLOW, which is
  // delivered and repaired like any other overflow. 64 MiB holds more than 1,000,000 events.
  std::size_t queue_bytes = std::size_t{64} << 20;
  // How long an unpaired IN_MOVED_FROM of a directory waits for its IN_MOVED_TO before the
  // directory is taken as moved out of the tree.
  std::chrono::milliseconds move_grace{20};
  // Upgrade the self-caused bits (OPEN/ACCESS/CLOSE_NOWRITE) only after a directory has been
  // read, so that our own reads do not show up as events (D14).
  bool hide_own_reads = true;
  // Signal mask in force while next() waits (ppoll(2)). A caller that keeps its signals blocked
  // and lists them as unblocked here gets them only inside the wait, so a signal can never slip
  // in between the caller's check of its flag and the wait (next() then returns nullopt with
  // interrupted() true). Unset: the wait keeps the thread's mask.
  std::optional<sigset_t> wait_sigmask;
  // Number the watches for creation_order() (4 bytes a watch); without it creation_order() is 0.
  bool creation_order = false;
};

struct Warning {
  enum class Kind {
    unreadable_subdir,  // a subdirectory could not be read during a walk (EACCES, ...): skipped
    new_directory,      // a directory that appeared could not be watched (ENOSPC, EMFILE, ...)
    rescan_failed,      // a root could not be re-watched while repairing after an overflow
  };
  Kind kind;
  int error;         // errno
  std::string path;  // the directory, as it would be printed for %w (ends in '/')
};

// A descriptor the idle handler wants next() to wait for besides the kernel (poll(2) events).
struct PollFd {
  int fd = -1;
  short events = 0;
};

class Watcher {
 public:
  explicit Watcher(WatcherOptions options = {});  // throws std::system_error (inotify_init1, fanotify_init)
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Watch path (and its tree when recursive). Throws WatchError when the operand cannot be
  // watched, or when a hard limit is reached inside the tree (ENOSPC: max_user_watches;
  // EMFILE/ENFILE: open files). Entries that vanish during the walk are skipped; unreadable
  // subdirectories are skipped with a Warning. Returns the root's id.
  WatchId add(std::string_view path, const AddOptions& options);

  // The next event, or nullopt when the deadline passed (or a signal interrupted the wait:
  // see interrupted()). No deadline: wait as long as it takes. An event's effect on the watches
  // is visible when it is returned (a deleted directory's IN_IGNORED: watch_count() no longer
  // counts it; a new directory's IN_CREATE, once nothing else is queued: it is watched), but
  // on_remove() for an IN_IGNORED comes at the next call, after the caller has seen the event.
  std::optional<Event> next(std::optional<Clock::time_point> deadline = std::nullopt);
  // True when the last next() returned nullopt because a signal interrupted it (EINTR), or the
  // idle handler called interrupt().
  bool interrupted() const noexcept { return interrupted_; }
  // From the idle handler: next() returns nullopt instead of waiting (a signal handler's
  // self-pipe, polled through the idle handler, ends the wait without a race).
  void interrupt() noexcept { interrupt_ = true; }

  // Waits until fd is ready (poll(2) for fd.events), reading what the kernel queues meanwhile
  // into the userspace queue (up to queue_bytes): a writer held up by a slow reader of its output
  // waits here instead of buffering ever more output, and the kernel's queue does not overflow.
  // False when a signal interrupted the wait (see WatcherOptions::wait_sigmask).
  bool wait_ready(PollFd fd);

  // The watched path as printed for %w ("d/", "d/sub/", "f"; empty for kNoWatch).
  void append_path(WatchId id, std::string& out) const;
  std::string path(WatchId id) const;
  // The same, from a small cache of recently rendered paths (a burst in one directory renders it
  // once). Valid until the next call to next() or cached_path().
  std::string_view cached_path(WatchId id);

  // Live watches (one per watched directory or file).
  std::size_t watch_count() const noexcept;
  // IN_Q_OVERFLOW events delivered so far.
  std::uint64_t overflows() const noexcept { return overflows_; }
  // Events for watches the table did not know (each one removed the watch and repaired the tree).
  std::uint64_t stray_events() const noexcept { return stray_; }

  // For tables of watches (inotifywatch). Every live watch, in no particular order:
  void for_each_watch(const std::function<void(WatchId)>& f) const;
  // The number of live watches at id and below it.
  std::size_t watches_under(WatchId id) const;
  // When the watch was set up, as a rank: a walk numbers its directories in post-order (as the
  // reference's watch descriptors run), later watches follow. Sorts ties. Needs
  // WatcherOptions::creation_order.
  std::uint32_t creation_order(WatchId id) const noexcept;
  // Every id is below this bound for now (to size an array indexed by id; it grows).
  std::size_t id_bound() const noexcept;

  // Called synchronously from add() and next().
  void on_warning(std::function<void(const Warning&)> handler);
  // Called by next() right before it waits for the kernel, having nothing to deliver: the moment
  // for a writer to flush what it has, so that readers see every event at once while bursts
  // still go out in large writes. It returns a descriptor for next() to wait for too (e.g. its
  // output, POLLOUT, while bytes wait to be written to a full pipe), or an empty PollFd: when that
  // descriptor is ready, next() calls the handler again and goes on waiting.
  void on_idle(std::function<PollFd()> handler);
  // Called just before a watch leaves the table (deleted, moved out, vanished in a rescan),
  // while its path can still be rendered.
  void on_remove(std::function<void(WatchId)> handler);

 private:
  struct Impl;
  friend struct detail::Inspect;
  std::unique_ptr<Impl> impl_;
  bool interrupted_ = false;
  bool interrupt_ = false;
  std::uint64_t overflows_ = 0;
  std::uint64_t stray_ = 0;
};

}  // namespace libwatch
