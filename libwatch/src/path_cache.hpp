// The rendered paths of recently seen watches, so that a burst in one directory does not walk the
// watch tree for every event. Direct-mapped; an entry is valid for one table generation (every
// move, release or drop starts a new one).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "watch_table.hpp"

namespace libwatch {

class PathCache {
 public:
  std::string_view get(const WatchTable& table, WatchId id) {
    if (id == kNoWatch) return {};
    Slot& s = slots_[id % slots_.size()];
    const std::uint64_t gen = table.generation();
    if (s.id != id || s.generation != gen) {
      s.path.clear();
      table.append_path(id, s.path);
      s.id = id;
      s.generation = gen;
    }
    return s.path;
  }

 private:
  // A few directories busy at once fit; more only cost a walk up the tree each.
  static constexpr std::size_t kSlots = 256;
  struct Slot {
    WatchId id = kNoWatch;
    std::uint64_t generation = 0;
    std::string path;
  };
  std::array<Slot, kSlots> slots_;
};

}  // namespace libwatch
