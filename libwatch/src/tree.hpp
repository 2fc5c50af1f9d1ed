// The Tree: the watched operands (roots) and what is done to the disk for them: add() with its
// walk, the repair after lost events, and the checks and scans the MoveTracker asks for (the Tree
// is the MoveTracker's World).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "backend.hpp"
#include "libwatch/fd.hpp"
#include "libwatch/watcher.hpp"
#include "move_tracker.hpp"
#include "synthetic.hpp"
#include "walker.hpp"
#include "watch_table.hpp"

namespace libwatch {

class Tree final : public MoveTracker::World {
 public:
  Tree(Backend& backend, WatchTable& table, SyntheticQueue& synth, bool hide_own_reads);

  // Watcher::add(): throws WatchError.
  WatchId add(std::string_view path, const AddOptions& options);
  // Events were lost: make the table match the disk again (every root walked again).
  void repair();
  // An event for a wd that is not in the table: a watch the table does not know of. It is removed
  // and the trees are repaired, since whatever it watched may belong to them.
  void stray(int wd);

  Walker& walker() noexcept { return walker_; }
  std::function<void(const Warning&)> on_warning;
  std::function<void(WatchId)> on_remove;

  // MoveTracker::World
  bool follows(WatchId id) override;
  bool still_at_path(WatchId id) override;
  void drop_subtree(WatchId id) override;
  Resolve resolve_arrival(WatchId placeholder, bool last_try) override;
  void releasing(WatchId id) override;

 private:
  struct Root {
    WatchId id;
    std::string operand;
    AddOptions options;
    Mask kmask;                        // what the kernel is asked for (before IN_ONLYDIR / IN_DONT_FOLLOW)
    bool walked;                       // a directory watched through a walk
    std::vector<std::string> exclude;  // '@' exclusions without their trailing '/'
  };
  const Root* root_for(WatchId id) const;
  // Backend::Scope: the directory name inside parent belongs to its root's tree.
  bool admits(WatchId parent, std::string_view name) const;
  void register_root(Root root, WatchId id);
  void rekey(Root& root, WatchId id);
  void rescan_root(Root& root);
  WatchId walk_operand(const Root& root);
  WalkResult walk_tracking_fresh(const Root& root);
  WatchId watch_operand(const Root& root);
  void flush_warnings();
  void warn(Warning::Kind kind, int err, std::string path);
  void unwatch(WatchId id);
  // Open a directory without reading it (O_PATH: no events), piece by piece when the path is longer
  // than PATH_MAX.
  static Fd open_dir_path(const std::string& path);

  Backend& backend_;
  WatchTable& table_;
  SyntheticQueue& synth_;
  Walker walker_;
  std::vector<Root> roots_;
  std::unordered_map<WatchId, std::size_t> root_index_;
  bool uniform_roots_ = true;  // every root has the same options: root_for() need not look up
};

}  // namespace libwatch
