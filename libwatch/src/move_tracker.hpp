// The MoveTracker keeps the watch table in step with the events: it pairs renames by cookie,
// turns new directories into arrivals to watch and scan, lets unpaired moves expire, releases
// watches on IN_IGNORED and forgets what an overflow made uncertain. It sees plain RawEvents and
// the table only; what needs the disk or the kernel it asks of a World (the Tree in the library,
// a model in the unit test and the fuzz target). Time is passed in.
//
// The states of a directory the tracker follows (T is the watch table):
//
//   watched     In T under its name, with a wd.
//                 dir IN_MOVED_FROM in a followed directory -> in transit.
//                 IN_IGNORED -> released.
//                 IN_CREATE or an unpaired IN_MOVED_TO of its own name -> displaced: unnamed, and
//                 settled like an unpaired move (a new directory replaced it, or it is that very
//                 directory, watched by a repair walk before its stale event was read; settled
//                 and still at its path, it takes its name back from the arrival).
//   in transit  Unnamed in T (find_child no longer finds it), waiting in moves_ for the
//               IN_MOVED_TO with its cookie.
//                 that IN_MOVED_TO, in a followed directory -> watched, relabelled there (what it
//                 replaced under that name is unnamed, or discarded if an arrival).
//                 unpaired: its grace period passed while nothing more had arrived (expire_moves),
//                 or kEventWindow later events went by, or an event came from inside it (the
//                 rename that queued the IN_MOVED_FROM queued its partner right after it, so
//                 there is none) -> settled: World::still_at_path() ? watched : gone
//                 (World::drop_subtree: every watch under it leaves).
//                 IN_Q_OVERFLOW -> forgotten (the repair walk puts T right).
//   arrival     A placeholder in T (no wd) for a directory created or moved in from outside
//               (IN_CREATE, or an IN_MOVED_TO without a partner): renamed and moved like any entry
//               by the events queued after it, waiting in arrivals_.
//                 every event read so far applied (resolve_arrivals) and not_before passed, or
//                 kEventWindow later events -> World::resolve_arrival(): watched and scanned
//                 (its entries reported, D1), or discarded (gone, excluded, last try failed), or
//                 retried (its parent is not where T says yet: up to kAttempts, grace apart).
//                 its parent left T, or IN_Q_OVERFLOW -> discarded (a scan finds it).
//   released    Its IN_IGNORED was processed: out of T's wd and name indexes at once
//               (watch_count() drops), the node pinned so that the event's path can still be
//               rendered. At finish() (the next call): World::releasing(), then unpinned (freed
//               once no descendant needs it for its path).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "backend.hpp"
#include "libwatch/watcher.hpp"
#include "watch_table.hpp"

namespace libwatch {

class MoveTracker {
 public:
  class World {
   public:
    // The watch belongs to a root that follows its tree (AddOptions::track).
    virtual bool follows(WatchId id) = 0;
    // The directory of watch id is where T has it (a scan put it there after its move).
    virtual bool still_at_path(WatchId id) = 0;
    // id and everything below it left the tree: unwatch and forget them.
    virtual void drop_subtree(WatchId id) = 0;
    enum class Resolve { done, retry };
    // Watch and scan the directory of a placeholder (done: the placeholder is gone from T, a
    // watch in its place or not); retry: its parent is not where T says, yet.
    virtual Resolve resolve_arrival(WatchId placeholder, bool last_try) = 0;
    // A released watch is about to leave T (its path can still be rendered).
    virtual void releasing(WatchId id) = 0;

   protected:
    ~World() = default;
  };

  // An unpaired IN_MOVED_FROM also expires once this many later events went by: its partner, if
  // any, is queued right after it by the same rename(2).
  static constexpr std::uint64_t kEventWindow = 4096;
  // Lookups of an arrival whose parent is not where the table says, before it is given up.
  static constexpr int kAttempts = 3;

  MoveTracker(WatchTable& table, World& world, Clock::duration grace) : table_(table), world_(world), grace_(grace) {}

  enum class Verdict {
    deliver,  // an event for the caller: Result::id is its watch (kNoWatch for IN_Q_OVERFLOW)
    skip,     // news about a watch that is gone with a directory that moved
    unknown,  // a wd that is not in the table
  };
  struct Result {
    Verdict verdict;
    WatchId id;
  };
  // Apply one event (read at now) to the table.
  Result process(const RawEvent& r, Clock::time_point now);

  // The caller is done with the last event delivered: a watch it released leaves the table.
  void finish();
  // An IN_Q_OVERFLOW was processed since the last call: the caller repairs the table.
  bool take_repair() noexcept { return std::exchange(repair_due_, false); }

  // Every event read so far has been applied: look up the arrivals due at now.
  void resolve_arrivals(Clock::time_point now);
  bool arrival_due(Clock::time_point now) const noexcept;
  // Nothing more has arrived: moves whose grace period is over at now are moves out of the tree.
  void expire_moves(Clock::time_point now);
  // When the next move or arrival falls due, if any is waiting.
  std::optional<Clock::time_point> next_deadline() const noexcept;

  // The table freed id (it may be handed out again): forget it.
  void forget(WatchId id);

  std::size_t moves_waiting() const noexcept { return moves_.size(); }
  std::size_t arrivals_waiting() const noexcept { return arrivals_.size(); }

 private:
  struct PendingMove {
    std::uint32_t cookie;
    WatchId id;
    Clock::time_point deadline;
    std::uint64_t seq;
  };
  struct Arrival {
    WatchId id;
    std::uint64_t seq;
    Clock::time_point not_before;
    int attempts;
  };
  void note_arrival(WatchId parent, std::string_view name, Clock::time_point now);
  void moved_to(WatchId dir, const RawEvent& r, Clock::time_point now);
  void settle(const std::vector<PendingMove>& due);
  void settle_moves_above(WatchId id);
  void expire_by_window(Clock::time_point now);
  void resolve(bool by_window, Clock::time_point now);
  void overflowed();

  WatchTable& table_;
  World& world_;
  const Clock::duration grace_;
  std::uint64_t seq_ = 0;  // events processed
  std::vector<PendingMove> moves_;
  std::vector<Arrival> arrivals_;
  WatchId released_ = kNoWatch;
  bool repair_due_ = false;
};

}  // namespace libwatch
