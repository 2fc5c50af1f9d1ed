// Unit tests of inotifywatch's core: which events count, the counters, the table (columns,
// widths, order, ties, -z), the live frame (fitted to the terminal) and the option checks.
#include <sys/inotify.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <toolcommon/messages.hpp>

#include "live.hpp"
#include "options.hpp"
#include "stats.hpp"

// Every allocation of this test program is counted, to check that counting events allocates
// nothing. (The replacement operator new and delete below pair malloc with free; GCC, seeing only
// the default ones, would call that a mismatch.)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace inotifywatch {
namespace {

using libwatch::kNoWatch;

// Paths by id for render functions.
struct Paths {
  std::map<WatchId, std::string> by_id;
  PathFn fn() const {
    return [this](WatchId id, std::string& out) { out += by_id.at(id); };
  }
};

std::string table(const Stats& s, std::span<const LiveWatch> live, const Paths& paths, SortKey key = {},
                  bool zero = false) {
  std::string out;
  auto rows = s.rows(live, key, zero);
  auto cols = s.columns(live, zero);
  render_table(out, s, rows, cols, paths.fn());
  return out;
}

TEST(Counted, RequestedEventsAndTheAlwaysDeliveredOnes) {
  EXPECT_TRUE(counted(IN_MODIFY, IN_MODIFY));
  EXPECT_TRUE(counted(IN_CREATE | IN_ISDIR, IN_CREATE));
  EXPECT_FALSE(counted(IN_CREATE | IN_ISDIR, IN_MODIFY));  // libwatch subscribed for bookkeeping
  EXPECT_FALSE(counted(IN_MOVED_FROM | IN_ISDIR, IN_CREATE));
  EXPECT_TRUE(counted(IN_IGNORED, IN_MODIFY));  // the kernel always delivers it
  EXPECT_TRUE(counted(IN_UNMOUNT, IN_MODIFY));
  EXPECT_FALSE(counted(IN_Q_OVERFLOW, IN_ALL_EVENTS));
  // IN_ISDIR in the request is no event of its own.
  EXPECT_FALSE(counted(IN_MOVED_TO | IN_ISDIR, IN_ISDIR | IN_CREATE));
}

TEST(Columns, OnlySingleEventsHaveOne) {
  EXPECT_EQ(column_for(IN_ACCESS), 0);
  EXPECT_EQ(column_for(IN_MOVE_SELF), 8);  // after moved_to, before create
  EXPECT_EQ(column_for(IN_UNMOUNT), 12);
  EXPECT_EQ(column_for(IN_CLOSE), -1);
  EXPECT_EQ(column_for(IN_MOVE), -1);
  EXPECT_EQ(column_for(IN_IGNORED), -1);
  EXPECT_EQ(column_for(IN_ISDIR), -1);
  EXPECT_EQ(column_for(IN_MODIFY | IN_ACCESS), -1);
}

TEST(Stats, CountersPerWatchOnlyForRequestedColumns) {
  Stats s(IN_MODIFY | IN_CREATE);
  EXPECT_EQ(s.stride(), 3u);  // total, modify, create
  EXPECT_EQ(s.slot(kTotalColumn), 0);
  EXPECT_EQ(s.slot(column_for(IN_MODIFY)), 1);
  EXPECT_EQ(s.slot(column_for(IN_CREATE)), 2);
  EXPECT_EQ(s.slot(column_for(IN_ACCESS)), -1);
  s.record(7, IN_MODIFY);
  s.record(7, IN_CREATE | IN_ISDIR);
  s.record(7, IN_IGNORED);
  EXPECT_EQ(s.counts(7)[0], 3u);
  EXPECT_EQ(s.counts(7)[1], 1u);
  EXPECT_EQ(s.counts(7)[2], 1u);
  EXPECT_EQ(s.counts(3)[0], 0u);       // never counted: the shared zero block
  EXPECT_EQ(s.counts(100000)[0], 0u);  // beyond the index
  EXPECT_EQ(s.events(), 3u);
}

TEST(Stats, CountingAllocatesNothingOnceAWatchHasItsBlock) {
  Stats s(IN_ALL_EVENTS);
  s.reserve(100000);
  for (WatchId id = 0; id < 1000; ++id) s.record(id * 100, IN_CREATE);  // the blocks
  const std::size_t before = g_allocations.load();
  const Mask masks[] = {IN_OPEN, IN_MODIFY, IN_CLOSE_WRITE, IN_ATTRIB | IN_ISDIR, IN_IGNORED, IN_MOVED_TO};
  for (int round = 0; round < 200; ++round)
    for (WatchId id = 0; id < 1000; ++id) s.record(id * 100, masks[(id + static_cast<WatchId>(round)) % 6]);
  EXPECT_EQ(g_allocations.load(), before);
  EXPECT_EQ(s.events(), 201000u);
  // A retired watch's block goes back to the pool: the next watch to count reuses it.
  s.retire(500, "gone/", 1);
  const std::size_t after_retire = g_allocations.load();
  s.record(99999, IN_OPEN);
  EXPECT_EQ(g_allocations.load(), after_retire);
}

TEST(Stats, RenderMatchesTheReferenceLayout) {
  // The reference's table after "rmdir d/sub" under -r d (a row of a watch that is gone, with the
  // IN_IGNORED it got in its total only).
  Stats s(IN_ALL_EVENTS);
  Paths p;
  p.by_id = {{0, "d/sub/"}, {1, "d/"}};
  s.record(0, IN_DELETE_SELF);
  s.record(0, IN_IGNORED);
  s.record(1, IN_DELETE | IN_ISDIR);
  std::vector<LiveWatch> live{{0, 1}, {1, 2}};
  EXPECT_EQ(table(s, live, p),
            "total  delete  delete_self  filename\n"
            "2      0       1            d/sub/\n"
            "1      1       0            d/\n");
}

TEST(Stats, WideNumbersShiftTheColumnsInsteadOfBeingCut) {
  Stats s(IN_OPEN);
  Paths p;
  p.by_id = {{0, "d/"}};
  for (int i = 0; i < 123456; ++i) s.record(0, IN_OPEN);
  std::vector<LiveWatch> live{{0, 1}};
  EXPECT_EQ(table(s, live, p), "total  open  filename\n123456  123456  d/\n");
}

TEST(Stats, DefaultOrderIsDescendingTotalTiesByCreationOrder) {
  Stats s(IN_ALL_EVENTS);
  Paths p;
  p.by_id = {{0, "a/"}, {1, "b/"}, {2, "c/"}, {3, "d/"}};
  // ids are not creation order: order comes from the table (post-order under -r).
  std::vector<LiveWatch> live{{0, 4}, {1, 2}, {2, 3}, {3, 1}};
  for (WatchId id : {0u, 1u, 2u, 3u}) s.record(id, IN_ATTRIB);
  s.record(2, IN_ATTRIB);
  EXPECT_EQ(table(s, live, p),
            "total  attrib  filename\n"
            "2      2       c/\n"
            "1      1       d/\n"
            "1      1       b/\n"
            "1      1       a/\n");
  // Ascending keeps ties in creation order too.
  EXPECT_EQ(table(s, live, p, SortKey{kTotalColumn, true}),
            "total  attrib  filename\n"
            "1      1       d/\n"
            "1      1       b/\n"
            "1      1       a/\n"
            "2      2       c/\n");
}

TEST(Stats, SortByAnEventColumn) {
  Stats s(IN_ALL_EVENTS);
  Paths p;
  p.by_id = {{0, "x/"}, {1, "y/"}};
  std::vector<LiveWatch> live{{0, 1}, {1, 2}};
  for (int i = 0; i < 5; ++i) s.record(0, IN_OPEN);
  s.record(1, IN_MODIFY);
  s.record(1, IN_MODIFY);
  EXPECT_EQ(table(s, live, p, SortKey{column_for(IN_MODIFY), false}),
            "total  modify  open  filename\n"
            "2      2       0     y/\n"
            "5      0       5     x/\n");
  EXPECT_EQ(table(s, live, p, SortKey{column_for(IN_OPEN), true}),
            "total  modify  open  filename\n"
            "2      2       0     y/\n"
            "5      0       5     x/\n");
}

TEST(Stats, ZeroShowsEveryRequestedColumnAndEveryWatch) {
  Stats s(IN_MODIFY | IN_UNMOUNT | IN_ISDIR);
  Paths p;
  p.by_id = {{0, "a/"}, {1, "b/"}};
  std::vector<LiveWatch> live{{0, 1}, {1, 2}};
  s.record(1, IN_MODIFY);
  EXPECT_EQ(table(s, live, p, {}, true),
            "total  modify  unmount  filename\n"
            "1      1       0        b/\n"
            "0      0       0        a/\n");
  EXPECT_EQ(table(s, live, p), "total  modify  filename\n1      1       b/\n");
}

TEST(Stats, RetiredWatchesKeepTheirRowAndPath) {
  Stats s(IN_ALL_EVENTS);
  Paths p;
  p.by_id = {{0, "d/"}, {1, "d/new/"}};
  s.record(1, IN_CREATE);
  s.record(1, IN_DELETE_SELF);
  s.record(1, IN_IGNORED);
  s.retire(1, "d/gone/", 5);
  EXPECT_EQ(s.counts(1)[0], 0u);  // the slot is free for the id's next owner
  s.record(1, IN_ATTRIB);         // id 1 reused for d/new/
  s.record(0, IN_DELETE | IN_ISDIR);
  std::vector<LiveWatch> live{{0, 1}, {1, 9}};
  EXPECT_EQ(table(s, live, p),
            "total  attrib  create  delete  delete_self  filename\n"
            "3      0       1       0       1            d/gone/\n"
            "1      0       0       1       0            d/\n"
            "1      1       0       0       0            d/new/\n");
  s.forget(1);
  EXPECT_EQ(s.counts(1)[0], 0u);
  EXPECT_EQ(s.grand_total(live, 0), 4u);
}

// ---- the live view --------------------------------------------------------------------------

std::vector<std::string> screen_lines(const std::string& frame) {
  // Strip the escape sequences and split on CR LF.
  std::string text;
  for (std::size_t i = 0; i < frame.size(); ++i) {
    if (frame[i] == '\x1b') {
      ++i;  // '['
      while (i + 1 < frame.size() && !std::isalpha(static_cast<unsigned char>(frame[i + 1]))) ++i;
      ++i;  // the final letter
      continue;
    }
    if (frame[i] == '\r') continue;
    text += frame[i];
  }
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (;;) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

struct LiveFixture {
  Stats stats{IN_ALL_EVENTS};
  Paths paths;
  std::vector<LiveWatch> live;
  explicit LiveFixture(int n) {
    for (int i = 0; i < n; ++i) {
      WatchId id = static_cast<WatchId>(i);
      paths.by_id[id] = "dir" + std::to_string(i) + "/";
      live.push_back({id, static_cast<std::uint32_t>(i)});
      for (int k = 0; k <= i; ++k) stats.record(id, k % 2 ? IN_OPEN : IN_CREATE);
    }
  }
  std::string frame(int width, int height) {
    LiveStatus st;
    st.elapsed = std::chrono::seconds(3725);
    st.events = stats.events();
    st.rate = 12.5;
    st.watches = live.size();
    auto rows = stats.rows(live, {}, false);
    auto cols = stats.columns(live, false);
    std::string out;
    render_frame(out, st, stats, rows, cols, paths.fn(), width, height);
    return out;
  }
};

TEST(LiveFrame, HeaderTableAndSummaryFitTheHeight) {
  LiveFixture f(20);
  std::string frame = f.frame(80, 8);
  EXPECT_EQ(frame.rfind("\x1b[H", 0), 0u) << "starts at the top-left corner";
  auto lines = screen_lines(frame);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0], "inotifywatch: 1:02:05 elapsed, 210 events, 12.5 events/s, 20 watches");
  EXPECT_EQ(lines[1], "total  open  create  filename");
  EXPECT_EQ(lines[2], "20     10    10      dir19/");
  EXPECT_EQ(lines[6], "16     8     8       dir15/");
  EXPECT_EQ(lines[7], "... 15 more rows with 120 events");
  EXPECT_EQ(frame.find("\r\n\x1b[J"), std::string::npos) << "the frame fills the screen: nothing to clear";
}

TEST(LiveFrame, ShortTableClearsTheRestOfTheScreen) {
  LiveFixture f(2);
  std::string frame = f.frame(80, 24);
  auto lines = screen_lines(frame);
  ASSERT_EQ(lines.size(), 5u);  // 4 lines, then the cursor moves to the next one
  EXPECT_EQ(lines[3], "1      0     1       dir0/");
  EXPECT_NE(frame.find("dir0/\x1b[K\r\n\x1b[J"), std::string::npos);
}

TEST(LiveFrame, WideLinesKeepTheEndOfThePath) {
  LiveFixture f(1);
  f.paths.by_id[0] = "a/very/long/path/that/does/not/fit/into/the/terminal/deepest/";
  std::string frame = f.frame(40, 10);
  for (const auto& line : screen_lines(frame)) EXPECT_LE(display_width(line), 40u) << line;
  auto lines = screen_lines(frame);
  EXPECT_EQ(lines[2], "1      1       .../the/terminal/deepest/");
  EXPECT_EQ(lines[0], "inotifywatch: 1:02:05 elapsed, 1 event, ");
  // A full-width line is not followed by an erase (it would eat its last character).
  EXPECT_NE(frame.find("deepest/\r\n"), std::string::npos);
}

TEST(LiveFrame, ControlCharactersInPathsAreNotSentToTheTerminal) {
  LiveFixture f(1);
  f.paths.by_id[0] = "evil\x1b[2Jname\n/";
  std::string frame = f.frame(80, 10);
  EXPECT_NE(frame.find("evil?[2Jname?/"), std::string::npos);
}

TEST(LiveFrame, NoEventsYetAndTinyTerminals) {
  Stats s(IN_ALL_EVENTS);
  Paths p;
  std::vector<LiveWatch> live;
  LiveStatus st;
  st.watches = 3;
  std::string out;
  render_frame(out, st, s, {}, {}, p.fn(), 80, 24);
  auto lines = screen_lines(out);
  EXPECT_EQ(lines[0], "inotifywatch: 0:00:00 elapsed, 0 events, 0.0 events/s, 3 watches");
  EXPECT_EQ(lines[1], "No events occurred.");
  LiveFixture f(5);
  auto one = screen_lines(f.frame(10, 1));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], "inotifywat");
  auto two = screen_lines(f.frame(80, 3));
  ASSERT_EQ(two.size(), 3u);
  EXPECT_EQ(two[2], "... 5 more rows with 15 events");
}

TEST(LiveFrame, Utf8PathsAreCutAtCharacterBoundaries) {
  LiveFixture f(1);
  f.paths.by_id[0] = "\xc3\xa9t\xc3\xa9/\xc3\xa9t\xc3\xa9/\xc3\xa9t\xc3\xa9/\xc3\xa9t\xc3\xa9/";  // été/été/été/été/
  auto lines = screen_lines(f.frame(27, 5));
  EXPECT_EQ(lines[2], "1      1       .../\xc3\xa9t\xc3\xa9/\xc3\xa9t\xc3\xa9/");
  EXPECT_EQ(display_width(lines[2]), 27u);
}

TEST(LiveLog, TimestampStatusTableAndEmptyLine) {
  LiveFixture f(2);
  LiveStatus st;
  st.elapsed = std::chrono::seconds(5);
  st.events = f.stats.events();
  st.rate = 0.6;
  st.watches = 2;
  auto rows = f.stats.rows(f.live, {}, false);
  auto cols = f.stats.columns(f.live, false);
  std::string out;
  render_log_block(out, "2024-01-02 03:04:05", st, f.stats, rows, cols, f.paths.fn());
  EXPECT_EQ(out,
            "[2024-01-02 03:04:05] 0:00:05 elapsed, 3 events, 0.6 events/s, 2 watches\n"
            "total  open  create  filename\n"
            "2      1     1       dir1/\n"
            "1      0     1       dir0/\n"
            "\n");
  Stats none(IN_ALL_EVENTS);
  LiveStatus empty;
  empty.watches = 1;
  std::string quiet;
  render_log_block(quiet, "T", empty, none, {}, {}, f.paths.fn());
  EXPECT_EQ(quiet, "[T] 0:00:00 elapsed, 0 events, 0.0 events/s, 1 watch\n\n");
}

// ---- options ----------------------------------------------------------------------------------

struct Parsed {
  std::optional<Options> options;
  std::string message;
  int status = 0;
};

Parsed parse(std::vector<std::string> args) {
  std::vector<char*> argv;
  std::string argv0 = "inotifywatch";
  argv.push_back(argv0.data());
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  Parsed p;
  try {
    p.options = parse_options(static_cast<int>(args.size() + 1), argv.data());
  } catch (const toolcommon::Failure& f) {
    p.message = std::string(f.message());
    p.status = f.status();
  }
  return p;
}

TEST(Options, SortKeys) {
  auto p = parse({"-d", "modify", "d"});
  ASSERT_TRUE(p.options) << p.message;
  EXPECT_EQ(p.options->sort.column, column_for(IN_MODIFY));
  EXPECT_FALSE(p.options->sort.ascending);
  p = parse({"-a", "ToTaL", "d"});
  ASSERT_TRUE(p.options) << p.message;
  EXPECT_EQ(p.options->sort.column, kTotalColumn);
  EXPECT_TRUE(p.options->sort.ascending);
  // D10: an empty element is ignored, so "modify," is modify (the reference: the total).
  p = parse({"-a", "modify,", "d"});
  ASSERT_TRUE(p.options) << p.message;
  EXPECT_EQ(p.options->sort.column, column_for(IN_MODIFY));
  // Nothing but empty elements: the total, as in the reference.
  p = parse({"-d", ",", "d"});
  ASSERT_TRUE(p.options) << p.message;
  EXPECT_EQ(p.options->sort.column, kTotalColumn);
}

TEST(Options, D6CombinedKeysAreRefused) {
  const std::string close = "Cannot sort by `close' event; please use `close_write' or `close_nowrite'.\n";
  const std::string move = "Cannot sort by `move' event; please use `moved_from' or `moved_to'.\n";
  EXPECT_EQ(parse({"-d", "close", "d"}).message, close);
  EXPECT_EQ(parse({"-d", "close_write,close_nowrite", "d"}).message, close);
  EXPECT_EQ(parse({"-d", "move", "d"}).message, move);
  EXPECT_EQ(parse({"-a", "moved_from,MOVED_TO", "d"}).message, move);
  EXPECT_EQ(parse({"-a", "modify,access", "d"}).message, "'modify,access' is not a valid key for sorting!\n");
  EXPECT_EQ(parse({"-e", "ignored", "-d", "ignored", "d"}).message, "'ignored' is not a valid key for sorting!\n");
  EXPECT_EQ(parse({"-a", "all_events", "d"}).message, "'all_events' is not a valid key for sorting!\n");
  EXPECT_EQ(parse({"-d", "close", "d"}).status, 1);
  // Still the reference's message first where it has one.
  EXPECT_EQ(parse({"-a", "isdir", "d"}).message, "Can't sort by an event which isn't being watched for!\n");
  EXPECT_EQ(parse({"-d", "close", "-x", "d"}).message, "inotifywatch: invalid option -- 'x'\n" + close);
}

TEST(Options, Live) {
  auto p = parse({"--live", "d"});
  ASSERT_TRUE(p.options) << p.message;
  EXPECT_EQ(p.options->live, 1.0);
  EXPECT_EQ(p.options->operands, std::vector<std::string>{"d"});
  p = parse({"--live=0.25", "d"});
  ASSERT_TRUE(p.options) << p.message;
  EXPECT_EQ(p.options->live, 0.25);
  // An addition takes no abbreviation: "--li" stays the reference's unknown option.
  p = parse({"--li=0.25", "d"});
  EXPECT_FALSE(p.options);
  EXPECT_EQ(p.status, 1);
  p = parse({"--live", "2", "d"});  // an optional argument needs '=': "2" is an operand
  ASSERT_TRUE(p.options) << p.message;
  EXPECT_EQ(p.options->live, 1.0);
  EXPECT_EQ(p.options->operands, (std::vector<std::string>{"2", "d"}));
  for (const char* bad : {"0", "-1", "abc", "1e3", "inf", "nan", "0x10", "", "90000"}) {
    auto b = parse({std::string("--live=") + bad, "d"});
    EXPECT_FALSE(b.options) << bad;
    EXPECT_EQ(b.message, std::string("'") + bad + "' is not a valid number of seconds for --live.\n");
    EXPECT_EQ(b.status, 1);
  }
  EXPECT_EQ(parse_live_seconds("0.5"), 0.5);
  EXPECT_EQ(parse_live_seconds("86400"), 86400.0);
  EXPECT_FALSE(parse_live_seconds("1.2.3"));
}

// --version is an addition that must be spelled out: every abbreviation of --verbose the reference
// accepts still means --verbose, and the longer prefixes of --version are still unrecognized.
TEST(Options, VersionDoesNotTakeAbbreviationsOfVerbose) {
  for (const char* abbreviation : {"--v", "--ve", "--ver", "--verb", "--verbo", "--verbos", "--verbose"}) {
    auto p = parse({abbreviation, "d"});
    ASSERT_TRUE(p.options) << abbreviation << ": " << p.message;
    EXPECT_EQ(p.options->verbose, 1) << abbreviation;
    EXPECT_EQ(p.options->operands, std::vector<std::string>{"d"}) << abbreviation;
  }
  for (const char* prefix : {"--vers", "--versi", "--versio", "--versions"}) {
    auto p = parse({prefix, "d"});
    EXPECT_FALSE(p.options) << prefix;
    EXPECT_EQ(p.message, std::string("inotifywatch: unrecognized option '") + prefix + "'\n");
    EXPECT_EQ(p.status, 1);
  }
  EXPECT_EQ(parse({"--ver=2", "d"}).message, "inotifywatch: option '--verbose' doesn't allow an argument\n");
  EXPECT_EQ(parse({"--", "--version"}).options->operands, std::vector<std::string>{"--version"});
}

TEST(Options, HelpNamesOurProgramAndVersion) {
  std::string h = help_text();
  EXPECT_EQ(h.substr(0, h.find('\n')), "inotifywatch (libwatch) " + std::string(toolcommon::version()));
  EXPECT_NE(h.find("\t--live[=<seconds>]\n"), std::string::npos);
  EXPECT_NE(h.find("\t-d|--descending <event>\n\t\tSort descending by a particular event, or `total'.\n"),
            std::string::npos);
}

}  // namespace
}  // namespace inotifywatch
