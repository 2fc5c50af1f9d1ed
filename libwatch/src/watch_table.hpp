// The watch table: a tree of watches, not a list of path strings.
//
// Each watch descriptor maps to a node {parent, name}. A root keeps its operand exactly as
// typed (with a '/' appended when it is a directory that does not already end in one); the
// path printed for an event is rebuilt by walking up the parents. Renaming a directory is one
// node update whatever the size of the subtree under it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libwatch/event.hpp"
#include "slot_array.hpp"

namespace libwatch {

class WatchTable {
 public:
  WatchTable();
  WatchTable(const WatchTable&) = delete;
  WatchTable& operator=(const WatchTable&) = delete;

  // A root watch. display is the operand as typed; append_slash adds one '/' unless display
  // already ends with one. If wd is already in the table, the existing watch is returned
  // unchanged (several spellings of one inode share a wd; the first one registered wins).
  WatchId add_root(int wd, std::string_view display, bool append_slash);
  // A subdirectory of a watched directory. Same rule when wd is already known.
  WatchId add_child(int wd, WatchId parent, std::string_view name);

  // A directory known from an event but not watched yet (no wd): it is renamed and moved like
  // any entry while the events before it are applied, then resolved against the disk (given a
  // wd through a walk) or discarded. Not counted by size(), not visited by for_each().
  WatchId add_placeholder(WatchId parent, std::string_view name);
  bool is_placeholder(WatchId id) const noexcept;
  void discard_placeholder(WatchId id);

  WatchId find(int wd) const noexcept;                                       // kNoWatch if unknown
  WatchId find_child(WatchId parent, std::string_view name) const noexcept;  // kNoWatch if none
  bool contains(WatchId id) const noexcept;  // a live (or detached but still referenced) entry

  int wd(WatchId id) const noexcept;
  WatchId parent(WatchId id) const noexcept;  // kNoWatch for a root
  std::string_view name(WatchId id) const noexcept;
  bool is_root(WatchId id) const noexcept;
  // Creation order: a sequence number assigned by set_order(), used to sort ties stably. Kept
  // (4 bytes a watch, in pages of their own) only once keep_order() is called: order() is 0 before.
  void keep_order() noexcept { keep_order_ = true; }
  bool keeps_order() const noexcept { return keep_order_; }
  std::uint32_t order(WatchId id) const noexcept;
  void set_order(WatchId id, std::uint32_t order);

  // Entries added while tracking fresh ones carry a mark until clear_fresh(), so that a failed
  // walk can be rolled back without a list of what it added (4 bytes a watch at the peak).
  void track_fresh(bool on) noexcept { fresh_ = on; }
  // Calls f(id) for every marked entry still live, newest id first, and clears every mark.
  template <class F>
  void take_fresh(F&& f);

  // The name no longer leads to this entry (moved away, replaced, or named again by a newer entry);
  // find_child() stops finding it, but its own path is unchanged until move() places it again.
  void unname(WatchId id);
  // True when the entry or one of its ancestors has been unnamed (and not placed again).
  bool under_unnamed(WatchId id) const noexcept;

  // Relabel: the directory is now new_name inside new_parent. Its whole subtree follows.
  // Moving a node under itself or one of its descendants is refused (returns false).
  bool move(WatchId id, WatchId new_parent, std::string_view new_name);

  // The kernel dropped this watch (IN_IGNORED). The entry leaves the wd and name indexes at once;
  // its node stays only while descendants still refer to it for their paths, or until unpin()
  // when pinned (so that the path of the event that released it can still be rendered).
  void release(WatchId id, bool pin = false);
  void unpin(WatchId id);
  // Drop the whole subtree under and including id (moved out of the tree). Calls on_drop(id, wd)
  // for each entry before it goes, deepest first, so the caller can inotify_rm_watch() it.
  template <class F>
  void drop_subtree(WatchId id, F&& on_drop);

  // The watched path as printed for %w: "d/", "d/sub/", "./d/", "f".
  void append_path(WatchId id, std::string& out) const;
  std::string path(WatchId id) const;
  // Every id whose wd is live, in no particular order.
  template <class F>
  void for_each(F&& f) const;
  // The children of a directory.
  template <class F>
  void for_each_child(WatchId id, F&& f) const;

  std::size_t size() const noexcept { return live_; }            // live watches (wd in the table)
  std::size_t id_limit() const noexcept { return node_count_; }  // ids are < id_limit()
  std::size_t memory_bytes() const noexcept;

  // Generation counter: bumped by every move() and release(), so a caller may cache rendered paths.
  std::uint64_t generation() const noexcept { return generation_; }

  // Called whenever an entry is freed (its id may be handed out again afterwards), so that a
  // caller holding ids elsewhere can forget them. It must not change the table.
  using FreeHook = void (*)(void* context, WatchId id);
  void set_free_hook(FreeHook hook, void* context) noexcept {
    free_hook_ = hook;
    free_hook_context_ = context;
  }

  // Rescan support: mark(id) stamps the current epoch; begin_epoch() starts a new one.
  void begin_epoch() noexcept { ++epoch_; }
  void mark(WatchId id) noexcept;
  bool marked(WatchId id) const noexcept;

 private:
  struct Node {
    std::int32_t wd;
    WatchId parent;
    WatchId first_child;
    WatchId next_sibling;
    WatchId prev_sibling;
    std::uint32_t name_off;
    std::uint16_t name_len;
    std::uint8_t epoch;
    std::uint8_t flags;
  };
  static_assert(sizeof(Node) == 28);
  enum : std::uint8_t {
    kUsed = 1,
    kRoot = 2,
    kDetached = 4,
    kPlaceholder = 8,
    kUnnamed = 16,
    kPinned = 32,
    kFresh = 64,
  };

  // Nodes live in fixed pages: no reallocation (and no doubled peak) as the table grows.
  static constexpr unsigned kPageBits = 12;
  static constexpr std::size_t kPageSize = std::size_t{1} << kPageBits;
  Node& node(WatchId id) noexcept { return node_pages_[id >> kPageBits][id & (kPageSize - 1)]; }
  const Node& node(WatchId id) const noexcept { return node_pages_[id >> kPageBits][id & (kPageSize - 1)]; }

  WatchId alloc_node(int wd, WatchId parent, std::string_view name, std::uint8_t flags);
  void free_node(WatchId id);
  void link_child(WatchId parent, WatchId id);
  void unlink_child(WatchId id);
  std::uint32_t store_name(std::string_view name);
  void maybe_compact_names();
  void collect_detached(WatchId id);
  // wd -> id: the kernel hands out wds in increasing order (idr_alloc_cyclic), so a paged direct
  // map is both smaller and faster than a hash; pages whose watches are all gone are freed.
  void wd_insert(int wd, WatchId id);
  void wd_erase(int wd);
  // (parent, name) -> id: open addressing, linear probing, backward-shift deletion.
  void child_insert(WatchId id);
  void child_erase(WatchId id);
  std::size_t child_hash(WatchId parent, std::string_view name) const noexcept;
  void grow_child();

  std::vector<std::unique_ptr<Node[]>> node_pages_;
  std::vector<std::unique_ptr<std::uint32_t[]>> order_pages_;  // keep_order(): the same pages as nodes
  std::size_t node_count_ = 0;
  bool keep_order_ = false;
  bool fresh_ = false;
  std::vector<WatchId> free_;
  // Names in chunks that never move: the arena grows without copying (no doubled peak) and a
  // name never straddles two chunks, so an offset is chunk * kNameChunk + position.
  static constexpr std::size_t kNameChunk = std::size_t{1} << 16;  // every name_len fits
  const char* name_at(std::uint32_t off) const noexcept {
    return name_chunks_[off / kNameChunk].get() + off % kNameChunk;
  }
  std::vector<std::unique_ptr<char[]>> name_chunks_;
  std::size_t names_size_ = 0;  // the offset of the next name
  std::size_t dead_name_bytes_ = 0;
  struct WdPage {
    std::unique_ptr<WatchId[]> ids;  // kPageSize entries, kNoWatch when empty
    std::uint32_t used = 0;
  };
  std::vector<WdPage> wd_pages_;
  SlotArray child_index_;  // empty slot: kNoWatch
  std::size_t child_used_ = 0;
  std::size_t live_ = 0;
  std::uint64_t generation_ = 0;
  std::uint8_t epoch_ = 0;
  mutable std::vector<WatchId> scratch_;
  FreeHook free_hook_ = nullptr;
  void* free_hook_context_ = nullptr;

 public:
  // Implementation details used by the templates above.
  WatchId first_child_(WatchId id) const noexcept { return node(id).first_child; }
  WatchId next_sibling_(WatchId id) const noexcept { return node(id).next_sibling; }
  bool live_at_(WatchId id) const noexcept {
    return id < node_count_ && (node(id).flags & kUsed) && !(node(id).flags & (kDetached | kPlaceholder));
  }
  void drop_one_(WatchId id);
};

template <class F>
void WatchTable::drop_subtree(WatchId id, F&& on_drop) {
  if (!contains(id)) return;
  // Post-order without recursion: descend to the deepest first child, drop, continue.
  std::vector<WatchId> stack{id};
  std::vector<WatchId> order;
  while (!stack.empty()) {
    WatchId n = stack.back();
    stack.pop_back();
    order.push_back(n);
    for (WatchId c = first_child_(n); c != kNoWatch; c = next_sibling_(c)) stack.push_back(c);
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (live_at_(*it)) on_drop(*it, wd(*it));
    drop_one_(*it);
  }
}

template <class F>
void WatchTable::take_fresh(F&& f) {
  for (WatchId id = static_cast<WatchId>(node_count_); id-- > 0;) {
    Node& n = node(id);
    if (!(n.flags & kFresh)) continue;
    n.flags &= static_cast<std::uint8_t>(~kFresh);
    if (live_at_(id)) f(id);
  }
}

template <class F>
void WatchTable::for_each(F&& f) const {
  for (WatchId id = 0; id < node_count_; ++id)
    if (live_at_(id)) f(id);
}

template <class F>
void WatchTable::for_each_child(WatchId id, F&& f) const {
  for (WatchId c = first_child_(id); c != kNoWatch; c = next_sibling_(c)) f(c);
}

}  // namespace libwatch
