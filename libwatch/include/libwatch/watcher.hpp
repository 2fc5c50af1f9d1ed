// Watcher: recursive inotify with correct paths, no missed entries in new directories,
// and overflow repair. Single consumer: one thread calls next() and the path functions.
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
#include "libwatch/watch_table.hpp"

namespace libwatch {

using Clock = std::chrono::steady_clock;

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
};

struct WatcherOptions {
  // Upper bound of the in-process queue of raw kernel events, in bytes. When it is full the
  // reader stops draining; the kernel queue then fills and reports IN_Q_OVERFLOW, which is
  // delivered and repaired like any other overflow. 64 MiB holds more than 1,000,000 events.
  std::size_t queue_bytes = std::size_t{64} << 20;
  // How long an unpaired IN_MOVED_FROM of a directory waits for its IN_MOVED_TO before the
  // directory is taken as moved out of the tree.
  std::chrono::milliseconds move_grace{20};
  // Drain the kernel queue from a background thread while the consumer is busy elsewhere (once it
  // has left the kernel alone for 2 ms; while the consumer waits, the thread looks every 10 ms).
  bool reader_thread = true;
  // While events stream in (a wait ends less than 1 ms after the previous one), pause this long
  // before reading, so that events are read, handled and written in batches. An event after a
  // quiet spell is read at once. Zero: never pause.
  std::chrono::microseconds coalesce{200};
  // Upgrade the self-caused bits (OPEN/ACCESS/CLOSE_NOWRITE) only after a directory has been
  // read, so that our own reads do not show up as events (D14).
  bool hide_own_reads = true;
  // Signal mask in force while next() waits (ppoll(2)). A caller that keeps its signals blocked
  // and lists them as unblocked here gets them only inside the wait, so a signal can never slip
  // in between the caller's check of its flag and the wait (next() then returns nullopt with
  // interrupted() true). Unset: the wait keeps the thread's mask.
  std::optional<sigset_t> wait_sigmask;
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

class Watcher {
 public:
  explicit Watcher(WatcherOptions options = {});  // throws std::system_error (inotify_init1)
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Watch path (and its tree when recursive). Throws WatchError when the operand cannot be
  // watched, or when a hard limit is reached inside the tree (ENOSPC: max_user_watches;
  // EMFILE/ENFILE: open files). Entries that vanish during the walk are skipped; unreadable
  // subdirectories are skipped with a Warning. Returns the root's id.
  WatchId add(std::string_view path, const AddOptions& options);

  // The next event, or nullopt when the deadline passed (or a signal interrupted the wait:
  // see interrupted()). No deadline: wait as long as it takes.
  std::optional<Event> next(std::optional<Clock::time_point> deadline = std::nullopt);
  // True when the last next() returned nullopt because a signal interrupted it (EINTR).
  bool interrupted() const noexcept { return interrupted_; }
  // True when another event is ready without waiting (buffered, synthetic, or readable from the
  // kernel right now: this may read). Writers use it to decide when to flush their output.
  bool has_pending();

  // The watched path as printed for %w ("d/", "d/sub/", "f"; empty for kNoWatch).
  void append_path(WatchId id, std::string& out) const;
  std::string path(WatchId id) const;

  const WatchTable& table() const noexcept;
  std::size_t watch_count() const noexcept;
  std::uint64_t overflows() const noexcept { return overflows_; }

  // Called synchronously from add() and next().
  void on_warning(std::function<void(const Warning&)> handler);
  // Called by next() right before it waits for the kernel, having nothing buffered to deliver:
  // the moment for a writer to flush what it has, so that readers see every event at once while
  // bursts still go out in large writes. (Events that arrived since the last read may be waiting
  // already: the wait then returns at once.)
  void on_idle(std::function<void()> handler);
  // Called just before a watch leaves the table (deleted, moved out, vanished in a rescan),
  // while its path can still be rendered.
  void on_remove(std::function<void(WatchId)> handler);

  int inotify_fd() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool interrupted_ = false;
  std::uint64_t overflows_ = 0;
  friend struct WatcherAccess;
};

}  // namespace libwatch
