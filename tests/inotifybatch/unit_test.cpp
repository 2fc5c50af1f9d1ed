// inotifybatch without a kernel: the exclude matcher, the batching state machine, moves, and
// --merge's lists against a small tree in a temporary directory.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <toolcommon/messages.hpp>

#include "batcher.hpp"
#include "lists.hpp"
#include "options.hpp"
#include "patterns.hpp"
#include "snapshot.hpp"

namespace inotifybatch {
namespace {

using namespace std::chrono_literals;

// Runs parse_options on {"inotifybatch", args...}; the usage error's text when it throws.
std::string parse(std::vector<std::string> args, Options* out = nullptr) {
  args.insert(args.begin(), "inotifybatch");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  try {
    Options o = parse_options(static_cast<int>(argv.size()), argv.data());
    if (out) *out = o;
    return "";
  } catch (const toolcommon::Failure& f) {
    EXPECT_EQ(f.status(), 1);
    return f.what();
  }
}

TEST(Options, EachExcludeTakesOneRuleAndOptionsGoAnywhere) {
  Options o;
  ASSERT_EQ(parse({"--exclude", "skip/", "--exclude=- *.tmp", "src", "--out", "d", "--delay", "0.25"}, &o), "");
  EXPECT_EQ(o.excludes, (std::vector<std::string>{"skip/", "- *.tmp"}));
  EXPECT_EQ(o.operands, std::vector<std::string>{"src"});
  EXPECT_EQ(o.out, "d");
  EXPECT_EQ(o.delay, 250ms);
  EXPECT_FALSE(o.fanotify);
  ASSERT_EQ(parse({"--fanotify", "--out", "d", "src"}, &o), "");
  EXPECT_TRUE(o.fanotify);
}

TEST(Options, BadValuesAreOneUsageErrorNamingTheOption) {
  const std::string tail = "\nTry 'inotifybatch --help' for more information.\n";
  EXPECT_EQ(parse({"--max-batch", "0", "--out", "d", "s"}),
            "inotifybatch: --max-batch: Value 0 not in range 1 to 999999999" + tail);
  EXPECT_EQ(parse({"--delay", "1s", "--out", "d", "s"}),
            "inotifybatch: --delay: '1s' is not a number of seconds" + tail);
  EXPECT_EQ(parse({"--delay", "nan", "--out", "d", "s"}),
            "inotifybatch: --delay: 'nan' is not a number of seconds" + tail);
  EXPECT_NE(parse({"--bogus", "--out", "d", "s"}).find("--bogus"), std::string::npos);
  EXPECT_EQ(parse({"s"}), "inotifybatch: --out DIR is required" + tail);
  EXPECT_EQ(parse({"--merge", "o", "s"}), "inotifybatch: --merge needs OUT, a SOURCE and at least one BATCH" + tail);
}

TEST(Glob, StarStopsAtSlashDoubleStarDoesNot) {
  EXPECT_TRUE(glob_match("*.tmp", "a.tmp"));
  EXPECT_FALSE(glob_match("*.tmp", "d/a.tmp"));
  EXPECT_TRUE(glob_match("**.tmp", "d/a.tmp"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "a/c"));
  EXPECT_TRUE(glob_match("[a-c]x", "bx"));
  EXPECT_FALSE(glob_match("[!a-c]x", "bx"));
  EXPECT_TRUE(glob_match("[^a-c]x", "dx"));
  EXPECT_TRUE(glob_match("\\*", "*"));
  EXPECT_FALSE(glob_match("\\*", "a"));
  EXPECT_TRUE(glob_match("[x", "[x"));  // an unclosed class is literal
  EXPECT_FALSE(glob_match("abc", "abcd"));
}

TEST(Rules, NameAnchoredTailAndDirectoriesOnly) {
  ExcludeRules r;
  r.add("*.o");
  r.add("- /build/");
  r.add("cache/");
  r.add("doc/*.html");
  ASSERT_TRUE(r.active());
  EXPECT_TRUE(r.excluded("x.o", false));
  EXPECT_TRUE(r.excluded("deep/down/x.o", false));
  EXPECT_TRUE(r.excluded("build", true));
  EXPECT_TRUE(r.excluded("build/anything", false));  // through its parent
  EXPECT_FALSE(r.excluded("build", false));          // a file named build is not the directory
  EXPECT_FALSE(r.excluded("src/build", true));       // anchored at the source
  EXPECT_TRUE(r.excluded("a/cache", true));
  EXPECT_FALSE(r.excluded("a/cache", false));
  EXPECT_TRUE(r.excluded("doc/i.html", false));
  EXPECT_TRUE(r.excluded("x/doc/i.html", false));
  EXPECT_FALSE(r.excluded("doc/sub/i.html", false));
  EXPECT_FALSE(r.excluded("main.c", false));
}

TEST(Rules, UnsupportedRuleTurnsFilteringOff) {
  ExcludeRules r;
  r.add("*.o");
  r.add("+ keep.o");
  EXPECT_FALSE(r.active());
  EXPECT_FALSE(r.excluded("x.o", false));
}

TEST(Batcher, DueAfterDelayWhenEventsPause) {
  Batcher b({1s, 100, 20ms});
  const auto t0 = Clock::now();
  EXPECT_FALSE(b.due(t0));
  EXPECT_FALSE(b.wake_at(t0));
  b.add("a", t0);
  b.add("a", t0 + 10ms);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_FALSE(b.due(t0 + 999ms));
  EXPECT_EQ(*b.wake_at(t0), t0 + 1s);
  EXPECT_TRUE(b.due(t0 + 1s));
  const Taken t = b.take();
  EXPECT_EQ(t.paths, std::vector<std::string>{"a"});
  EXPECT_TRUE(b.empty());
}

TEST(Batcher, HeldWhileStreamingAtMostOneMoreDelay) {
  Batcher b({1s, 1000000, 20ms});
  const auto t0 = Clock::now();
  auto t = t0;
  for (int i = 0; t < t0 + 1900ms; ++i, t += 5ms) {
    b.add("p" + std::to_string(i), t);
    EXPECT_FALSE(b.due(t)) << "cut while the stream still went on, at " << (t - t0).count();
  }
  EXPECT_TRUE(b.due(t0 + 2s));  // first + delay + max(delay, 1 s)
}

TEST(Batcher, EarlyAtMaxBatch) {
  Batcher b({10s, 3, 20ms});
  const auto t0 = Clock::now();
  b.add("a", t0);
  b.add("b", t0);
  EXPECT_FALSE(b.due(t0));
  b.add("c", t0);
  EXPECT_TRUE(b.due(t0));
}

TEST(Batcher, ClearDropsPathsAndMoves) {
  Batcher b({1s, 10, 20ms});
  b.add("a", Clock::now());
  b.move("x", "a", false);
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(b.take().moves.empty());
}

TEST(Moves, ChainsComposeAndReturnsVanish) {
  Moves m;
  m.record("a", "b", false);
  m.record("b", "c", false);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m.pairs().at("c"), "a");
  m.record("c", "a", false);
  EXPECT_TRUE(m.empty());
}

TEST(Moves, DirectoryMoveCarriesTheMovesBelowIt) {
  Moves m;
  m.record("f", "d/g", false);
  m.record("d", "e", true);
  EXPECT_EQ(m.pairs().at("e/g"), "f");
  EXPECT_EQ(m.pairs().at("e"), "d");
  EXPECT_EQ(m.size(), 2u);
}

TEST(CookieJar, PairsByCookie) {
  CookieJar j;
  j.moved_from(7, "old");
  EXPECT_FALSE(j.moved_to(8));
  EXPECT_EQ(*j.moved_to(7), "old");
  EXPECT_FALSE(j.moved_to(7));
}

std::vector<std::string> entries(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> out;
  std::string e;
  while (std::getline(in, e, '\0')) out.push_back(e);
  return out;
}

class Merge : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/inotifybatch-unit.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ + "/src/d");
    std::ofstream(dir_ + "/src/d/f") << "x";
    std::ofstream(dir_ + "/src/top") << "x";
    ASSERT_EQ(::symlink("/etc", (dir_ + "/src/link").c_str()), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void batch(const std::string& name, std::vector<std::string> paths,
             std::vector<std::pair<std::string, std::string>> moves) {
    Taken t;
    t.paths = std::move(paths);
    for (auto& [o, n] : moves) t.moves.record(o, n, false);
    ASSERT_TRUE(write_batch(dir_ + "/" + name, t));
  }
  std::string dir_;
};

TEST_F(Merge, ListsWhatExistsDeletionsAndNeverBelowASymlink) {
  batch("1", {"d/f", "gone", "gone/below", "link/passwd", "top"}, {{"old", "top"}});
  batch("2", {"top", "d", "d/missing"}, {{"top", "top2"}});
  const Merged m = merge_batches(dir_ + "/m", dir_ + "/src/", {dir_ + "/1", dir_ + "/2"});
  EXPECT_EQ(m.paths, 7u);
  // d is listed: rsync -r sends (and deletes) what is below it, so d/f and d/missing are not.
  EXPECT_EQ(entries(dir_ + "/m.send"), (std::vector<std::string>{"./gone", "./top", "./d"}));
  EXPECT_EQ(entries(dir_ + "/m.deleted"), (std::vector<std::string>{"./gone", "./d"}));
  EXPECT_EQ(m.missing, 1u);  // gone
  // old -> top, then top -> top2: one move, top2 from old.
  EXPECT_EQ(entries(dir_ + "/m.moves"), (std::vector<std::string>{"top2", "old"}));
}

TEST_F(Merge, SnapshotDiffFindsNewChangedAndGoneButNotExcluded) {
  const std::string src = dir_ + "/src/";
  Snapshot snap(src, 100, [](const std::string& rel, bool) { return rel == "skip"; });
  std::filesystem::create_directories(src + "skip");
  snap.build();
  ASSERT_TRUE(snap.valid());
  EXPECT_EQ(snap.size(), 4u);  // d, d/f, top, link
  EXPECT_TRUE(snap.diff().empty());
  std::ofstream(src + "top") << "longer";
  std::ofstream(src + "new") << "n";
  std::ofstream(src + "skip/x") << "x";
  std::filesystem::remove(src + "d/f");
  const auto changed = snap.diff();
  // d changed only because d/f went: d/f's deletion sends d as an implied directory.
  EXPECT_EQ(changed, (std::vector<std::string>{"d/f", "new", "top"}));
  EXPECT_TRUE(snap.diff().empty());  // recorded as it is now
}

TEST_F(Merge, SnapshotDiffSendsADirectoryForItsSubtreeOnlyWhenNeeded) {
  const std::string src = dir_ + "/src/";
  std::filesystem::create_directories(src + "old/sub");
  std::ofstream(src + "old/sub/1") << "1";
  std::filesystem::create_directories(src + "attr/sub");
  Snapshot snap(src, 100, nullptr);
  snap.build();
  ASSERT_TRUE(snap.valid());
  // A new directory covers its subtree (rsync -r), a gone one its old subtree, a directory
  // whose own attributes changed with nothing listed below it is sent itself.
  std::filesystem::create_directories(src + "new/sub");
  std::ofstream(src + "new/sub/1") << "1";
  std::ofstream(src + "new/2") << "2";
  std::filesystem::remove_all(src + "old");
  ASSERT_EQ(::chmod((src + "attr/sub").c_str(), 0700), 0);
  // d: one file added, one deleted: both listed, d itself not.
  std::filesystem::remove(src + "d/f");
  std::ofstream(src + "d/g") << "g";
  EXPECT_EQ(snap.diff(), (std::vector<std::string>{"attr/sub", "d/f", "d/g", "new", "old"}));
  EXPECT_TRUE(snap.diff().empty());
}

TEST_F(Merge, SnapshotDiffSendsADirectoryForMostOfItsEntries) {
  // 200 files each in a and b; after the snapshot, 250 new files in a (most of its 450): a is
  // sent itself (rsync -r), and 10 in b (a few of its 210): those 10 are listed.
  const std::string src = dir_ + "/src/";
  for (const char* d : {"a", "b"}) {
    std::filesystem::create_directories(src + d);
    for (int f = 0; f < 200; ++f) std::ofstream(src + d + "/old" + std::to_string(f));
  }
  Snapshot snap(src, 10000, nullptr);
  snap.build();
  ASSERT_TRUE(snap.valid());
  for (int f = 0; f < 250; ++f) std::ofstream(src + "a/new" + std::to_string(f));
  std::vector<std::string> want{"a"};
  for (int f = 0; f < 10; ++f) {
    std::ofstream(src + "b/new" + std::to_string(f));
    want.push_back("b/new" + std::to_string(f));
  }
  std::vector<std::string> got = snap.diff();
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  EXPECT_TRUE(snap.diff().empty());
}

TEST_F(Merge, SnapshotOfManyEntriesIsCompact) {
  // 20,000 entries (the per-entry cost of 400,000 scales from it): well under 100 bytes each
  // plus the path (40 and about 13 here), where a std::map of strings took about 150.
  const std::string src = dir_ + "/src/";
  for (int d = 0; d < 20; ++d) {
    const std::string dir = src + "dir" + std::to_string(d);
    std::filesystem::create_directories(dir);
    for (int f = 0; f < 999; ++f) std::ofstream(dir + "/file" + std::to_string(f));
  }
  Snapshot snap(src, 100000, nullptr);
  snap.build();
  ASSERT_TRUE(snap.valid());
  ASSERT_EQ(snap.size(), 20u * 1000 + 4);  // and d, d/f, top, link
  EXPECT_LT(snap.bytes(), snap.size() * 60);
  EXPECT_TRUE(snap.diff().empty());
}

TEST_F(Merge, SnapshotRefreshRecordsABatchAndDropsOverBudget) {
  const std::string src = dir_ + "/src/";
  Snapshot snap(src, 6, nullptr);
  snap.build();
  ASSERT_TRUE(snap.valid());
  std::filesystem::create_directories(src + "e");
  std::ofstream(src + "e/1") << "1";
  snap.refresh({"e"});
  EXPECT_EQ(snap.size(), 6u);
  EXPECT_TRUE(snap.diff().empty());
  std::ofstream(src + "e/2") << "2";
  snap.refresh({"e"});
  EXPECT_FALSE(snap.valid());  // 7 entries: over the budget, a full sync is the answer
}

}  // namespace
}  // namespace inotifybatch
