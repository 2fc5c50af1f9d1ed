// A compact picture of the tree as it was last handed out (per path: inode, mtime, ctime, size,
// type), so that after a queue overflow the changes can be found by a walk and a comparison
// instead of a full-tree rsync. Paths are relative to the source; excluded paths are left out.
//
// States: invalid (never built, or over budget) --build()--> valid; valid --refresh()/diff()-->
// valid, or invalid once it would hold more than the budget (then the caller falls back to a
// full sync, and build()s again when that starts).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace inotifybatch {

class Snapshot {
 public:
  // excluded(rel, is_dir): paths not to record (and directories not to enter).
  using Excluded = std::function<bool(const std::string&, bool)>;
  Snapshot(std::string source, std::size_t budget, Excluded excluded)
      : source_(std::move(source)), budget_(budget), excluded_(std::move(excluded)) {}

  bool valid() const noexcept { return valid_; }
  std::size_t size() const noexcept { return entries_.size(); }
  // Records the whole tree.
  void build();
  // Records the paths of a batch as they are now (a directory with everything below it).
  void refresh(const std::vector<std::string>& paths);
  // Walks the tree, returns every path that differs from the record (new, changed or gone) and
  // records the tree as it is now. Only for a valid snapshot.
  std::vector<std::string> diff();

  struct Stat {
    std::uint64_t ino = 0;
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    std::uint64_t size = 0;
    std::uint32_t mode = 0;
    bool operator==(const Stat&) const = default;
  };

 private:
  using Entries = std::map<std::string, Stat>;
  // Adds rel's subtree (rel a directory, "" for the root) to out; false when over budget.
  bool walk(const std::string& rel, Entries& out) const;
  void erase_below(const std::string& rel);  // rel's subtree, not rel itself
  void invalidate();

  std::string source_;  // ends in '/'
  std::size_t budget_;
  Excluded excluded_;
  Entries entries_;
  bool valid_ = false;
};

}  // namespace inotifybatch
