#include "move_tracker.hpp"

#include <algorithm>
#include <string>

#include "masks.hpp"

namespace libwatch {

MoveTracker::Result MoveTracker::process(const RawEvent& r, Clock::time_point now) {
  ++seq_;
  expire_by_window(now);
  if (r.wd < 0 || is_overflow(r.mask)) {
    overflowed();
    return {.verdict = Verdict::deliver, .id = kNoWatch};
  }
  WatchId id = table_.find(r.wd);
  if (id == kNoWatch) return {.verdict = Verdict::unknown, .id = kNoWatch};
  // (A directory's own MOVE_SELF, DELETE_SELF and IGNORED are news about it from where it was:
  // shown under that path, as the reference does; the grace period decides.)
  if (!moves_.empty() && !(r.mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_IGNORED | IN_UNMOUNT)) &&
      table_.under_unnamed(id)) {
    settle_moves_above(id);
    id = table_.find(r.wd);
    if (id == kNoWatch) return {.verdict = Verdict::skip, .id = kNoWatch};  // it left with that directory
  }
  if (is_ignored(r.mask)) {
    finish();
    table_.release(id, true);
    released_ = id;
    return {.verdict = Verdict::deliver, .id = id};
  }
  if (!is_dir(r.mask) || !(r.mask & kTrackBits) || !world_.follows(id)) return {.verdict = Verdict::deliver, .id = id};
  if (is_dir_move_from(r.mask)) {
    if (WatchId child = table_.find_child(id, r.name); child != kNoWatch) {
      // In transit: the name no longer leads to it; its IN_MOVED_TO, if any, places it again.
      table_.unname(child);
      moves_.push_back(PendingMove{.cookie = r.cookie, .id = child, .deadline = now + grace_, .seq = seq_});
    }
  } else if (is_dir_move_to(r.mask)) {
    moved_to(id, r, now);
  } else if (is_dir_create(r.mask)) {
    note_arrival(id, r.name, now);
  }
  return {.verdict = Verdict::deliver, .id = id};
}

void MoveTracker::moved_to(WatchId dir, const RawEvent& r, Clock::time_point now) {
  auto it = std::find_if(moves_.begin(), moves_.end(), [&](const PendingMove& pm) { return pm.cookie == r.cookie; });
  if (it != moves_.end()) {
    const WatchId child = it->id;
    moves_.erase(it);
    // A directory renamed over an empty one replaces it.
    if (WatchId victim = table_.find_child(dir, r.name); victim != kNoWatch && victim != child) {
      if (table_.is_placeholder(victim))
        table_.discard_placeholder(victim);
      else
        table_.unname(victim);
    }
    if (table_.contains(child) && table_.move(child, dir, r.name)) return;
  }
  note_arrival(dir, r.name, now);  // moved in from outside the tree: watch and scan it
}

void MoveTracker::note_arrival(WatchId parent, std::string_view name, Clock::time_point now) {
  WatchId known = table_.find_child(parent, name);
  if (known != kNoWatch && table_.is_placeholder(known)) return;  // already waiting
  // Whatever the table still has under this name is gone in the events' history (deleted or
  // replaced: its IN_IGNORED may still be on its way), or it is this very directory, watched by a
  // repair walk before its stale IN_CREATE was read. Displaced: settled like an unpaired move
  // (cookie 0 pairs with nothing), so that it cannot stay unnamed for ever.
  if (known != kNoWatch) {
    table_.unname(known);
    moves_.push_back(PendingMove{.cookie = 0, .id = known, .deadline = now + grace_, .seq = seq_});
  }
  WatchId id = table_.add_placeholder(parent, name);
  arrivals_.push_back(Arrival{.id = id, .seq = seq_, .not_before = Clock::time_point{}, .attempts = 0});
}

void MoveTracker::finish() {
  if (released_ == kNoWatch) return;
  const WatchId id = std::exchange(released_, kNoWatch);
  if (!table_.contains(id)) return;
  world_.releasing(id);
  table_.unpin(id);
}

void MoveTracker::overflowed() {
  // Pending moves can no longer be paired, arrivals no longer be placed: the repair walk puts
  // the table right (and finds the new directories).
  moves_.clear();
  std::vector<Arrival> gone;
  gone.swap(arrivals_);
  for (const Arrival& a : gone) table_.discard_placeholder(a.id);
  repair_due_ = true;
}

void MoveTracker::expire_by_window(Clock::time_point now) {
  if (!moves_.empty() && seq_ - moves_.front().seq > kEventWindow) {
    std::vector<PendingMove> due;
    std::erase_if(moves_, [&](const PendingMove& pm) {
      if (seq_ - pm.seq <= kEventWindow) return false;
      due.push_back(pm);
      return true;
    });
    settle(due);
  }
  if (!arrivals_.empty() && seq_ - arrivals_.front().seq > kEventWindow) resolve(true, now);
}

void MoveTracker::expire_moves(Clock::time_point now) {
  std::vector<PendingMove> due;
  std::erase_if(moves_, [&](const PendingMove& pm) {
    if (pm.deadline > now) return false;
    due.push_back(pm);
    return true;
  });
  settle(due);
}

// An event from inside a directory whose IN_MOVED_FROM is still unpaired: the rename that queued
// the IN_MOVED_FROM queued its IN_MOVED_TO right after it (the kernel reports both while the
// directories are locked), so there is none to wait for. The directory left the tree, or went into
// one not watched yet (whose scan will find it): decide now, before its events are shown under a
// path that is no longer its own.
void MoveTracker::settle_moves_above(WatchId id) {
  std::vector<PendingMove> due;
  std::erase_if(moves_, [&](const PendingMove& pm) {
    for (WatchId a = id; a != kNoWatch; a = table_.parent(a))
      if (a == pm.id) {
        due.push_back(pm);
        return true;
      }
    return false;
  });
  settle(due);
}

void MoveTracker::settle(const std::vector<PendingMove>& due) {
  for (const PendingMove& pm : due) {
    const WatchId id = pm.id;  // (an id freed meanwhile is not handed out again before this loop ends)
    if (table_.is_placeholder(id)) {
      table_.discard_placeholder(id);
      continue;
    }
    if (!table_.contains(id) || table_.wd(id) < 0 || table_.find(table_.wd(id)) != id) continue;
    // No IN_MOVED_TO in the tree: the directory left it, unless the disk says it is still where
    // the table has it (a later scan put it there, or it was displaced by a stale event).
    if (!world_.still_at_path(id)) {
      world_.drop_subtree(id);
    } else if (table_.find_child(table_.parent(id), table_.name(id)) != id) {
      // Still unnamed: it takes its name back from what displaced it.
      const WatchId parent = table_.parent(id);
      if (WatchId other = table_.find_child(parent, table_.name(id)); other != kNoWatch) {
        if (table_.is_placeholder(other))
          table_.discard_placeholder(other);
        else
          table_.unname(other);
      }
      const std::string name(table_.name(id));
      table_.move(id, parent, name);
    }
  }
}

void MoveTracker::resolve_arrivals(Clock::time_point now) { resolve(false, now); }

void MoveTracker::resolve(bool by_window, Clock::time_point now) {
  std::vector<Arrival> todo;
  todo.swap(arrivals_);
  for (Arrival a : todo) {
    if (!table_.is_placeholder(a.id)) continue;  // resolved through another path, or gone
    const WatchId parent = table_.parent(a.id);
    if (parent == kNoWatch || table_.find(table_.wd(parent)) != parent) {
      table_.discard_placeholder(a.id);  // its parent is gone
      continue;
    }
    const bool due = by_window ? seq_ - a.seq > kEventWindow : a.not_before <= now;
    if (!due) {
      arrivals_.push_back(a);
      continue;
    }
    if (world_.resolve_arrival(a.id, a.attempts + 1 >= kAttempts) == World::Resolve::done) continue;
    ++a.attempts;
    a.not_before = now + grace_;
    arrivals_.push_back(a);
  }
}

bool MoveTracker::arrival_due(Clock::time_point now) const noexcept {
  return std::any_of(arrivals_.begin(), arrivals_.end(), [&](const Arrival& a) { return a.not_before <= now; });
}

std::optional<Clock::time_point> MoveTracker::next_deadline() const noexcept {
  std::optional<Clock::time_point> t;
  for (const auto& pm : moves_)
    if (!t || pm.deadline < *t) t = pm.deadline;
  for (const auto& a : arrivals_)
    if (!t || a.not_before < *t) t = a.not_before;
  return t;
}

void MoveTracker::forget(WatchId id) {
  std::erase_if(moves_, [id](const PendingMove& pm) { return pm.id == id; });
  std::erase_if(arrivals_, [id](const Arrival& a) { return a.id == id; });
  if (released_ == id) released_ = kNoWatch;
}

}  // namespace libwatch
