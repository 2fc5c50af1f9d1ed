// The fanotify backend with inode marks: the only code in libwatch that makes fanotify syscalls
// (fanotify(7)). One mark per watched directory, like an inotify watch; the kernel names
// directories by file handle, and this backend keeps the handle -> wd map that turns them back
// into wds. Events come out with inotify's meaning (backend.hpp): merged events are split in
// inotify's order, a FAN_RENAME becomes IN_MOVED_FROM + IN_MOVED_TO with a cookie of our own, a
// deleted directory's last event is a synthesised IN_IGNORED.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "backend.hpp"
#include "fanotify_records.hpp"
#include "lazy_dirs.hpp"
#include "libwatch/fd.hpp"

namespace libwatch {

class FanotifyBackend final : public Backend {
 public:
  // Throws std::system_error (errno of fanotify_init(2): EPERM not permitted, EINVAL kernel older
  // than 5.17, which brought FAN_RENAME and FAN_REPORT_TARGET_FID).
  // filesystem: one FAN_MARK_FILESYSTEM mark per file system instead of a mark per object; a
  // watch is then only a known handle, and events under handles not known are dropped.
  // lazy (filesystem only): the setup registers the roots and walks nothing; a directory is
  // registered when an event first names it (fanotify_lazy.cpp).
  explicit FanotifyBackend(bool filesystem = false, bool lazy = false);

  int add_watch(const char* path, Mask mask) override;
  int add_watch_fd(int fd, Mask mask) override;
  void remove_watch(int wd) override;
  int watch_of(int fd) override;
  void forget(int wd) override;

  int fd() const noexcept override { return fd_.get(); }
  // A filesystem mark hears our own walks too; their directory reads are dropped by pid (no
  // ignore marks needed).
  bool reports_own_reads() const noexcept override { return !filesystem_; }
  // read(2) on a fanotify fd fails with EINVAL unless the next event fits whole: metadata and up
  // to three info records of a handle (MAX_HANDLE_SZ) and a name each.
  std::size_t min_read_room() const noexcept override { return kEventMax; }
  ssize_t read(char* buf, std::size_t room) override;
  std::optional<RawEvent> decode(std::span<const char>& bytes) override;
  bool watches_each_directory() const noexcept override { return !lazy_; }
  void repair() override;
  void root_added(int wd) override;

  // Lazy mode, for tests and benchmarks: directories registered from events so far, and how many
  // event records named a directory that could not be placed (gone with no later record naming it).
  std::size_t lazily_registered() const noexcept { return lazily_registered_; }
  std::size_t unresolved() const noexcept { return unresolved_; }

 private:
  static constexpr std::size_t kEventMax = 4096;

  struct Mark {
    std::string key;  // fsid + handle type + handle bytes, as events carry them
    Mask mask;        // the IN_* bits asked for (what is reported)
    bool dir;
  };
  struct Pending {
    int wd;
    Mask mask;
    std::uint32_t cookie;
    std::string name;
  };

  // Mark the object open as fd (any kind of descriptor, O_PATH included).
  int mark(int fd, Mask mask, const char* nofollow_path);
  int lookup(const std::string& key);
  // Change a directory mark's ignore mask from was to now.
  void set_ignore(std::uint64_t was, std::uint64_t now, unsigned follow, const char* target);
  // Queue the events one record means for the watch wd, split in inotify's order.
  void emit(int wd, Mask bits, std::uint32_t cookie, std::string_view name);
  // An event on the directory itself (reported with the name "."): its parent's watch hears of
  // it first, as inotify reports it to both.
  void emit_self(int wd, Mask bits, bool parent_only);
  void drop_mark(int wd);
  // The marked object of wd, opened O_PATH (empty when it cannot be reached).
  Fd open_marked(int wd, const std::string& key);
  void decode_record(std::span<const char> record, std::span<const char> after);
  // The wd of the directory key: looked up, and in lazy mode resolved and registered when it is
  // below a root (after: the records read after this one, for a directory already gone).
  int dir_wd(const std::string& key, std::span<const char> after, int depth = 0);
  // Lazy mode (fanotify_lazy.cpp).
  struct LazyRoot {
    int wd;
    std::string fsid;  // the key's head
    std::string path;  // absolute, as /proc/self/fd reads it
    Fd mount;          // open_by_handle_at(2)'s mount_fd: the root itself, opened for reading
  };
  int resolve(const std::string& key, std::span<const char> after, int depth);
  int resolve_gone(const std::string& key, std::span<const char> after, int depth);
  // Register key as the directory name inside the watch parent_wd; -1 when out of scope.
  int register_dir(int parent_wd, std::string_view name, const std::string& key);
  Fd open_by_key(const std::string& key, const LazyRoot*& root);
  // A directory renamed inside the trees: where the table must have it before the pair relabels it.
  void place_renamed(const std::string& key, int from_wd, std::string_view from, int to_wd, std::string_view to);
  // A directory's DELETE (or rename away) as it was decoded: where it was, for its DELETE_SELF.
  void remember_removed(const std::string& key, const std::string& parent_key, std::string_view name);
  // Filesystem mode: the file system of fd (fsid = the key's head) reports kernel_bits.
  int cover_filesystem(const std::string& key, std::uint64_t kernel_bits, const char* target, unsigned follow);

  Fd fd_;
  const bool filesystem_;
  const bool lazy_;
  std::vector<LazyRoot> lazy_roots_;
  OutsideCache outside_;
  std::unordered_map<std::string, Naming> graveyard_;
  std::size_t lazily_registered_ = 0;
  std::size_t unresolved_ = 0;
  std::unordered_map<std::string, std::uint64_t> fs_masks_;  // fsid -> its filesystem mark's mask
  std::atomic<pid_t> self_pid_{0};                           // set by add_watch, after any daemon fork
  // add_watch() comes from several walker threads at once.
  std::mutex lock_;
  std::unordered_map<std::string, int> by_key_;
  std::unordered_map<int, Mark> marks_;
  // Directories marked without the read bits (a walk is reading them, having opened them before
  // the mark existed) under a parent whose mark reports opens, whose own first event has not come.
  std::unordered_set<int> fresh_;
  std::atomic<bool> any_open_{false};  // some mark was asked for IN_OPEN
  int next_wd_ = 1;
  std::uint32_t next_cookie_ = 0;
  std::deque<Pending> pending_;  // the events of the record at the front of decode()'s bytes
  std::size_t record_len_ = 0;   // that record's length
  std::string name_;             // the name of the event decode() returned last
};

// The object open as fd as fanotify's records name it (fsid + handle type + handle bytes): 0 or
// an errno.
int key_of(int fd, std::string& key);

}  // namespace libwatch
