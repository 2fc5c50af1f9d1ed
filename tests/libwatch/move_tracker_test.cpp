// The MoveTracker without a kernel: plain RawEvents in, the watch table and a model World checked
// after each step. Every transition of the state comment in move_tracker.hpp has a test here.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "masks.hpp"
#include "move_tracker.hpp"
#include "watch_table.hpp"

namespace {

using namespace libwatch;
using namespace std::chrono_literals;

constexpr Clock::duration kGrace = 10ms;

// The disk and the kernel as the tracker sees them: which directories are still where the table
// has them, which placeholders can be watched yet, and a log of what was asked.
struct ModelWorld final : MoveTracker::World {
  WatchTable& table;
  std::set<WatchId> not_followed;
  std::set<std::string> still_there;     // paths whose directory the disk still has there
  std::set<std::string> parent_not_yet;  // placeholder paths whose parent is not there yet
  std::vector<std::string> dropped;      // paths of subtrees dropped
  std::vector<std::string> resolved;     // paths of placeholders watched
  std::vector<bool> last_tries;          // resolve_arrival's last_try, in order
  std::vector<WatchId> released;
  int next_wd = 1000;

  explicit ModelWorld(WatchTable& t) : table(t) {}

  bool follows(WatchId id) override {
    for (WatchId a = id; a != kNoWatch; a = table.parent(a))
      if (not_followed.count(a)) return false;
    return true;
  }
  bool still_at_path(WatchId id) override { return still_there.count(table.path(id)) > 0; }
  void drop_subtree(WatchId id) override {
    dropped.push_back(table.path(id));
    table.drop_subtree(id, [](WatchId, int) {});
  }
  Resolve resolve_arrival(WatchId placeholder, bool last_try) override {
    last_tries.push_back(last_try);
    const std::string path = table.path(placeholder);
    if (parent_not_yet.count(path) && !last_try) return Resolve::retry;
    const WatchId parent = table.parent(placeholder);
    const std::string name(table.name(placeholder));
    table.discard_placeholder(placeholder);
    if (parent_not_yet.count(path)) return Resolve::done;  // given up
    table.add_child(next_wd++, parent, name);
    resolved.push_back(path);
    return Resolve::done;
  }
  void releasing(WatchId id) override { released.push_back(id); }
};

class MoveTrackerTest : public ::testing::Test {
 protected:
  WatchTable table;
  ModelWorld world{table};
  MoveTracker tracker{table, world, kGrace};
  Clock::time_point now{};
  WatchId root = table.add_root(1, "r", true);

  void SetUp() override {
    // As the Watcher does: an id the table frees is forgotten by the tracker.
    table.set_free_hook([](void* t, WatchId id) { static_cast<MoveTracker*>(t)->forget(id); }, &tracker);
  }

  WatchId dir(int wd, WatchId parent, const char* name) { return table.add_child(wd, parent, name); }
  MoveTracker::Result ev(int wd, Mask mask, const char* name = "", std::uint32_t cookie = 0) {
    RawEvent r;
    r.wd = wd;
    r.mask = mask;
    r.cookie = cookie;
    r.name = name;
    return tracker.process(r, now);
  }
  WatchId at(const std::string& path) {
    WatchId found = kNoWatch;
    table.for_each([&](WatchId id) {
      if (table.path(id) == path) found = id;
    });
    return found;
  }
};

TEST_F(MoveTrackerTest, RenameInsideTheTreeRelabelsTheSubtree) {
  const WatchId a = dir(2, root, "a");
  const WatchId b = dir(3, a, "b");
  EXPECT_EQ(ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 7).verdict, MoveTracker::Verdict::deliver);
  EXPECT_EQ(tracker.moves_waiting(), 1u);
  EXPECT_EQ(table.find_child(root, "a"), kNoWatch);  // in transit: the old name leads nowhere
  EXPECT_EQ(ev(1, IN_MOVED_TO | IN_ISDIR, "z", 7).id, root);
  EXPECT_EQ(tracker.moves_waiting(), 0u);
  EXPECT_EQ(table.path(a), "r/z/");
  EXPECT_EQ(table.path(b), "r/z/b/");
  EXPECT_TRUE(world.dropped.empty());
}

TEST_F(MoveTrackerTest, RenameIntoAnotherWatchedDirectory) {
  const WatchId a = dir(2, root, "a");
  const WatchId d = dir(3, root, "d");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 9);
  ev(3, IN_MOVED_TO | IN_ISDIR, "a2", 9);
  EXPECT_EQ(table.parent(a), d);
  EXPECT_EQ(table.path(a), "r/d/a2/");
}

TEST_F(MoveTrackerTest, UnpairedMoveOutExpiresAfterTheGracePeriod) {
  dir(2, root, "a");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 5);
  ASSERT_TRUE(tracker.next_deadline().has_value());
  EXPECT_EQ(*tracker.next_deadline(), now + kGrace);
  tracker.expire_moves(now + kGrace - 1ms);
  EXPECT_EQ(tracker.moves_waiting(), 1u);  // not yet
  tracker.expire_moves(now + kGrace);
  EXPECT_EQ(tracker.moves_waiting(), 0u);
  ASSERT_EQ(world.dropped.size(), 1u);
  EXPECT_EQ(table.find(2), kNoWatch);
  EXPECT_EQ(table.size(), 1u);
}

TEST_F(MoveTrackerTest, UnpairedMoveThatTheDiskStillHasIsKept) {
  const WatchId a = dir(2, root, "a");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 5);
  world.still_there.insert(table.path(a));
  tracker.expire_moves(now + kGrace);
  EXPECT_TRUE(world.dropped.empty());
  EXPECT_EQ(table.find(2), a);
}

TEST_F(MoveTrackerTest, UnpairedMoveExpiresAfterTheEventWindow) {
  dir(2, root, "a");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 5);
  for (std::uint64_t i = 0; i < MoveTracker::kEventWindow; ++i) ev(1, IN_MODIFY, "f");
  EXPECT_EQ(tracker.moves_waiting(), 1u);  // the window is not over
  ev(1, IN_MODIFY, "f");
  EXPECT_EQ(tracker.moves_waiting(), 0u);
  EXPECT_EQ(world.dropped.size(), 1u);  // at the same time: no clock involved
}

TEST_F(MoveTrackerTest, AnEventFromInsideAnUnpairedMoveSettlesItAtOnce) {
  dir(2, root, "a");
  dir(3, table.find(2), "b");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 5);
  // An event from inside a/b: the directory went away, its events are not news of the tree.
  EXPECT_EQ(ev(3, IN_CREATE, "f").verdict, MoveTracker::Verdict::skip);
  EXPECT_EQ(tracker.moves_waiting(), 0u);
  EXPECT_EQ(world.dropped.size(), 1u);
  EXPECT_EQ(table.find(3), kNoWatch);
}

TEST_F(MoveTrackerTest, ADirectorysOwnMoveSelfDoesNotSettleItsMove) {
  dir(2, root, "a");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 5);
  EXPECT_EQ(ev(2, IN_MOVE_SELF).verdict, MoveTracker::Verdict::deliver);
  EXPECT_EQ(tracker.moves_waiting(), 1u);
}

TEST_F(MoveTrackerTest, RenameOverAnEmptyDirectoryReplacesIt) {
  const WatchId a = dir(2, root, "a");
  const WatchId b = dir(3, root, "b");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 4);
  ev(1, IN_MOVED_TO | IN_ISDIR, "b", 4);
  EXPECT_EQ(table.find_child(root, "b"), a);
  EXPECT_NE(table.find_child(root, "b"), b);
  // The replaced one's IN_IGNORED is still to come: it stays keyed by its wd until then.
  EXPECT_EQ(table.find(3), b);
}

TEST_F(MoveTrackerTest, NewDirectoryBecomesAnArrivalThenAWatch) {
  ev(1, IN_CREATE | IN_ISDIR, "n");
  EXPECT_EQ(tracker.arrivals_waiting(), 1u);
  const WatchId p = table.find_child(root, "n");
  ASSERT_NE(p, kNoWatch);
  EXPECT_TRUE(table.is_placeholder(p));
  EXPECT_TRUE(tracker.arrival_due(now));
  tracker.resolve_arrivals(now);
  EXPECT_EQ(tracker.arrivals_waiting(), 0u);
  ASSERT_EQ(world.resolved, std::vector<std::string>{"r/n/"});
  EXPECT_FALSE(table.is_placeholder(table.find_child(root, "n")));
}

TEST_F(MoveTrackerTest, AnArrivalRenamedBeforeItIsWatchedIsWatchedUnderItsNewName) {
  ev(1, IN_CREATE | IN_ISDIR, "n");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "n", 3);
  ev(1, IN_MOVED_TO | IN_ISDIR, "m", 3);
  tracker.resolve_arrivals(now);
  EXPECT_EQ(world.resolved, std::vector<std::string>{"r/m/"});
  EXPECT_EQ(table.find_child(root, "n"), kNoWatch);
}

TEST_F(MoveTrackerTest, AMoveInFromOutsideIsAnArrival) {
  ev(1, IN_MOVED_TO | IN_ISDIR, "in", 77);
  EXPECT_EQ(tracker.arrivals_waiting(), 1u);
  tracker.resolve_arrivals(now);
  EXPECT_EQ(world.resolved, std::vector<std::string>{"r/in/"});
}

TEST_F(MoveTrackerTest, AnArrivalIsRetriedAGracePeriodApartThenGivenUp) {
  ev(1, IN_CREATE | IN_ISDIR, "n");
  world.parent_not_yet.insert("r/n/");
  tracker.resolve_arrivals(now);
  EXPECT_EQ(tracker.arrivals_waiting(), 1u);
  EXPECT_FALSE(tracker.arrival_due(now + kGrace - 1ms));
  EXPECT_TRUE(tracker.arrival_due(now + kGrace));
  tracker.resolve_arrivals(now + kGrace);
  tracker.resolve_arrivals(now + 2 * kGrace);
  EXPECT_EQ(tracker.arrivals_waiting(), 0u);
  EXPECT_EQ(world.last_tries, (std::vector<bool>{false, false, true}));
  static_assert(MoveTracker::kAttempts == 3);
  EXPECT_TRUE(world.resolved.empty());
  EXPECT_EQ(table.find_child(root, "n"), kNoWatch);
}

TEST_F(MoveTrackerTest, AnArrivalWhoseParentLeftIsDiscarded) {
  dir(2, root, "a");
  ev(2, IN_CREATE | IN_ISDIR, "n");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 5);
  tracker.expire_moves(now + kGrace);  // a left the tree
  tracker.resolve_arrivals(now + kGrace);
  EXPECT_EQ(tracker.arrivals_waiting(), 0u);
  EXPECT_TRUE(world.resolved.empty());
}

TEST_F(MoveTrackerTest, ACreateOverAStaleNameUnnamesTheOldEntry) {
  const WatchId a = dir(2, root, "a");
  // rm -r a; mkdir a: the CREATE comes before a's IN_IGNORED.
  ev(1, IN_DELETE | IN_ISDIR, "a");
  ev(1, IN_CREATE | IN_ISDIR, "a");
  EXPECT_NE(table.find_child(root, "a"), a);
  EXPECT_EQ(table.find(2), a);
  ev(2, IN_IGNORED);
  tracker.finish();
  tracker.resolve_arrivals(now);
  EXPECT_EQ(world.resolved, std::vector<std::string>{"r/a/"});
  EXPECT_EQ(table.size(), 2u);
}

TEST_F(MoveTrackerTest, AWatchDisplacedByAStaleCreateTakesItsNameBack) {
  // A repair walk watched a before the IN_CREATE queued for it was read.
  const WatchId a = dir(2, root, "a");
  ev(1, IN_CREATE | IN_ISDIR, "a");
  EXPECT_NE(table.find_child(root, "a"), a);
  EXPECT_EQ(tracker.moves_waiting(), 1u);  // displaced, settled like an unpaired move
  world.still_there.insert("r/a/");
  tracker.expire_moves(now + kGrace);
  EXPECT_EQ(table.find_child(root, "a"), a);
  EXPECT_FALSE(table.under_unnamed(a));
  tracker.resolve_arrivals(now + kGrace);  // the placeholder went with the name
  EXPECT_TRUE(world.resolved.empty());
  EXPECT_EQ(table.size(), 2u);
}

TEST_F(MoveTrackerTest, AWatchDisplacedThenMovedAwayIsDropped) {
  const WatchId a = dir(2, root, "a");
  ev(1, IN_CREATE | IN_ISDIR, "a");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 8);  // moved out before it was looked up
  tracker.expire_moves(now + kGrace);
  EXPECT_EQ(world.dropped, std::vector<std::string>{"r/a/"});
  EXPECT_FALSE(table.contains(a) && table.find(2) == a);
  EXPECT_EQ(table.size(), 1u);
}

TEST_F(MoveTrackerTest, IgnoredReleasesAtOnceAndLeavesAtFinish) {
  const WatchId a = dir(2, root, "a");
  ASSERT_EQ(table.size(), 2u);
  const auto r = ev(2, IN_IGNORED);
  EXPECT_EQ(r.verdict, MoveTracker::Verdict::deliver);
  EXPECT_EQ(r.id, a);
  EXPECT_EQ(table.size(), 1u);  // the count drops at once
  EXPECT_EQ(table.find(2), kNoWatch);
  EXPECT_EQ(table.path(a), "r/a/");  // but its path still renders for this event
  EXPECT_TRUE(world.released.empty());
  tracker.finish();
  EXPECT_EQ(world.released, std::vector<WatchId>{a});
  tracker.finish();  // only once
  EXPECT_EQ(world.released.size(), 1u);
}

TEST_F(MoveTrackerTest, OverflowForgetsMovesAndArrivalsAndAsksForARepair) {
  dir(2, root, "a");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 5);
  ev(1, IN_CREATE | IN_ISDIR, "n");
  EXPECT_FALSE(tracker.take_repair());
  const auto r = ev(-1, IN_Q_OVERFLOW);
  EXPECT_EQ(r.verdict, MoveTracker::Verdict::deliver);
  EXPECT_EQ(r.id, kNoWatch);
  EXPECT_EQ(tracker.moves_waiting(), 0u);
  EXPECT_EQ(tracker.arrivals_waiting(), 0u);
  EXPECT_EQ(table.find_child(root, "n"), kNoWatch);  // the placeholder is gone: the repair finds n
  EXPECT_FALSE(tracker.next_deadline().has_value());
  EXPECT_TRUE(tracker.take_repair());
  EXPECT_FALSE(tracker.take_repair());
  EXPECT_TRUE(world.dropped.empty());  // nothing is dropped on a guess
}

TEST_F(MoveTrackerTest, AnUnknownWdIsReportedNotDropped) {
  EXPECT_EQ(ev(42, IN_MODIFY, "f").verdict, MoveTracker::Verdict::unknown);
}

TEST_F(MoveTrackerTest, ATreeThatIsNotFollowedKeepsNoMoves) {
  const WatchId a = dir(2, root, "a");
  world.not_followed.insert(root);
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 5);
  ev(1, IN_CREATE | IN_ISDIR, "n");
  EXPECT_EQ(tracker.moves_waiting(), 0u);
  EXPECT_EQ(tracker.arrivals_waiting(), 0u);
  EXPECT_EQ(table.find_child(root, "a"), a);
}

TEST_F(MoveTrackerTest, FilesAreNotTracked) {
  ev(1, IN_CREATE, "f");
  ev(1, IN_MOVED_FROM, "f", 5);
  EXPECT_EQ(tracker.arrivals_waiting(), 0u);
  EXPECT_EQ(tracker.moves_waiting(), 0u);
}

TEST_F(MoveTrackerTest, NextDeadlineIsTheEarliestOfMovesAndArrivals) {
  dir(2, root, "a");
  ev(1, IN_CREATE | IN_ISDIR, "n");
  ASSERT_TRUE(tracker.next_deadline().has_value());
  EXPECT_EQ(*tracker.next_deadline(), Clock::time_point{});  // an arrival is due at once
  tracker.resolve_arrivals(now);
  now += 1s;
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 5);
  EXPECT_EQ(*tracker.next_deadline(), now + kGrace);
}

TEST_F(MoveTrackerTest, ForgetDropsWhatIsKeptForAFreedId) {
  const WatchId a = dir(2, root, "a");
  ev(1, IN_MOVED_FROM | IN_ISDIR, "a", 5);
  tracker.forget(a);
  EXPECT_EQ(tracker.moves_waiting(), 0u);
}

}  // namespace
