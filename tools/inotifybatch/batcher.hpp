// The coalescing state machine: paths pending for the next batch, the moves among them, and
// when the batch is due. No kernel and no files here (tests/inotifybatch drives it directly).
//
// States and transitions (now = the caller's clock):
//   empty    --add()-->                           pending (first = now, last = now)
//   pending  --add()-->                           pending (last = now)
//   pending  --due(now)-->  cut by the caller:    empty (take() hands out the paths and moves)
//   any      --clear()  (queue overflow: what was pending is unknown) --> empty
// due(now) is true when size() >= max_batch, or now >= first + delay and either the events
// have paused (now - last >= quiet) or the batch was held long enough (now >= first + delay +
// max(delay, 1 s)): a burst goes out as one batch, a stream that never pauses still goes out.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace inotifybatch {

using Clock = std::chrono::steady_clock;

// Moves, as a map from a path's new name to its name on the target before the moves (the
// basis rsync can use instead of resending the data). Chains compose (a->b, b->c is a->c), a
// directory's move carries the moves recorded below it, a move back to its origin vanishes.
class Moves {
 public:
  static constexpr std::size_t kLimit = 2000;  // more moves are only paths: rsync sends them anew
  void record(const std::string& old_path, const std::string& new_path, bool is_dir);
  std::size_t size() const noexcept { return origin_.size(); }
  bool empty() const noexcept { return origin_.empty(); }
  void clear() noexcept { origin_.clear(); }
  // (new, origin) pairs in no particular order.
  const std::unordered_map<std::string, std::string>& pairs() const noexcept { return origin_; }

 private:
  std::unordered_map<std::string, std::string> origin_;
};

struct Timing {
  std::chrono::microseconds delay{1000000};
  std::size_t max_batch = 10000;
  std::chrono::microseconds quiet{20000};  // a pause this long ends a burst
};

struct Taken {
  std::vector<std::string> paths;  // in the order they first became pending
  Moves moves;
};

class Batcher {
 public:
  explicit Batcher(Timing timing) : timing_(timing) {}

  // A path changed (created, written, attributes, deleted, moved from or to).
  void add(const std::string& rel, Clock::time_point now);
  // A rename inside the tree, old and new relative paths (both also add()ed by the caller).
  void move(const std::string& old_rel, const std::string& new_rel, bool is_dir) {
    moves_.record(old_rel, new_rel, is_dir);
  }
  std::size_t size() const noexcept { return paths_.size(); }
  bool empty() const noexcept { return paths_.empty(); }
  // A directory above rel is pending (rsync -r sends it with everything below it).
  bool under_pending(const std::string& rel) const;
  bool due(Clock::time_point now) const noexcept;
  // When due() may next become true without another event (nullopt: nothing pending).
  std::optional<Clock::time_point> wake_at(Clock::time_point now) const noexcept;
  Taken take();
  void clear();

 private:
  Timing timing_;
  std::vector<std::string> paths_;
  std::unordered_set<std::string> seen_;
  Moves moves_;
  Clock::time_point first_{}, last_{};
};

// Pairs IN_MOVED_FROM with IN_MOVED_TO by cookie (an unpaired one is a plain deletion or
// arrival: the caller has add()ed it already).
class CookieJar {
 public:
  static constexpr std::size_t kLimit = 1000;
  void moved_from(std::uint32_t cookie, std::string rel);
  std::optional<std::string> moved_to(std::uint32_t cookie);
  void clear() noexcept { from_.clear(); }

 private:
  std::unordered_map<std::uint32_t, std::string> from_;
};

}  // namespace inotifybatch
