#include "watch_table.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <functional>

namespace libwatch {
namespace {

constexpr std::size_t kInitialIndex = 64;  // power of two

std::size_t mix(std::uint64_t x) noexcept {
  // A 64-bit finaliser (splitmix64): cheap and good enough for linear probing.
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<std::size_t>(x);
}

}  // namespace

WatchTable::WatchTable() : child_index_(kInitialIndex, kNoWatch) {}

// ---- names ----

std::uint32_t WatchTable::store_name(std::string_view name) {
  const std::size_t pos = names_size_ % kNameChunk;
  if (pos + name.size() > kNameChunk) names_size_ += kNameChunk - pos;  // the rest of this chunk stays unused
  const std::size_t chunk = names_size_ / kNameChunk;
  // Not zeroed: a page becomes resident only once names are written into it.
  if (chunk == name_chunks_.size()) name_chunks_.push_back(std::make_unique_for_overwrite<char[]>(kNameChunk));
  auto off = static_cast<std::uint32_t>(names_size_);
  std::memcpy(name_chunks_[chunk].get() + names_size_ % kNameChunk, name.data(), name.size());
  names_size_ += name.size();
  return off;
}

void WatchTable::maybe_compact_names() {
  // Renames append new names and leave the old bytes behind; rebuild once they dominate.
  if (dead_name_bytes_ < 65536 || dead_name_bytes_ * 2 < names_size_) return;
  std::vector<std::unique_ptr<char[]>> old;
  old.swap(name_chunks_);
  names_size_ = 0;
  for (WatchId id = 0; id < node_count_; ++id) {
    Node& n = node(id);
    if (!(n.flags & kUsed)) continue;
    const char* at = old[n.name_off / kNameChunk].get() + n.name_off % kNameChunk;
    n.name_off = store_name({at, n.name_len});
  }
  dead_name_bytes_ = 0;
}

// ---- nodes ----

WatchId WatchTable::alloc_node(int wd, WatchId parent, std::string_view name, std::uint8_t flags) {
  WatchId id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<WatchId>(node_count_);
    if ((node_count_ >> kPageBits) == node_pages_.size())
      node_pages_.push_back(std::make_unique_for_overwrite<Node[]>(kPageSize));
    ++node_count_;
  }
  Node& n = node(id);
  n.wd = wd;
  n.parent = parent;
  n.first_child = n.next_sibling = n.prev_sibling = kNoWatch;
  n.name_off = store_name(name);
  n.name_len = static_cast<std::uint16_t>(name.size());
  n.epoch = epoch_;
  n.flags = static_cast<std::uint8_t>(kUsed | flags | (fresh_ ? kFresh : 0));
  if (keep_order_) set_order(id, 0);
  ++live_;
  return id;
}

void WatchTable::free_node(WatchId id) {
  Node& n = node(id);
  assert(n.first_child == kNoWatch);
  if (n.parent != kNoWatch) unlink_child(id);
  dead_name_bytes_ += n.name_len;
  n.flags = 0;
  n.wd = -1;
  free_.push_back(id);
  ++generation_;  // the id may be handed out again: paths cached for it are stale
  if (free_hook_) free_hook_(free_hook_context_, id);
  maybe_compact_names();
}

void WatchTable::link_child(WatchId parent, WatchId id) {
  Node& p = node(parent);
  Node& n = node(id);
  n.parent = parent;
  n.prev_sibling = kNoWatch;
  n.next_sibling = p.first_child;
  if (p.first_child != kNoWatch) node(p.first_child).prev_sibling = id;
  p.first_child = id;
}

void WatchTable::unlink_child(WatchId id) {
  Node& n = node(id);
  if (n.prev_sibling != kNoWatch)
    node(n.prev_sibling).next_sibling = n.next_sibling;
  else if (n.parent != kNoWatch)
    node(n.parent).first_child = n.next_sibling;
  if (n.next_sibling != kNoWatch) node(n.next_sibling).prev_sibling = n.prev_sibling;
  n.prev_sibling = n.next_sibling = kNoWatch;
}

// A released (detached) node lives on only while children need it for their paths.
void WatchTable::collect_detached(WatchId id) {
  while (id != kNoWatch && (node(id).flags & (kDetached | kPinned)) == kDetached && node(id).first_child == kNoWatch) {
    WatchId parent = node(id).parent;
    free_node(id);
    id = parent;
  }
}

WatchId WatchTable::add_root(int wd, std::string_view display, bool append_slash) {
  if (WatchId known = find(wd); known != kNoWatch) return known;
  std::string shown(display);
  if (append_slash && (shown.empty() || shown.back() != '/')) shown += '/';
  WatchId id = alloc_node(wd, kNoWatch, shown, kRoot);
  wd_insert(wd, id);
  return id;
}

WatchId WatchTable::add_placeholder(WatchId parent, std::string_view name) {
  WatchId id = alloc_node(-1, parent, name, kPlaceholder);
  --live_;  // alloc_node counted it; a placeholder is not a watch
  link_child(parent, id);
  child_insert(id);
  return id;
}

bool WatchTable::is_placeholder(WatchId id) const noexcept { return contains(id) && (node(id).flags & kPlaceholder); }

void WatchTable::discard_placeholder(WatchId id) {
  if (!is_placeholder(id)) return;
  child_erase(id);
  WatchId parent = node(id).parent;
  free_node(id);
  ++generation_;
  collect_detached(parent);
}

WatchId WatchTable::add_child(int wd, WatchId parent, std::string_view name) {
  if (WatchId known = find(wd); known != kNoWatch) return known;
  WatchId id = alloc_node(wd, parent, name, 0);
  link_child(parent, id);
  wd_insert(wd, id);
  child_insert(id);
  return id;
}

bool WatchTable::contains(WatchId id) const noexcept { return id < node_count_ && (node(id).flags & kUsed); }

int WatchTable::wd(WatchId id) const noexcept { return contains(id) ? node(id).wd : -1; }
WatchId WatchTable::parent(WatchId id) const noexcept { return contains(id) ? node(id).parent : kNoWatch; }
std::string_view WatchTable::name(WatchId id) const noexcept {
  if (!contains(id)) return {};
  return {name_at(node(id).name_off), node(id).name_len};
}
bool WatchTable::is_root(WatchId id) const noexcept { return contains(id) && (node(id).flags & kRoot); }
std::uint32_t WatchTable::order(WatchId id) const noexcept {
  const std::size_t page = id >> kPageBits;
  if (!contains(id) || page >= order_pages_.size()) return 0;
  return order_pages_[page][id & (kPageSize - 1)];
}
void WatchTable::set_order(WatchId id, std::uint32_t order) {
  if (!keep_order_ || !contains(id)) return;
  const std::size_t page = id >> kPageBits;
  while (order_pages_.size() <= page) order_pages_.push_back(std::make_unique<std::uint32_t[]>(kPageSize));
  order_pages_[page][id & (kPageSize - 1)] = order;
}
void WatchTable::mark(WatchId id) noexcept {
  if (contains(id)) node(id).epoch = epoch_;
}
bool WatchTable::marked(WatchId id) const noexcept { return contains(id) && node(id).epoch == epoch_; }

bool WatchTable::under_unnamed(WatchId id) const noexcept {
  for (WatchId a = id; a != kNoWatch && contains(a); a = node(a).parent)
    if (node(a).flags & kUnnamed) return true;
  return false;
}

void WatchTable::unname(WatchId id) {
  if (!contains(id) || (node(id).flags & (kRoot | kDetached))) return;
  child_erase(id);
}

bool WatchTable::move(WatchId id, WatchId new_parent, std::string_view new_name) {
  if (!contains(id) || (node(id).flags & (kRoot | kDetached)) || !contains(new_parent)) return false;
  if (node(id).parent == new_parent && name(id) == new_name) {
    if (node(id).flags & kUnnamed) child_insert(id);  // named again, where it was
    return true;
  }
  for (WatchId a = new_parent; a != kNoWatch; a = node(a).parent)
    if (a == id) return false;  // would detach the subtree from every root
  child_erase(id);
  WatchId old_parent = node(id).parent;
  unlink_child(id);
  Node& n = node(id);
  if (new_name != std::string_view(name_at(n.name_off), n.name_len)) {
    dead_name_bytes_ += n.name_len;
    n.name_off = store_name(new_name);
    n.name_len = static_cast<std::uint16_t>(new_name.size());
  }
  link_child(new_parent, id);
  child_insert(id);
  ++generation_;
  collect_detached(old_parent);
  maybe_compact_names();
  return true;
}

void WatchTable::release(WatchId id, bool pin) {
  if (!live_at_(id)) return;
  wd_erase(node(id).wd);
  if (!(node(id).flags & kRoot)) child_erase(id);
  --live_;
  node(id).flags |= kDetached | (pin ? kPinned : 0);
  ++generation_;
  collect_detached(id);
}

void WatchTable::unpin(WatchId id) {
  if (!contains(id) || !(node(id).flags & kPinned)) return;
  node(id).flags &= static_cast<std::uint8_t>(~kPinned);
  collect_detached(id);
}

void WatchTable::drop_one_(WatchId id) {
  if (!contains(id)) return;
  Node& n = node(id);
  if (!(n.flags & kDetached)) {
    if (!(n.flags & kRoot)) child_erase(id);
    if (!(n.flags & kPlaceholder)) {
      wd_erase(n.wd);
      --live_;
    }
  }
  // Children were dropped first (deepest first), so the node is a leaf now.
  WatchId parent = n.parent;
  free_node(id);
  ++generation_;
  collect_detached(parent);
}

// ---- paths ----

void WatchTable::append_path(WatchId id, std::string& out) const {
  if (!contains(id)) return;
  scratch_.clear();
  for (WatchId a = id; a != kNoWatch; a = node(a).parent) scratch_.push_back(a);
  for (auto it = scratch_.rbegin(); it != scratch_.rend(); ++it) {
    const Node& n = node(*it);
    out.append(name_at(n.name_off), n.name_len);
    if (!(n.flags & kRoot)) out += '/';
  }
}

std::string WatchTable::path(WatchId id) const {
  std::string s;
  append_path(id, s);
  return s;
}

std::size_t WatchTable::memory_bytes() const noexcept {
  std::size_t wd_bytes = wd_pages_.capacity() * sizeof(WdPage);
  for (const auto& p : wd_pages_)
    if (p.ids) wd_bytes += kPageSize * sizeof(WatchId);
  return node_pages_.size() * kPageSize * sizeof(Node) + node_pages_.capacity() * sizeof(void*) +
         order_pages_.size() * kPageSize * sizeof(std::uint32_t) + order_pages_.capacity() * sizeof(void*) +
         free_.capacity() * sizeof(WatchId) + name_chunks_.size() * kNameChunk + wd_bytes + child_index_.bytes();
}

// ---- wd index ----

WatchId WatchTable::find(int wd) const noexcept {
  if (wd < 0) return kNoWatch;
  auto page = static_cast<std::size_t>(wd) >> kPageBits;
  if (page >= wd_pages_.size() || !wd_pages_[page].ids) return kNoWatch;
  return wd_pages_[page].ids[static_cast<std::size_t>(wd) & (kPageSize - 1)];
}

void WatchTable::wd_insert(int wd, WatchId id) {
  auto page = static_cast<std::size_t>(wd) >> kPageBits;
  if (page >= wd_pages_.size()) wd_pages_.resize(page + 1);
  WdPage& p = wd_pages_[page];
  if (!p.ids) {
    p.ids = std::make_unique<WatchId[]>(kPageSize);
    std::fill(p.ids.get(), p.ids.get() + kPageSize, kNoWatch);
  }
  WatchId& slot = p.ids[static_cast<std::size_t>(wd) & (kPageSize - 1)];
  if (slot == kNoWatch) ++p.used;
  slot = id;
}

void WatchTable::wd_erase(int wd) {
  if (wd < 0) return;
  auto page = static_cast<std::size_t>(wd) >> kPageBits;
  if (page >= wd_pages_.size() || !wd_pages_[page].ids) return;
  WdPage& p = wd_pages_[page];
  WatchId& slot = p.ids[static_cast<std::size_t>(wd) & (kPageSize - 1)];
  if (slot == kNoWatch) return;
  slot = kNoWatch;
  if (--p.used == 0) p.ids.reset();  // churn moves to higher wds; give the page back
}

// ---- child-name index ----

std::size_t WatchTable::child_hash(WatchId parent, std::string_view name) const noexcept {
  return mix(std::hash<std::string_view>{}(name) ^ (static_cast<std::uint64_t>(parent) << 32));
}

WatchId WatchTable::find_child(WatchId parent, std::string_view name) const noexcept {
  std::size_t mask = child_index_.size() - 1;
  for (std::size_t i = child_hash(parent, name) & mask;; i = (i + 1) & mask) {
    WatchId id = child_index_[i];
    if (id == kNoWatch) return kNoWatch;
    const Node& n = node(id);
    if (n.parent == parent && n.name_len == name.size() &&
        std::memcmp(name_at(n.name_off), name.data(), name.size()) == 0)
      return id;
  }
}

void WatchTable::child_insert(WatchId id) {
  node(id).flags &= static_cast<std::uint8_t>(~kUnnamed);
  if ((child_used_ + 1) * 5 > child_index_.size() * 4) grow_child();
  std::size_t mask = child_index_.size() - 1;
  std::size_t i = child_hash(node(id).parent, name(id)) & mask;
  while (child_index_[i] != kNoWatch) i = (i + 1) & mask;
  child_index_[i] = id;
  ++child_used_;
}

void WatchTable::child_erase(WatchId id) {
  if (node(id).flags & kUnnamed) return;  // not in the index
  node(id).flags |= kUnnamed;
  std::size_t mask = child_index_.size() - 1;
  std::size_t i = child_hash(node(id).parent, name(id)) & mask;
  while (child_index_[i] != kNoWatch && child_index_[i] != id) i = (i + 1) & mask;
  if (child_index_[i] == kNoWatch) return;
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask; child_index_[j] != kNoWatch; j = (j + 1) & mask) {
    WatchId other = child_index_[j];
    std::size_t home = child_hash(node(other).parent, name(other)) & mask;
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      child_index_[hole] = other;
      hole = j;
    }
  }
  child_index_[hole] = kNoWatch;
  --child_used_;
}

void WatchTable::grow_child() {
  SlotArray old(child_index_.size() * 2, kNoWatch);
  old.swap(child_index_);
  child_used_ = 0;
  for (WatchId id : old)
    if (id != kNoWatch) child_insert(id);
}

}  // namespace libwatch
