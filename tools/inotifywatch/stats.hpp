// Per-watch event counters and the statistics table inotifywatch prints.
//
// Recording an event is a few increments and never an allocation of its own. A watch gets a
// counter block the first time one of its events is counted (most watches of a big tree never
// count anything, so they cost one 4-byte index); the index array and the block pool grow
// geometrically. A block holds only the columns that can be shown (events in the requested
// mask) plus the total: with -e modify, two counters.
#pragma once

#include <sys/inotify.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <libwatch/event.hpp>

namespace inotifywatch {

using libwatch::Mask;
using libwatch::WatchId;
using Count = std::uint32_t;  // the reference counts in unsigned int, printed with %u

// The event columns, in the order the reference prints them (between "total" and "filename";
// move_self comes after moved_to). Each is as wide as its name.
struct Column {
  std::string_view name;
  Mask mask;
};
inline constexpr std::array<Column, 13> kColumns{{
    {"access", IN_ACCESS},
    {"modify", IN_MODIFY},
    {"attrib", IN_ATTRIB},
    {"close_write", IN_CLOSE_WRITE},
    {"close_nowrite", IN_CLOSE_NOWRITE},
    {"open", IN_OPEN},
    {"moved_from", IN_MOVED_FROM},
    {"moved_to", IN_MOVED_TO},
    {"move_self", IN_MOVE_SELF},
    {"create", IN_CREATE},
    {"delete", IN_DELETE},
    {"delete_self", IN_DELETE_SELF},
    {"unmount", IN_UNMOUNT},
}};
inline constexpr std::string_view kTotalName = "total";
inline constexpr int kTotalColumn = -1;

// The index in kColumns of the column for exactly this mask, or -1 (no column: a combination of
// bits such as IN_CLOSE, or IN_IGNORED, IN_ISDIR, ...).
int column_for(Mask key) noexcept;

// Whether the reference would count this event. It counts every event the kernel delivers for a
// known watch: those in the requested mask, plus IN_IGNORED and IN_UNMOUNT, which the kernel
// always delivers (they only add to the total unless unmount was requested). Not counted: what
// the kernel delivers only because libwatch subscribed to more for its bookkeeping (IN_CREATE /
// IN_MOVED_* while following a tree), IN_Q_OVERFLOW (it belongs to no watch) and synthetic
// events (the caller leaves those out, see main.cpp).
constexpr bool counted(Mask event, Mask requested) noexcept {
  return (event & requested & IN_ALL_EVENTS) != 0 || (event & (IN_IGNORED | IN_UNMOUNT)) != 0;
}

struct SortKey {
  int column = kTotalColumn;  // index in kColumns, or kTotalColumn
  bool ascending = false;     // the default: descending by total
};

// One line of the table: a live watch (id, path rendered on demand) or a watch that has left the
// watch table (path kept as it was then). order breaks ties, ascending in both directions.
struct Row {
  const Count* counts;  // Stats::stride() counters, [0] is the total
  std::uint32_t order;
  WatchId id;  // libwatch::kNoWatch for a retired watch
  const std::string* retired_path;
};

// A watch in the watch table right now, with its creation order.
struct LiveWatch {
  WatchId id;
  std::uint32_t order;
};

using PathFn = std::function<void(WatchId, std::string&)>;

class Stats {
 public:
  // requested: the -e mask (IN_ALL_EVENTS when none was given).
  explicit Stats(Mask requested);

  Mask requested() const noexcept { return requested_; }
  // Counters per watch: the total, then one per column in the requested mask.
  std::size_t stride() const noexcept { return stride_; }
  // The counter slot of a column (index in kColumns), or 0 for kTotalColumn; -1 if the column is
  // not in the requested mask.
  int slot(int column) const noexcept { return column == kTotalColumn ? 0 : slot_of_column_[column]; }

  // Make room for ids below limit (amortised: the index at least doubles when it grows).
  void reserve(std::size_t limit);

  // Count one event for watch id (the caller has checked counted()).
  void record(WatchId id, Mask mask) {
    if (id >= block_of_.size()) reserve(std::size_t{id} + 1);
    std::uint32_t b = block_of_[id];
    if (b == 0) b = new_block(id);
    Count* c = blocks_.data() + std::size_t{b} * stride_;
    ++c[0];
    ++events_;
    for (Mask bits = mask & column_bits_; bits != 0; bits &= bits - 1)
      ++c[slot_of_bit_[static_cast<unsigned>(std::countr_zero(bits))]];
  }

  // The watch is leaving the watch table (deleted, moved out): keep its counters and its path for
  // the final table, as the reference (which never forgets a watch) shows it. Its slot is cleared
  // for the id's next owner.
  void retire(WatchId id, std::string path, std::uint32_t order);
  // The watch is leaving and nothing of it is to be kept: clear its slot.
  void forget(WatchId id) noexcept;

  // The counters of a live watch (all zero for one that never counted anything).
  const Count* counts(WatchId id) const noexcept { return counts_of(id); }

  // Every counted event so far.
  std::uint64_t events() const noexcept { return events_; }

  // The rows to print: with zero, every watch (live and retired); otherwise those with a non-zero
  // total. Sorted by key, ties by order ascending.
  std::vector<Row> rows(std::span<const LiveWatch> live, SortKey key, bool zero) const;

  // The columns to print (indexes in kColumns): those in the requested mask whose grand total
  // (over live and retired watches) is non-zero, or all of them with zero.
  std::vector<int> columns(std::span<const LiveWatch> live, bool zero) const;

  // Sum of a counter slot over live and retired watches.
  std::uint64_t grand_total(std::span<const LiveWatch> live, int slot) const;

 private:
  // Block 0 is all zeros and never written: the counters of a watch without a block.
  const Count* counts_of(WatchId id) const noexcept {
    const std::uint32_t b = id < block_of_.size() ? block_of_[id] : 0;
    return blocks_.data() + std::size_t{b} * stride_;
  }
  std::uint32_t new_block(WatchId id);

  Mask requested_;
  Mask column_bits_ = 0;
  std::size_t stride_ = 1;
  std::array<std::int8_t, 32> slot_of_bit_{};
  std::array<int, kColumns.size()> slot_of_column_{};
  std::vector<std::uint32_t> block_of_;  // by WatchId; 0: no block yet
  std::vector<Count> blocks_;            // stride_ counters per block
  std::vector<std::uint32_t> free_blocks_;
  std::uint64_t events_ = 0;

  struct Retired {
    std::string path;
    std::uint32_t order;
  };
  std::vector<Retired> retired_;
  std::vector<Count> retired_counts_;
};

// The table as the reference prints it: "total  " and "<column>  " headers then "filename";
// numbers left-aligned in fields as wide as their header, two spaces apart; then the path.
void render_table(std::string& out, const Stats& stats, std::span<const Row> rows, std::span<const int> columns,
                  const PathFn& path_of);

// The path of a row.
void append_row_path(std::string& out, const Row& row, const PathFn& path_of);

}  // namespace inotifywatch
