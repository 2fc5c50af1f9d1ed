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

#include "backend.hpp"
#include "libwatch/fd.hpp"

namespace libwatch {

class FanotifyBackend final : public Backend {
 public:
  // Throws std::system_error (errno of fanotify_init(2): EPERM not permitted, EINVAL kernel older
  // than 5.17, which brought FAN_RENAME and FAN_REPORT_TARGET_FID).
  // filesystem: one FAN_MARK_FILESYSTEM mark per file system instead of a mark per object; a
  // watch is then only a known handle, and events under handles not known are dropped.
  explicit FanotifyBackend(bool filesystem = false);

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
  void decode_record(std::span<const char> record);
  // Filesystem mode: the file system of fd (fsid = the key's head) reports kernel_bits.
  int cover_filesystem(const std::string& key, std::uint64_t kernel_bits, const char* target, unsigned follow);

  Fd fd_;
  const bool filesystem_;
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

}  // namespace libwatch
