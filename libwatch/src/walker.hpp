// The Walker: the race-free scan of a directory tree. Each directory is watched before it is
// read, so that nothing created inside it in between is missed; the entries found are reported
// (D1) when the directory appeared at run time. A large setup spreads the root's subdirectories
// over a few threads (parallel_walk.cpp). Every descriptor is an Fd.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "libwatch/fd.hpp"
#include "libwatch/watcher.hpp"
#include "synthetic.hpp"
#include "watch_table.hpp"

namespace libwatch {

enum class WalkKind {
  setup,    // add(): the initial walk of an operand
  arrival,  // a directory that appeared: its entries are reported (synthetic events)
  rescan,   // the repair after an overflow: known directories are relabelled where the disk has them
};

struct WalkSpec {
  WalkKind kind = WalkKind::setup;
  Mask mask = 0;                                                 // what the kernel is asked for
  const std::vector<std::string>* exclude = nullptr;             // '@' exclusions, without a trailing '/'
  const std::function<bool(std::string_view)>* prune = nullptr;  // AddOptions::prune
  const std::function<void(std::size_t)>* progress = nullptr;    // AddOptions::progress (setup)
};

// How a walk ended: error 0, or the errno and the directory where it had to stop.
struct WalkResult {
  WatchId top = kNoWatch;  // the entry of the directory walked (kNoWatch when it was not entered)
  int error = 0;
  std::string error_path;
};

class Walker {
 public:
  Walker(Backend& backend, WatchTable& table, bool hide_own_reads);
  ~Walker();
  Walker(const Walker&) = delete;
  Walker& operator=(const Walker&) = delete;

  // Walk an operand (a root, displayed as typed). parallel: spread its subdirectories over
  // threads when there are enough of them.
  WalkResult walk_root(const WalkSpec& spec, const std::string& operand, bool parallel);
  // Walk the directory name inside the directory open as parent_fd (entry parent of the table,
  // whose path is parent_path), reporting what it holds to synth.
  WalkResult walk_child(const WalkSpec& spec, int parent_fd, WatchId parent, const std::string& parent_path,
                        std::string_view name, SyntheticQueue& synth);

  // Warnings of the walks so far (unreadable subdirectories), handed over once.
  std::vector<Warning> take_warnings();
  // Called every kPumpEveryDirs directories by the thread that owns the Watcher, and while it waits
  // for helper threads: reads the kernel's queue into the userspace one. Returns false once the
  // userspace queue is full (nothing more can be read until events are consumed).
  void set_pump(std::function<bool()> pump) { pump_ = std::move(pump); }
  // A number per new entry, in post-order over every walk (the order of the reference's watch
  // descriptors, by which inotifywatch sorts ties).
  std::uint32_t order_seq() const noexcept { return order_seq_; }
  void set_order_seq(std::uint32_t n) noexcept { order_seq_ = n; }

  // Watch the directory open as fd, at path: by path (the faster lookup) unless by_fd, the path is
  // too long, or it no longer leads there. wd or -errno.
  int watch_dir(const std::string& path, int fd, Mask mask, bool nofollow, bool by_fd);

  // One walker's working state; one per thread in a parallel walk (walker.cpp).
  class State;
  // What the walkers of one walk share.
  struct Shared {
    Walker& owner;
    const WalkSpec& spec;
    bool upgrade;                             // add without kSelfBits, upgrade once read
    SyntheticQueue* synth = nullptr;          // arrival walks
    std::mutex* table_lock = nullptr;         // set while walkers run in parallel
    const std::atomic<bool>* stop = nullptr;  // set while walkers run in parallel
  };

 private:
  WalkResult run_walk(Shared& shared, State& s, int pfd, const char* open_name, WatchId parent,
                      std::string_view node_name, bool parallel);
  // The root is the only frame of s: walk each of its subdirectories as one task, on this thread
  // and on helpers (parallel_walk.cpp). Throws the first helper's WalkAbort.
  void walk_children_in_parallel(Shared& shared, State& s);
  bool pump();
  // Counts a directory entered by any walker thread; tells the caller how far a setup has come.
  void count_entered() noexcept { entered_.fetch_add(1, std::memory_order_relaxed); }
  void report_progress(const Shared& shared) const;

  Backend& backend_;
  WatchTable& table_;
  const bool hide_own_reads_;
  std::function<bool()> pump_;
  std::uint32_t order_seq_ = 0;
  std::atomic<std::size_t> entered_{0};  // directories entered by the current walk_root()
  std::unique_ptr<State> main_;          // the state of the thread that owns the Watcher
};

}  // namespace libwatch
