// The watch table as a data structure: arbitrary sequences of the operations the Watcher performs
// for create (add_child), move (move), IN_IGNORED (release), move-out (drop_subtree), overflow
// repair (add_root of a known wd, epochs and marks), checked after every step against a plain
// model of the tree: ids, wds, parents, names, paths, the wd and (parent, name) indexes, the live
// count, for_each and drop order.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include "watch_table.hpp"

#include "fuzz_input.hpp"

namespace {

using libwatch::kNoWatch;
using libwatch::WatchId;
using libwatch::WatchTable;

struct MNode {
  int wd;
  WatchId parent;
  std::string name;
  bool root;
  bool detached = false;
  std::set<WatchId> children;  // live and detached
  std::uint8_t epoch = 0;      // stamped at creation and by mark()
};

struct Model {
  std::map<WatchId, MNode> nodes;
  std::map<int, WatchId> by_wd;  // live nodes only
  std::uint8_t epoch = 0;        // wraps, as the table's does

  std::string path(WatchId id) const {
    std::vector<WatchId> chain;
    for (WatchId a = id; a != kNoWatch; a = nodes.at(a).parent) chain.push_back(a);
    std::string out;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const MNode& n = nodes.at(*it);
      out += n.name;
      if (!n.root) out += '/';
    }
    return out;
  }
  std::vector<WatchId> live() const {
    std::vector<WatchId> v;
    for (const auto& [id, n] : nodes)
      if (!n.detached) v.push_back(id);
    return v;
  }
  // A detached node goes away once nothing below it needs it for its path.
  void collect(WatchId id) {
    while (id != kNoWatch) {
      auto it = nodes.find(id);
      if (it == nodes.end() || !it->second.detached || !it->second.children.empty()) return;
      WatchId parent = it->second.parent;
      if (parent != kNoWatch) nodes.at(parent).children.erase(id);
      nodes.erase(it);
      id = parent;
    }
  }
};

std::string pick_name(fuzz::Input& in) {
  // Mostly short names from a small alphabet (so that collisions happen), sometimes long ones.
  std::uint8_t b = in.byte();
  if (b >= 0xf0) return std::string(1 + in.byte(), static_cast<char>('a' + b % 3));
  static const char* kNames[] = {"a", "b", "c", "d", "sub", "x y", "-rf", "\n", "é"};
  return kNames[b % 9];
}

void check(const WatchTable& t, const Model& m) {
  if (t.size() != m.live().size()) fuzz::fail(fmt::format("size {} != model {}", t.size(), m.live().size()));
  for (const auto& [id, n] : m.nodes) {
    if (!t.contains(id)) fuzz::fail(fmt::format("id {} lost", id));
    if (t.parent(id) != n.parent) fuzz::fail(fmt::format("id {}: parent {} != {}", id, t.parent(id), n.parent));
    if (t.is_root(id) != n.root) fuzz::fail(fmt::format("id {}: root flag", id));
    if (t.name(id) != n.name) fuzz::fail(fmt::format("id {}: name '{}' != '{}'", id, t.name(id), n.name));
    if (t.marked(id) != (n.epoch == m.epoch)) fuzz::fail(fmt::format("id {}: marked() wrong", id));
    if (t.path(id) != m.path(id)) fuzz::fail(fmt::format("id {}: path '{}' != '{}'", id, t.path(id), m.path(id)));
    std::set<WatchId> kids;
    t.for_each_child(id, [&](WatchId c) { kids.insert(c); });
    if (kids != n.children) fuzz::fail(fmt::format("id {}: children differ", id));
    if (!n.detached) {
      if (t.wd(id) != n.wd) fuzz::fail(fmt::format("id {}: wd {} != {}", id, t.wd(id), n.wd));
      if (t.find(n.wd) != id) fuzz::fail(fmt::format("find({}) = {} != {}", n.wd, t.find(n.wd), id));
    }
    if (!n.root && !n.detached) {
      // find_child: this node, unless a live sibling shares its name (then either of them).
      WatchId f = t.find_child(n.parent, n.name);
      bool ok = f == id;
      if (!ok && f != kNoWatch && m.nodes.count(f)) {
        const MNode& o = m.nodes.at(f);
        ok = !o.root && !o.detached && o.parent == n.parent && o.name == n.name;
      }
      if (!ok) fuzz::fail(fmt::format("find_child({}, '{}') = {} != {}", n.parent, n.name, f, id));
    }
  }
  // Nothing else: every id the table knows is in the model; the wd index has no stale entries.
  for (WatchId id = 0; id < t.id_limit(); ++id)
    if (t.contains(id) && !m.nodes.count(id)) fuzz::fail(fmt::format("stale id {} in the table", id));
  std::set<WatchId> each;
  t.for_each([&](WatchId id) { each.insert(id); });
  auto live = m.live();
  if (each != std::set<WatchId>(live.begin(), live.end())) fuzz::fail("for_each differs from the live set");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  WatchTable t;
  Model m;
  int next_wd = 1;
  auto pick = [&](bool live_only) -> WatchId {
    std::vector<WatchId> v;
    for (const auto& [id, n] : m.nodes)
      if (!live_only || !n.detached) v.push_back(id);
    if (v.empty()) return kNoWatch;
    return v[in.byte() % v.size()];
  };
  auto new_wd = [&]() -> int {
    std::uint8_t b = in.byte();
    if (b < 0xe0) return next_wd++;    // the kernel's usual: increasing
    if (b < 0xf0 && !m.by_wd.empty())  // one already in the table
      return std::next(m.by_wd.begin(), in.byte() % m.by_wd.size())->first;
    next_wd += 4096 * (1 + b % 4);  // jump to another index page
    return next_wd++;
  };
  for (int step = 0; step < 400 && !in.empty(); ++step) {
    std::uint8_t op = in.byte() % 8;
    switch (op) {
      case 0: {  // a root (an operand, or a rescan re-adding one)
        int wd = new_wd();
        std::string display = pick_name(in);
        bool slash = in.byte() & 1;
        auto known = m.by_wd.find(wd);
        WatchId id = t.add_root(wd, display, slash);
        if (known != m.by_wd.end()) {
          if (id != known->second) fuzz::fail("add_root of a known wd did not return its watch");
          break;
        }
        if (m.nodes.count(id)) fuzz::fail("add_root reused a live id");
        if (slash && (display.empty() || display.back() != '/')) display += '/';
        m.nodes[id] = MNode{wd, kNoWatch, display, true, false, {}, m.epoch};
        m.by_wd[wd] = id;
        break;
      }
      case 1:
      case 2: {  // a new directory inside a watched one (only directories get children)
        WatchId parent = pick(true);
        if (parent == kNoWatch) break;
        if (m.nodes.at(parent).root && m.path(parent).back() != '/') break;
        int wd = new_wd();
        std::string name = pick_name(in);
        auto known = m.by_wd.find(wd);
        WatchId id = t.add_child(wd, parent, name);
        if (known != m.by_wd.end()) {
          if (id != known->second) fuzz::fail("add_child of a known wd did not return its watch");
          break;
        }
        if (m.nodes.count(id)) fuzz::fail("add_child reused a live id");
        m.nodes[id] = MNode{wd, parent, name, false, false, {}, m.epoch};
        m.nodes.at(parent).children.insert(id);
        m.by_wd[wd] = id;
        break;
      }
      case 3: {  // rename / move inside the tree
        WatchId id = pick(false);
        WatchId np = pick(false);
        if (id == kNoWatch || np == kNoWatch) break;
        std::string name = pick_name(in);
        const MNode& n = m.nodes.at(id);
        bool expect = !n.detached && !n.root;
        for (WatchId a = np; expect && a != kNoWatch; a = m.nodes.at(a).parent)
          if (a == id) expect = false;
        bool got = t.move(id, np, name);
        if (got != expect) fuzz::fail(fmt::format("move({}, {}) returned {}", id, np, got));
        if (!got) break;
        WatchId old = n.parent;
        m.nodes.at(old).children.erase(id);
        m.nodes.at(id).parent = np;
        m.nodes.at(id).name = name;
        m.nodes.at(np).children.insert(id);
        m.collect(old);
        break;
      }
      case 4:
      case 5: {  // IN_IGNORED
        WatchId id = pick(false);
        if (id == kNoWatch) break;
        t.release(id);
        MNode& n = m.nodes.at(id);
        if (n.detached) break;
        m.by_wd.erase(n.wd);
        n.detached = true;
        m.collect(id);
        break;
      }
      case 6: {  // moved out of the tree: every watch under it goes, deepest first
        WatchId id = pick(false);
        if (id == kNoWatch) break;
        std::vector<WatchId> dropped;
        t.drop_subtree(id, [&](WatchId w, int wd) {
          if (!m.nodes.count(w) || m.nodes.at(w).detached || m.nodes.at(w).wd != wd)
            fuzz::fail("drop of a non-live watch");
          for (WatchId c : m.nodes.at(w).children)
            if (!m.nodes.at(c).detached && std::find(dropped.begin(), dropped.end(), c) == dropped.end())
              fuzz::fail("a parent dropped before its child");
          dropped.push_back(w);
        });
        // Model: remove the subtree, then whatever detached ancestors it kept alive.
        std::vector<WatchId> stack{id}, all;
        while (!stack.empty()) {
          WatchId x = stack.back();
          stack.pop_back();
          all.push_back(x);
          for (WatchId c : m.nodes.at(x).children) stack.push_back(c);
        }
        std::size_t live_in = 0;
        for (WatchId x : all) live_in += !m.nodes.at(x).detached;
        if (dropped.size() != live_in) fuzz::fail("drop_subtree skipped a live watch");
        WatchId parent = m.nodes.at(id).parent;
        for (WatchId x : all) {
          if (!m.nodes.at(x).detached) m.by_wd.erase(m.nodes.at(x).wd);
          m.nodes.erase(x);
        }
        if (parent != kNoWatch) {
          m.nodes.at(parent).children.erase(id);
          m.collect(parent);
        }
        break;
      }
      case 7: {  // overflow repair: a new epoch, some watches marked again
        t.begin_epoch();
        ++m.epoch;
        for (int k = in.byte() % 8; k > 0; --k) {
          WatchId id = pick(false);
          if (id == kNoWatch) break;
          t.mark(id);
          m.nodes.at(id).epoch = m.epoch;
        }
        break;
      }
    }
    check(t, m);
  }
  return 0;
}
