// A compact picture of the tree as it was last handed out (per path: inode, mtime, ctime, size,
// type), so that after a queue overflow the changes can be found by a walk and a comparison
// instead of a full-tree rsync. Paths are relative to the source; excluded paths are left out.
// Layout: one sorted vector of fixed-size records whose paths live in one string arena (40 bytes
// plus the path per entry), in tree order (a directory, then its subtree), so that a
// walk that reads each directory's names sorted produces it directly and a diff is one merge.
//
// States: invalid (never built, or over budget) --build()--> valid; valid --refresh()/diff()-->
// valid, or invalid once it would hold more than the budget (then the caller falls back to a
// full sync, and build()s again once that is done).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
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
  // Bytes held by the records and the arena (for the tests' memory bound).
  std::size_t bytes() const noexcept {
    return entries_.records.capacity() * sizeof(Record) + entries_.arena.capacity();
  }
  // Records the whole tree.
  void build();
  // Forgets it (invalid).
  void drop() { invalidate(); }
  // Records the paths of a batch as they are now (a directory with everything below it).
  void refresh(const std::vector<std::string>& paths);
  // Walks the tree, records it as it is now, and returns what rsync must be handed (with -r,
  // --delete-missing-args) to bring a copy of the old tree to the new one: each new, changed or
  // gone path, but not what is below a new, gone or replaced directory (the directory itself
  // covers it), and not a directory that only changed because of entries listed below it (rsync
  // sends it as an implied directory, with its attributes, without recursing into all of it).
  // Only for a valid snapshot.
  std::vector<std::string> diff();

  // 40 bytes: what a change shows in, and where the path starts in the arena (it ends where
  // the next one starts: the arena holds the paths in the records' order).
  struct Record {
    std::uint64_t ino = 0;
    std::int64_t mtime_ns = 0, ctime_ns = 0;
    std::uint64_t size = 0;
    std::uint32_t mode = 0;
    std::uint32_t off = 0;
    bool same(const Record& o) const noexcept {
      return ino == o.ino && mtime_ns == o.mtime_ns && ctime_ns == o.ctime_ns && size == o.size && mode == o.mode;
    }
  };

 private:
  struct Entries {
    std::vector<Record> records;  // in tree order
    std::string arena;
    std::size_t size() const noexcept { return records.size(); }
    std::string_view path(std::size_t i) const noexcept {
      const std::size_t end = i + 1 < records.size() ? records[i + 1].off : arena.size();
      return {arena.data() + records[i].off, end - records[i].off};
    }
    void add(std::string_view path, Record r) {
      r.off = static_cast<std::uint32_t>(arena.size());
      records.push_back(r);
      arena.append(path);
    }
    void append(const Entries& other, std::size_t i) { add(other.path(i), other.records[i]); }
    void shrink() {
      records.shrink_to_fit();
      arena.shrink_to_fit();
    }
  };
  // Appends rel's subtree (rel a directory, "" for the root; not rel itself) to out in tree
  // order; false when out would hold more than the budget.
  bool walk(const std::string& rel, Entries& out) const;
  void invalidate();

  std::string source_;  // ends in '/'
  std::size_t budget_;
  Excluded excluded_;
  Entries entries_;
  bool valid_ = false;
};

// Tree order: component by component ('/' sorts before every other byte), so that a
// directory's subtree follows it at once. Negative, zero or positive, as compare().
int tree_compare(std::string_view a, std::string_view b) noexcept;
// a is below directory dir (dir "" is the root: everything is below it).
bool is_below(std::string_view a, std::string_view dir) noexcept;

}  // namespace inotifybatch
