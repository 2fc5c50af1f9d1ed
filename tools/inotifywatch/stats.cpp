#include "stats.hpp"

#include <algorithm>
#include <bit>
#include <iterator>

#include <fmt/format.h>

namespace inotifywatch {

int column_for(Mask key) noexcept {
  for (std::size_t i = 0; i < kColumns.size(); ++i)
    if (kColumns[i].mask == key) return static_cast<int>(i);
  return -1;
}

Stats::Stats(Mask requested) : requested_(requested) {
  slot_of_bit_.fill(0);
  slot_of_column_.fill(-1);
  for (std::size_t i = 0; i < kColumns.size(); ++i) {
    if ((kColumns[i].mask & requested) == 0) continue;
    const int s = static_cast<int>(stride_++);
    slot_of_column_[i] = s;
    column_bits_ |= kColumns[i].mask;
    slot_of_bit_[static_cast<std::size_t>(std::countr_zero(kColumns[i].mask))] = static_cast<std::int8_t>(s);
  }
  blocks_.assign(stride_, 0);  // block 0
}

void Stats::reserve(std::size_t limit) {
  if (limit <= block_of_.size()) return;
  block_of_.resize(std::max({limit, block_of_.size() * 2, std::size_t{64}}), 0);
}

std::uint32_t Stats::new_block(WatchId id) {
  std::uint32_t b;
  if (!free_blocks_.empty()) {
    b = free_blocks_.back();
    free_blocks_.pop_back();
  } else {
    b = static_cast<std::uint32_t>(blocks_.size() / stride_);
    blocks_.resize(blocks_.size() + stride_, 0);
    if (free_blocks_.capacity() < b) free_blocks_.reserve(std::max<std::size_t>(b, free_blocks_.capacity() * 2));
  }
  block_of_[id] = b;
  return b;
}

void Stats::retire(WatchId id, std::string path, std::uint32_t order) {
  const Count* c = counts_of(id);
  retired_.push_back(Retired{std::move(path), order});
  retired_counts_.insert(retired_counts_.end(), c, c + stride_);
  forget(id);
}

void Stats::forget(WatchId id) noexcept {
  if (id >= block_of_.size() || block_of_[id] == 0) return;
  const std::uint32_t b = block_of_[id];
  std::fill_n(blocks_.data() + std::size_t{b} * stride_, stride_, Count{0});
  block_of_[id] = 0;
  free_blocks_.push_back(b);  // capacity reserved when the block was made: no allocation here
}

std::vector<Row> Stats::rows(std::span<const LiveWatch> live, SortKey key, bool zero) const {
  std::vector<Row> out;
  out.reserve(zero ? live.size() + retired_.size() : 0);
  for (const LiveWatch& w : live) {
    const Count* c = counts_of(w.id);
    if (zero || c[0] != 0) out.push_back(Row{.counts = c, .order = w.order, .id = w.id, .retired_path = nullptr});
  }
  for (std::size_t i = 0; i < retired_.size(); ++i) {
    const Count* c = retired_counts_.data() + i * stride_;
    if (zero || c[0] != 0)
      out.push_back(
          Row{.counts = c, .order = retired_[i].order, .id = libwatch::kNoWatch, .retired_path = &retired_[i].path});
  }
  // A key without a slot is refused while parsing options; fall back to the total regardless.
  const int s = std::max(slot(key.column), 0);
  const bool asc = key.ascending;
  std::sort(out.begin(), out.end(), [s, asc](const Row& a, const Row& b) {
    const Count x = a.counts[s];
    const Count y = b.counts[s];
    if (x != y) return asc ? x < y : x > y;
    return a.order < b.order;  // ties: creation order (the reference: watch descriptor) ascending
  });
  return out;
}

std::uint64_t Stats::grand_total(std::span<const LiveWatch> live, int s) const {
  std::uint64_t sum = 0;
  for (const LiveWatch& w : live) sum += counts_of(w.id)[s];
  for (std::size_t i = 0; i < retired_.size(); ++i) sum += retired_counts_[i * stride_ + static_cast<std::size_t>(s)];
  return sum;
}

std::vector<int> Stats::columns(std::span<const LiveWatch> live, bool zero) const {
  std::vector<int> out;
  for (std::size_t i = 0; i < kColumns.size(); ++i) {
    const int s = slot_of_column_[i];
    if (s < 0) continue;
    if (zero || grand_total(live, s) != 0) out.push_back(static_cast<int>(i));
  }
  return out;
}

void append_row_path(std::string& out, const Row& row, const PathFn& path_of) {
  if (row.retired_path)
    out += *row.retired_path;
  else
    path_of(row.id, out);
}

void render_table(std::string& out, const Stats& stats, std::span<const Row> rows, std::span<const int> columns,
                  const PathFn& path_of) {
  auto it = std::back_inserter(out);
  out += kTotalName;
  out += "  ";
  for (int c : columns) {
    out += kColumns[static_cast<std::size_t>(c)].name;
    out += "  ";
  }
  out += "filename\n";
  for (const Row& row : rows) {
    fmt::format_to(it, "{:<{}}  ", row.counts[0], kTotalName.size());
    for (int c : columns) {
      const Column& col = kColumns[static_cast<std::size_t>(c)];
      fmt::format_to(it, "{:<{}}  ", row.counts[stats.slot(c)], col.name.size());
    }
    append_row_path(out, row, path_of);
    out += '\n';
  }
}

}  // namespace inotifywatch
