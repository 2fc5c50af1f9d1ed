// The watch table as a pure data structure (no kernel): wds are just keys here.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "watch_table.hpp"

namespace {

using namespace libwatch;

std::set<WatchId> live_ids(const WatchTable& t) {
  std::set<WatchId> s;
  t.for_each([&](WatchId id) { s.insert(id); });
  return s;
}

std::set<WatchId> children(const WatchTable& t, WatchId id) {
  std::set<WatchId> s;
  t.for_each_child(id, [&](WatchId c) { s.insert(c); });
  return s;
}

TEST(WatchTableTest, RootDisplayRules) {
  WatchTable t;
  WatchId d = t.add_root(1, "d", true);
  WatchId ds = t.add_root(2, "d/", true);
  WatchId dss = t.add_root(3, "d//", true);
  WatchId dot = t.add_root(4, "./d", true);
  WatchId f = t.add_root(5, "f", false);
  WatchId abs = t.add_root(6, "/abs/dir", true);
  WatchId nos = t.add_root(7, "link", false);
  EXPECT_EQ(t.path(d), "d/");
  EXPECT_EQ(t.path(ds), "d/");
  EXPECT_EQ(t.path(dss), "d//");
  EXPECT_EQ(t.path(dot), "./d/");
  EXPECT_EQ(t.path(f), "f");
  EXPECT_EQ(t.path(abs), "/abs/dir/");
  EXPECT_EQ(t.path(nos), "link");
  EXPECT_EQ(t.size(), 7u);
  for (WatchId id : {d, ds, dss, dot, f, abs, nos}) {
    EXPECT_TRUE(t.is_root(id));
    EXPECT_EQ(t.parent(id), kNoWatch);
    EXPECT_TRUE(t.contains(id));
  }
  std::string out = "prefix:";
  t.append_path(dss, out);
  EXPECT_EQ(out, "prefix:d//");
}

TEST(WatchTableTest, ChildPathsAreBuiltFromParents) {
  WatchTable t;
  WatchId r = t.add_root(1, "d//", true);
  WatchId a = t.add_child(2, r, "a");
  WatchId b = t.add_child(3, a, "b b");
  EXPECT_EQ(t.path(a), "d//a/");
  EXPECT_EQ(t.path(b), "d//a/b b/");
  EXPECT_FALSE(t.is_root(a));
  EXPECT_EQ(t.parent(a), r);
  EXPECT_EQ(t.parent(b), a);
  EXPECT_EQ(t.name(a), "a");
  EXPECT_EQ(t.name(b), "b b");
  EXPECT_EQ(t.wd(a), 2);
  EXPECT_EQ(t.wd(b), 3);
  std::string out;
  t.append_path(b, out);
  t.append_path(a, out);
  EXPECT_EQ(out, "d//a/b b/d//a/");
}

TEST(WatchTableTest, FindAndFindChild) {
  WatchTable t;
  WatchId r = t.add_root(10, "r", true);
  WatchId a = t.add_child(11, r, "a");
  WatchId b = t.add_child(12, r, "b");
  WatchId aa = t.add_child(13, a, "a");
  EXPECT_EQ(t.find(10), r);
  EXPECT_EQ(t.find(11), a);
  EXPECT_EQ(t.find(12), b);
  EXPECT_EQ(t.find(13), aa);
  EXPECT_EQ(t.find(14), kNoWatch);
  EXPECT_EQ(t.find(-1), kNoWatch);
  EXPECT_EQ(t.find(0), kNoWatch);
  EXPECT_EQ(t.find_child(r, "a"), a);
  EXPECT_EQ(t.find_child(r, "b"), b);
  EXPECT_EQ(t.find_child(a, "a"), aa);
  EXPECT_EQ(t.find_child(a, "b"), kNoWatch);
  EXPECT_EQ(t.find_child(r, "c"), kNoWatch);
  EXPECT_EQ(t.find_child(r, ""), kNoWatch);
  EXPECT_EQ(t.find_child(r, "a/"), kNoWatch);
  EXPECT_EQ(children(t, r), (std::set<WatchId>{a, b}));
  EXPECT_EQ(children(t, a), (std::set<WatchId>{aa}));
  EXPECT_TRUE(children(t, b).empty());
  EXPECT_EQ(live_ids(t), (std::set<WatchId>{r, a, b, aa}));
  for (WatchId id : {r, a, b, aa}) EXPECT_LT(id, t.id_limit());
}

TEST(WatchTableTest, SameWdTwiceKeepsTheFirst) {
  WatchTable t;
  WatchId d = t.add_root(1, "d", true);
  EXPECT_EQ(t.add_root(1, "./d", true), d);
  EXPECT_EQ(t.add_root(1, "dl", false), d);
  EXPECT_EQ(t.path(d), "d/");
  EXPECT_EQ(t.size(), 1u);
  WatchId s = t.add_child(2, d, "s");
  EXPECT_EQ(t.add_child(2, d, "other"), s);
  EXPECT_EQ(t.add_root(2, "s", true), s);
  EXPECT_EQ(t.path(s), "d/s/");
  EXPECT_EQ(t.find_child(d, "other"), kNoWatch);
  EXPECT_EQ(t.size(), 2u);
}

TEST(WatchTableTest, OrderIsStored) {
  WatchTable t;
  t.keep_order();
  WatchId r = t.add_root(1, "r", true);
  WatchId a = t.add_child(2, r, "a");
  t.set_order(r, 7);
  t.set_order(a, 3);
  EXPECT_EQ(t.order(r), 7u);
  EXPECT_EQ(t.order(a), 3u);
}

// r/a/l1/l2/.../l<depth>
struct Chain {
  WatchId root, a;
  std::vector<WatchId> levels;
  std::string tail;  // "l1/l2/.../"
};

Chain make_chain(WatchTable& t, int depth, int first_wd = 1) {
  Chain c;
  int wd = first_wd;
  c.root = t.add_root(wd++, "r", true);
  c.a = t.add_child(wd++, c.root, "a");
  WatchId p = c.a;
  for (int i = 1; i <= depth; ++i) {
    std::string n = "l" + std::to_string(i);
    p = t.add_child(wd++, p, n);
    c.levels.push_back(p);
    c.tail += n + "/";
  }
  return c;
}

TEST(WatchTableTest, MoveRelabelsADeepSubtreeInOneCall) {
  WatchTable t;
  Chain c = make_chain(t, 12);
  WatchId deepest = c.levels.back();
  ASSERT_EQ(t.path(deepest), "r/a/" + c.tail);
  auto gen = t.generation();
  ASSERT_TRUE(t.move(c.a, c.root, "z"));
  EXPECT_GT(t.generation(), gen);
  EXPECT_EQ(t.path(deepest), "r/z/" + c.tail);
  EXPECT_EQ(t.path(c.levels[0]), "r/z/l1/");
  EXPECT_EQ(t.name(c.a), "z");
  EXPECT_EQ(t.parent(c.a), c.root);
  EXPECT_EQ(t.find_child(c.root, "a"), kNoWatch);
  EXPECT_EQ(t.find_child(c.root, "z"), c.a);
  EXPECT_EQ(t.find_child(c.a, "l1"), c.levels[0]);
  EXPECT_EQ(t.size(), 14u);
  // wds are untouched by a relabel.
  EXPECT_EQ(t.find(2), c.a);
  EXPECT_EQ(t.find(14), deepest);
}

TEST(WatchTableTest, MoveToAnotherParent) {
  WatchTable t;
  Chain c = make_chain(t, 6);
  WatchId other = t.add_child(100, c.root, "other");
  WatchId l3 = c.levels[2];
  ASSERT_TRUE(t.move(l3, other, "moved"));
  EXPECT_EQ(t.path(c.levels.back()), "r/other/moved/l4/l5/l6/");
  EXPECT_EQ(t.path(c.levels[1]), "r/a/l1/l2/");
  EXPECT_EQ(t.parent(l3), other);
  EXPECT_EQ(t.find_child(c.levels[1], "l3"), kNoWatch);
  EXPECT_EQ(t.find_child(other, "moved"), l3);
  EXPECT_EQ(children(t, c.levels[1]), std::set<WatchId>{});
  EXPECT_EQ(children(t, other), std::set<WatchId>{l3});
  // And back again, under its old name.
  ASSERT_TRUE(t.move(l3, c.levels[1], "l3"));
  EXPECT_EQ(t.path(c.levels.back()), "r/a/" + c.tail);
  EXPECT_TRUE(children(t, other).empty());
}

TEST(WatchTableTest, MoveUnderItselfIsRefused) {
  WatchTable t;
  Chain c = make_chain(t, 5);
  EXPECT_FALSE(t.move(c.a, c.a, "x"));
  EXPECT_FALSE(t.move(c.a, c.levels[0], "x"));
  EXPECT_FALSE(t.move(c.a, c.levels.back(), "x"));
  EXPECT_FALSE(t.move(c.levels[1], c.levels[3], "x"));
  EXPECT_EQ(t.path(c.levels.back()), "r/a/" + c.tail);
  EXPECT_EQ(t.parent(c.a), c.root);
  EXPECT_EQ(t.find_child(c.root, "a"), c.a);
  EXPECT_EQ(t.size(), 7u);
  // A sibling move is fine.
  EXPECT_TRUE(t.move(c.levels[3], c.levels[0], "x"));
  EXPECT_EQ(t.path(c.levels.back()), "r/a/l1/x/l5/");
}

TEST(WatchTableTest, ReleaseKeepsChildrenRenderableThenFrees) {
  WatchTable t;
  WatchId r = t.add_root(1, "r", true);
  WatchId a = t.add_child(2, r, "a");
  WatchId b = t.add_child(3, a, "b");
  WatchId c = t.add_child(4, b, "c");
  WatchId c2 = t.add_child(5, b, "c2");
  auto gen = t.generation();
  t.release(b);
  EXPECT_GT(t.generation(), gen);
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.find(3), kNoWatch);
  EXPECT_EQ(t.find_child(a, "b"), kNoWatch);
  EXPECT_TRUE(t.contains(b));  // still referenced by c and c2
  EXPECT_EQ(live_ids(t), (std::set<WatchId>{r, a, c, c2}));
  EXPECT_EQ(t.path(c), "r/a/b/c/");
  EXPECT_EQ(t.path(c2), "r/a/b/c2/");
  // A new directory of the same name (the kernel gives it a new wd) does not clash.
  WatchId b_new = t.add_child(6, a, "b");
  EXPECT_EQ(t.find_child(a, "b"), b_new);
  EXPECT_EQ(t.path(b_new), "r/a/b/");
  EXPECT_EQ(t.path(c), "r/a/b/c/");

  t.release(c);
  EXPECT_FALSE(t.contains(c));
  EXPECT_TRUE(t.contains(b));
  EXPECT_EQ(t.path(c2), "r/a/b/c2/");
  t.release(c2);
  EXPECT_FALSE(t.contains(c2));
  EXPECT_FALSE(t.contains(b));  // nothing refers to it any more
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(live_ids(t), (std::set<WatchId>{r, a, b_new}));
  EXPECT_EQ(children(t, a), std::set<WatchId>{b_new});
}

TEST(WatchTableTest, ReleaseOfALeafFreesAtOnce) {
  WatchTable t;
  WatchId r = t.add_root(1, "r", true);
  WatchId a = t.add_child(2, r, "a");
  t.release(a);
  EXPECT_FALSE(t.contains(a));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find(2), kNoWatch);
  EXPECT_TRUE(children(t, r).empty());
  // The wd can come back (the kernel reuses numbers after wrapping).
  WatchId a2 = t.add_child(2, r, "a");
  EXPECT_EQ(t.find(2), a2);
  EXPECT_EQ(t.path(a2), "r/a/");
}

TEST(WatchTableTest, ReleaseOfARoot) {
  WatchTable t;
  WatchId r = t.add_root(1, "r", true);
  WatchId a = t.add_child(2, r, "a");
  t.release(r);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find(1), kNoWatch);
  EXPECT_EQ(t.path(a), "r/a/");
  t.release(a);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.contains(r));
}

TEST(WatchTableTest, DropSubtreeDeepestFirst) {
  WatchTable t;
  WatchId r = t.add_root(1, "r", true);
  WatchId a = t.add_child(2, r, "a");
  WatchId b = t.add_child(3, a, "b");
  WatchId c = t.add_child(4, b, "c");
  WatchId d = t.add_child(5, c, "d");
  WatchId e = t.add_child(6, a, "e");
  WatchId f = t.add_child(7, e, "f");
  WatchId keep = t.add_child(8, r, "keep");
  std::map<WatchId, WatchId> parent_of{{b, a}, {c, b}, {d, c}, {e, a}, {f, e}, {a, kNoWatch}};
  std::vector<WatchId> order;
  std::map<WatchId, std::string> paths;
  std::map<WatchId, int> wds;
  t.drop_subtree(a, [&](WatchId id, int wd) {
    order.push_back(id);
    paths[id] = t.path(id);
    wds[id] = wd;
  });
  ASSERT_EQ(order.size(), 6u);
  EXPECT_EQ(std::set<WatchId>(order.begin(), order.end()), (std::set<WatchId>{a, b, c, d, e, f}));
  // Every node comes after all of its descendants.
  for (std::size_t i = 0; i < order.size(); ++i) {
    for (WatchId p = parent_of[order[i]]; p != kNoWatch; p = parent_of[p]) {
      auto pos = std::find(order.begin(), order.end(), p) - order.begin();
      EXPECT_GT(static_cast<std::size_t>(pos), i) << "ancestor " << p << " dropped before " << order[i];
    }
  }
  EXPECT_EQ(order.back(), a);
  EXPECT_EQ(paths[d], "r/a/b/c/d/");
  EXPECT_EQ(paths[f], "r/a/e/f/");
  EXPECT_EQ(paths[a], "r/a/");
  EXPECT_EQ(wds[a], 2);
  EXPECT_EQ(wds[d], 5);
  EXPECT_EQ(wds[f], 7);
  EXPECT_EQ(t.size(), 2u);
  for (int wd = 2; wd <= 7; ++wd) EXPECT_EQ(t.find(wd), kNoWatch) << wd;
  for (WatchId id : {a, b, c, d, e, f}) EXPECT_FALSE(t.contains(id)) << id;
  EXPECT_EQ(t.find_child(r, "a"), kNoWatch);
  EXPECT_EQ(t.find_child(r, "keep"), keep);
  EXPECT_EQ(children(t, r), std::set<WatchId>{keep});
  EXPECT_EQ(live_ids(t), (std::set<WatchId>{r, keep}));
}

TEST(WatchTableTest, DropSubtreeSkipsReleasedEntries) {
  WatchTable t;
  WatchId r = t.add_root(1, "r", true);
  WatchId a = t.add_child(2, r, "a");
  WatchId b = t.add_child(3, a, "b");
  WatchId c = t.add_child(4, b, "c");
  t.release(b);  // detached, still holding c's path
  std::vector<WatchId> dropped;
  t.drop_subtree(a, [&](WatchId id, int) { dropped.push_back(id); });
  EXPECT_EQ(dropped, (std::vector<WatchId>{c, a}));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_FALSE(t.contains(b));
  EXPECT_FALSE(t.contains(c));
}

TEST(WatchTableTest, GenerationBumpsOnMoveAndRelease) {
  WatchTable t;
  WatchId r = t.add_root(1, "r", true);
  WatchId a = t.add_child(2, r, "a");
  WatchId b = t.add_child(3, r, "b");
  auto g0 = t.generation();
  ASSERT_TRUE(t.move(a, b, "a2"));
  auto g1 = t.generation();
  EXPECT_GT(g1, g0);
  ASSERT_TRUE(t.move(a, r, "a"));
  auto g2 = t.generation();
  EXPECT_GT(g2, g1);
  t.release(a);
  EXPECT_GT(t.generation(), g2);
}

TEST(WatchTableTest, EpochMarks) {
  WatchTable t;
  WatchId r = t.add_root(1, "r", true);
  WatchId a = t.add_child(2, r, "a");
  WatchId b = t.add_child(3, r, "b");
  t.begin_epoch();
  t.mark(r);
  t.mark(a);
  EXPECT_TRUE(t.marked(r));
  EXPECT_TRUE(t.marked(a));
  EXPECT_FALSE(t.marked(b));
  t.begin_epoch();
  EXPECT_FALSE(t.marked(r));
  EXPECT_FALSE(t.marked(a));
  EXPECT_FALSE(t.marked(b));
  t.mark(b);
  EXPECT_TRUE(t.marked(b));
  EXPECT_FALSE(t.marked(a));
}

TEST(WatchTableTest, ManyChildrenOfOneDirectory) {
  // Hash index growth with many siblings; find_child must stay exact.
  WatchTable t;
  WatchId r = t.add_root(1, "r", true);
  std::vector<WatchId> ids;
  for (int i = 0; i < 20000; ++i) ids.push_back(t.add_child(i + 2, r, "c" + std::to_string(i)));
  for (int i = 0; i < 20000; i += 7) {
    EXPECT_EQ(t.find_child(r, "c" + std::to_string(i)), ids[i]);
    EXPECT_EQ(t.find(i + 2), ids[i]);
  }
  // Release every other one; the rest stay findable (backward-shift deletion keeps probes intact).
  for (int i = 0; i < 20000; i += 2) t.release(ids[i]);
  EXPECT_EQ(t.size(), 10001u);
  for (int i = 0; i < 20000; ++i) {
    WatchId want = i % 2 ? ids[i] : kNoWatch;
    ASSERT_EQ(t.find_child(r, "c" + std::to_string(i)), want) << i;
    ASSERT_EQ(t.find(i + 2), want) << i;
  }
}

TEST(WatchTableTest, VeryDeepChainRendersWithoutRecursion) {
  WatchTable t;
  const int depth = 100000;
  WatchId p = t.add_root(1, "r", true);
  for (int i = 0; i < depth; ++i) p = t.add_child(i + 2, p, "x");
  std::string path = t.path(p);
  EXPECT_EQ(path.size(), 2u + 2u * depth);
  EXPECT_EQ(path.substr(0, 6), "r/x/x/");
  WatchId first = t.find(2);
  ASSERT_TRUE(t.move(first, t.find(1), "y"));
  EXPECT_EQ(t.path(p).substr(0, 6), "r/y/x/");
  std::size_t n = 0;
  t.drop_subtree(first, [&](WatchId, int) { ++n; });
  EXPECT_EQ(n, static_cast<std::size_t>(depth));
  EXPECT_EQ(t.size(), 1u);
}

std::size_t heap_in_use() {
  struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

TEST(WatchTableTest, MemoryPerWatchIsSmall) {
  // 100,000 watches: 1,000 directories of 99 subdirectories each, names of 6 bytes.
  constexpr std::size_t kN = 100000;
  constexpr std::size_t kName = 6;
  std::size_t before = heap_in_use();
  auto t = std::make_unique<WatchTable>();
  int wd = 1;
  WatchId r = t->add_root(wd++, "r", true);
  char name[16];
  for (int top_n = 0; t->size() < kN; ++top_n) {
    std::snprintf(name, sizeof name, "d%05d", top_n);
    WatchId top = t->add_child(wd++, r, name);
    for (int i = 0; i < 98 && t->size() < kN; ++i) {
      std::snprintf(name, sizeof name, "s%05d", i);
      t->add_child(wd++, top, name);
    }
  }
  ASSERT_EQ(t->size(), kN);
  std::size_t after = heap_in_use();
  // Under a sanitizer's allocator mallinfo2() reports nothing: only memory_bytes() can be checked.
  const bool heap_known = before != 0 && after > before;
  std::size_t heap = heap_known ? after - before : 0;
  std::size_t reported = t->memory_bytes();
  std::printf("memory_bytes() %zu (%zu per watch), heap growth %zu (%zu per watch)\n", reported, reported / kN, heap,
              heap / kN);
  RecordProperty("memory_bytes_per_watch", std::to_string(reported / kN));
  RecordProperty("heap_bytes_per_watch", std::to_string(heap / kN));
  EXPECT_LT(reported, kN * (100 + kName)) << "memory_bytes() = " << reported << " for " << kN << " watches";
  EXPECT_GT(reported, kN * (16 + kName)) << reported;
  if (heap_known) {
    EXPECT_LT(heap, kN * (100 + kName)) << "heap grew by " << heap << " bytes for " << kN << " watches";
    // memory_bytes() accounts for what is really held (not a made-up figure).
    EXPECT_GE(reported + reported / 2 + 65536, heap) << "reported " << reported << ", heap grew " << heap;
  }
  // Lookups still exact at that size.
  EXPECT_EQ(t->path(t->find(wd - 1)).size(), std::string("r/d00000/s00000/").size());
}

}  // namespace

TEST(WatchTableTest, FreshEntriesAreListedNewestFirstOnceAndOnlyWhileTracked) {
  WatchTable t;
  WatchId r = t.add_root(1, "r", true);
  t.track_fresh(true);
  WatchId a = t.add_child(2, r, "a");
  WatchId b = t.add_child(3, a, "b");
  EXPECT_EQ(t.add_child(1, r, "again"), r);  // already known: not fresh
  t.track_fresh(false);
  WatchId c = t.add_child(4, r, "c");
  std::vector<WatchId> got;
  t.take_fresh([&](WatchId id) {
    got.push_back(id);
    t.release(id);
  });
  EXPECT_EQ(got, (std::vector<WatchId>{b, a}));
  EXPECT_FALSE(t.contains(a));
  EXPECT_TRUE(t.contains(c));
  got.clear();
  t.take_fresh([&](WatchId id) { got.push_back(id); });
  EXPECT_TRUE(got.empty());
}
