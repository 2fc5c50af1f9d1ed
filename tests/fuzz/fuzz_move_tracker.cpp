// The MoveTracker against a model of the disk and of inotify, no kernel involved: the input is a
// sequence of operations on a small directory tree (mkdir, rename inside the tree, move out, move
// in, rmdir, a file event, time passing, lost events). Each operation changes the model disk and
// queues the events inotify would report for it (only for directories that hold a watch), which
// are fed to the tracker as the Watcher feeds them. The World answers from the model: it watches
// and scans arrivals, drops subtrees, repairs after an overflow. Checked after every event: the
// table's indexes agree; once everything is settled (grace periods over, arrivals resolved): the
// table holds exactly the directories of the tree, each under its path on the model disk.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "masks.hpp"
#include "move_tracker.hpp"
#include "watch_table.hpp"

namespace {

using namespace libwatch;
using namespace std::chrono_literals;

constexpr Clock::duration kGrace = 10ms;
constexpr int kNone = -1;
const char* const kNames[] = {"a", "b", "c", "d"};

struct Dir {
  std::string name;
  int parent = kNone;  // kNone: outside the tree (moved out) or removed
  std::map<std::string, int> kids;
  bool removed = false;
};

struct Disk {
  std::vector<Dir> dirs{Dir{.name = "r", .parent = kNone, .kids = {}, .removed = false}};  // 0 is the watched root
  std::map<int, int> wd_of;  // inode -> wd (the kernel's watches)
  std::set<int> removed;     // wds the World removed (the backend drops their events)
  int next_wd = 2;

  bool in_tree(int d) const {
    while (d != 0) {
      if (dirs[d].removed || dirs[d].parent == kNone) return false;
      d = dirs[d].parent;
    }
    return true;
  }
  bool inside(int d, int ancestor) const {  // d is ancestor or below it
    for (; d != kNone; d = d == 0 ? kNone : dirs[d].parent)
      if (d == ancestor) return true;
    return false;
  }
  std::string path(int d) const { return d == 0 ? "r/" : path(dirs[d].parent) + dirs[d].name + "/"; }
  int at(const std::string& p) const {  // the directory at path p ("r/x/y/"), kNone if none
    if (p.rfind("r/", 0) != 0) return kNone;
    int d = 0;
    std::size_t i = 2;
    while (i < p.size()) {
      const std::size_t j = p.find('/', i);
      auto it = dirs[d].kids.find(p.substr(i, j - i));
      if (it == dirs[d].kids.end()) return kNone;
      d = it->second;
      i = j + 1;
    }
    return d;
  }
  int wd(int d) const {
    auto it = wd_of.find(d);
    return it == wd_of.end() ? -1 : it->second;
  }
  int watch(int d) {  // inotify_add_watch: the same wd for an inode already watched
    if (auto it = wd_of.find(d); it != wd_of.end()) return it->second;
    return wd_of[d] = next_wd++;
  }
  void unwatch_wd(int w) {
    for (auto it = wd_of.begin(); it != wd_of.end(); ++it)
      if (it->second == w) {
        wd_of.erase(it);
        return;
      }
  }
  std::vector<int> tree_dirs() const {
    std::vector<int> v;
    for (int d = 0; d < static_cast<int>(dirs.size()); ++d)
      if (in_tree(d)) v.push_back(d);
    return v;
  }
  int mkdir(int parent, const std::string& name) {
    dirs.push_back(Dir{.name = name, .parent = parent, .kids = {}, .removed = false});
    const int d = static_cast<int>(dirs.size()) - 1;
    dirs[parent].kids[name] = d;
    return d;
  }
};

struct Sim final : MoveTracker::World {
  Disk disk;
  WatchTable table;
  MoveTracker tracker{table, *this, kGrace};
  Clock::time_point now{};
  std::uint32_t cookie = 0;
  bool silent = false;                                      // events are being lost
  const bool trace = std::getenv("FUZZ_TRACE") != nullptr;  // the operations and events, on stderr

  Sim() {
    table.set_free_hook([](void* t, WatchId id) { static_cast<MoveTracker*>(t)->forget(id); }, &tracker);
    table.add_root(disk.watch(0), "r", true);
  }

  // ---- World ----
  bool follows(WatchId) override { return true; }
  bool still_at_path(WatchId id) override {
    const int d = disk.at(table.path(id));
    return d != kNone && disk.wd(d) == table.wd(id);
  }
  void drop_subtree(WatchId id) override {
    table.drop_subtree(id, [this](WatchId, int w) { remove_watch(w); });
  }
  Resolve resolve_arrival(WatchId placeholder, bool last_try) override {
    const WatchId parent = table.parent(placeholder);
    const int pd = disk.at(table.path(parent));
    if (pd == kNone || disk.wd(pd) != table.wd(parent)) {
      if (!last_try) return Resolve::retry;
      table.discard_placeholder(placeholder);
      return Resolve::done;
    }
    const std::string name(table.name(placeholder));
    table.discard_placeholder(placeholder);
    if (auto it = disk.dirs[pd].kids.find(name); it != disk.dirs[pd].kids.end()) walk(it->second, parent, false);
    return Resolve::done;
  }
  void releasing(WatchId) override {}

  // The Walker's part: watch d under parent and everything below it (a watch already known is
  // moved where the walk found it).
  void walk(int d, WatchId parent, bool mark) {
    const int w = disk.watch(d);
    const bool existed = table.find(w) != kNoWatch;
    const WatchId id = table.add_child(w, parent, disk.dirs[d].name);
    if (existed && !table.is_root(id)) table.move(id, parent, disk.dirs[d].name);
    if (mark) table.mark(id);
    for (const auto& [n, k] : disk.dirs[d].kids) walk(k, id, mark);
  }
  // Tree::repair(): every directory walked again, what no walk reached is gone.
  void repair() {
    table.begin_epoch();
    const WatchId root = table.find(disk.wd(0));
    table.mark(root);
    for (const auto& [n, k] : disk.dirs[0].kids) walk(k, root, true);
    std::vector<WatchId> stale;
    table.for_each([&](WatchId id) {
      if (!table.marked(id)) stale.push_back(id);
    });
    for (WatchId id : stale) {
      if (!table.contains(id) || table.find(table.wd(id)) != id) continue;
      remove_watch(table.wd(id));
      table.release(id);
    }
  }

  // Backend::remove_watch(): what is still queued for wd is not passed on.
  void remove_watch(int w) {
    disk.unwatch_wd(w);
    disk.removed.insert(w);
  }

  // ---- the events inotify queues ----
  void emit(int d, Mask mask, const std::string& name = "", std::uint32_t c = 0) {
    const int w = disk.wd(d);
    if (silent || w < 0) return;
    RawEvent r;
    r.wd = w;
    r.mask = mask;
    r.cookie = c;
    r.name = name;
    deliver(r);
  }
  void deliver(const RawEvent& r) {
    if (trace)
      std::fprintf(stderr, "  event wd=%d mask=%s name=%s cookie=%u\n", r.wd, fmt::format("{:#x}", r.mask).c_str(),
                   std::string(r.name).c_str(), r.cookie);
    tracker.finish();  // (what Watcher::next() does at its next call)
    if (tracker.take_repair()) repair();
    if (disk.removed.count(r.wd)) return;  // queued before the watch was removed
    const MoveTracker::Result res = tracker.process(r, now);
    if (res.verdict == MoveTracker::Verdict::unknown && !is_overflow(r.mask))
      fuzz::fail(fmt::format("event for wd {} unknown to the table", r.wd));
    check_indexes();
  }
  void overflow() {
    RawEvent r;
    r.wd = -1;
    r.mask = IN_Q_OVERFLOW;
    deliver(r);
  }
  void idle() {
    tracker.expire_moves(now);
    if (tracker.arrival_due(now)) tracker.resolve_arrivals(now);
    check_indexes();
  }

  void check_indexes() {
    std::size_t n = 0;
    table.for_each([&](WatchId id) {
      ++n;
      if (table.find(table.wd(id)) != id) fuzz::fail(fmt::format("watch {} not found by its wd", id));
    });
    if (n != table.size()) fuzz::fail(fmt::format("size() {} but {} live watches", table.size(), n));
  }

  // Everything settled: the table is the tree.
  void check_settled() {
    for (int round = 0; round < MoveTracker::kAttempts + 2; ++round) {
      tracker.finish();
      if (tracker.take_repair()) repair();
      now += 2 * kGrace;
      tracker.expire_moves(now);
      tracker.resolve_arrivals(now);
    }
    tracker.finish();
    if (tracker.moves_waiting() || tracker.arrivals_waiting()) fuzz::fail("moves or arrivals left after settling");
    std::map<std::string, int> want, have;
    for (int d : disk.tree_dirs()) want[disk.path(d)] = disk.wd(d);
    table.for_each([&](WatchId id) {
      if (!table.under_unnamed(id)) have[table.path(id)] = table.wd(id);
    });
    if (want != have) {
      std::string w, h;
      for (const auto& [p, x] : want) w += fmt::format(" {}={}", p, x);
      for (const auto& [p, x] : have) h += fmt::format(" {}={}", p, x);
      fuzz::fail(fmt::format("the table is not the tree:\n disk: {}\n table:{}", w, h));
    }
    if (table.size() != want.size()) {
      std::string h;
      table.for_each([&](WatchId id) {
        h += fmt::format(" {}={}{}", table.path(id), table.wd(id), table.under_unnamed(id) ? "(unnamed)" : "");
      });
      fuzz::fail(fmt::format("{} watches for {} directories:{}", table.size(), want.size(), h));
    }
  }
};

// One operation on the model disk, with its events. Returns false when it could not apply.
bool step(Sim& s, fuzz::Input& in, std::uint8_t op) {
  Disk& disk = s.disk;
  const std::vector<int> tree = disk.tree_dirs();
  auto pick = [&](bool not_root) -> int {
    if (not_root && tree.size() < 2) return kNone;
    const std::size_t skip = not_root ? 1 : 0;
    return tree[skip + in.byte() % (tree.size() - skip)];
  };
  auto free_name = [&](int parent) -> std::optional<std::string> {
    std::string n = kNames[in.byte() % 4];
    if (disk.dirs[parent].kids.count(n)) return std::nullopt;
    return n;
  };
  switch (op) {
    case 0: {  // mkdir
      const int p = pick(false);
      auto n = free_name(p);
      if (!n) return false;
      disk.mkdir(p, *n);
      s.emit(p, IN_CREATE | IN_ISDIR, *n);
      return true;
    }
    case 1: {  // rename inside the tree
      const int d = pick(true);
      if (d == kNone) return false;
      const int q = pick(false);
      if (disk.inside(q, d)) return false;
      auto n = free_name(q);
      if (!n) return false;
      const int from = disk.dirs[d].parent;
      const std::string old = disk.dirs[d].name;
      disk.dirs[from].kids.erase(old);
      disk.dirs[d].parent = q;
      disk.dirs[d].name = *n;
      disk.dirs[q].kids[*n] = d;
      const std::uint32_t c = ++s.cookie;
      s.emit(from, IN_MOVED_FROM | IN_ISDIR, old, c);
      s.emit(q, IN_MOVED_TO | IN_ISDIR, *n, c);
      s.emit(d, IN_MOVE_SELF);
      return true;
    }
    case 2: {  // move out of the tree
      const int d = pick(true);
      if (d == kNone) return false;
      const int from = disk.dirs[d].parent;
      disk.dirs[from].kids.erase(disk.dirs[d].name);
      disk.dirs[d].parent = kNone;
      s.emit(from, IN_MOVED_FROM | IN_ISDIR, disk.dirs[d].name, ++s.cookie);
      s.emit(d, IN_MOVE_SELF);
      return true;
    }
    case 3: {  // move in from outside: a new directory, maybe with directories inside
      const int p = pick(false);
      auto n = free_name(p);
      if (!n) return false;
      const int d = disk.mkdir(p, *n);
      const int kids = in.byte() % 3;
      for (int k = 0; k < kids; ++k) disk.mkdir(d, kNames[k]);
      s.emit(p, IN_MOVED_TO | IN_ISDIR, *n, ++s.cookie);
      return true;
    }
    case 4: {  // rmdir of an empty directory
      const int d = pick(true);
      if (d == kNone || !disk.dirs[d].kids.empty()) return false;
      const int from = disk.dirs[d].parent;
      disk.dirs[from].kids.erase(disk.dirs[d].name);
      disk.dirs[d].removed = true;
      s.emit(from, IN_DELETE | IN_ISDIR, disk.dirs[d].name);
      s.emit(d, IN_DELETE_SELF);
      const int w = disk.wd(d);
      s.emit(d, IN_IGNORED);
      if (w >= 0) disk.unwatch_wd(w);  // the kernel dropped the watch
      return true;
    }
    case 5: {  // a file created in a directory
      s.emit(pick(false), IN_CREATE, "f");
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  Sim s;
  for (int n = 0; n < 300 && !in.empty(); ++n) {
    const std::uint8_t op = in.byte() % 8;
    if (s.trace) std::fprintf(stderr, "op %d\n", op);
    if (op < 6) {
      step(s, in, op);
    } else if (op == 6) {  // time passes; the reader is empty
      s.now += (in.byte() % 3) * kGrace / 2;
      s.idle();
    } else {  // events lost: a few operations the tracker never hears of, then the overflow
      s.silent = true;
      for (int k = in.byte() % 4; k > 0; --k) step(s, in, in.byte() % 6);
      s.silent = false;
      s.overflow();
    }
    if (in.byte() & 1) {  // the reader ran dry: arrivals are resolved before the next read
      s.tracker.finish();
      if (s.tracker.arrivals_waiting()) s.tracker.resolve_arrivals(s.now);
    }
  }
  s.check_settled();
  return 0;
}
