// The heavy Watcher cases: mkdir -p races, forced overflow and its repair, a burst that a slow
// consumer must not lose. All file-system work is done with syscalls from C++, not the shell.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

namespace lwtest {
namespace {

using namespace libwatch;
using testsupport::mkdir_p;

std::size_t max_queued_events(const char* api = "inotify") {
  std::ifstream in(std::string("/proc/sys/fs/") + api + "/max_queued_events");
  std::size_t n = 0;
  in >> n;
  return n;
}

// What one `mkdir -p a<i>/b/c && touch a<i>/b/c/f` must produce: four CREATE reports.
struct Expected {
  std::string path, name;
  bool dir;
};

std::vector<Expected> mkdir_p_expectations(const std::string& root, int n) {
  std::vector<Expected> v;
  for (int i = 0; i < n; ++i) {
    std::string a = "a" + std::to_string(i);
    v.push_back({root + "/", a, true});
    v.push_back({root + "/" + a + "/", "b", true});
    v.push_back({root + "/" + a + "/b/", "c", true});
    v.push_back({root + "/" + a + "/b/c/", "f", false});
  }
  return v;
}

// mkdir(2) and open(2) as fast as they go.
void mkdir_p_burst(const std::string& root, int n) {
  for (int i = 0; i < n; ++i) {
    std::string a = root + "/a" + std::to_string(i);
    if (::mkdir(a.c_str(), 0755) != 0 || ::mkdir((a + "/b").c_str(), 0755) != 0 ||
        ::mkdir((a + "/b/c").c_str(), 0755) != 0)
      std::perror("mkdir");
    int fd = ::open((a + "/b/c/f").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) std::perror("open");
    ::close(fd);
  }
}

// Every expected entry reported as CREATE (kernel or synthetic) with the right path and kind,
// each directory reported before anything inside it; then the table matches the disk.
void check_mkdir_p(Watcher& w, const std::string& root, int n) {
  const auto want = mkdir_p_expectations(root, n);
  std::map<std::string, long> first;  // full path -> index of its first CREATE report
  std::vector<Rec> ev;
  std::size_t found = 0;
  std::set<std::string> wanted;
  for (const auto& x : want) wanted.insert(x.path + x.name);
  auto deadline = Clock::now() + 60s;
  while (found < want.size()) {
    auto e = w.next(deadline);
    if (!e) break;
    ev.push_back(record(w, *e));
    const Rec& r = ev.back();
    ASSERT_TRUE(is_create(r.mask)) << "unexpected event " << describe(r);
    if (!first.count(r.full())) {
      first[r.full()] = static_cast<long>(ev.size() - 1);
      if (wanted.count(r.full())) ++found;
    }
  }
  std::size_t missing = 0;
  std::string missing_list;
  for (const auto& x : want) {
    auto it = first.find(x.path + x.name);
    if (it == first.end()) {
      if (++missing <= 20) missing_list += "  " + x.path + x.name + "\n";
      continue;
    }
    const Rec& r = ev[it->second];
    EXPECT_EQ(is_dir(r.mask), x.dir) << describe(r);
    // Parents before children: the report naming the parent directory comes first.
    if (x.path != root + "/") {
      std::string parent = x.path.substr(0, x.path.size() - 1);
      auto p = first.find(parent);
      ASSERT_NE(p, first.end()) << parent;
      EXPECT_LT(p->second, it->second) << parent << " reported after " << x.path + x.name;
    }
  }
  EXPECT_EQ(missing, 0u) << "missed " << missing << " of " << want.size() << ", e.g.:\n" << missing_list;
  for (const auto& [full, idx] : first) EXPECT_TRUE(wanted.count(full)) << "unexpected " << describe(ev[idx]);
  EXPECT_EQ(w.watch_count(), static_cast<std::size_t>(1 + 3 * n));
  EXPECT_EQ(table_paths(w), disk_dirs(root));
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), static_cast<std::size_t>(1 + 3 * n));
}

TEST_F(WatcherTest, MkdirPLoopWhileReading) {
  constexpr int kN = 200;
  Watcher w;
  w.add(root, opts(IN_CREATE, kTrack));
  std::thread producer([&] { mkdir_p_burst(root, kN); });
  check_mkdir_p(w, root, kN);
  producer.join();
}

TEST_F(WatcherTest, MkdirPLoopBeforeReading) {
  // Everything exists before the first event is read: every level must come from a scan.
  constexpr int kN = 200;
  Watcher w;
  w.add(root, opts(IN_CREATE, kTrack));
  mkdir_p_burst(root, kN);
  check_mkdir_p(w, root, kN);
}

TEST_F(WatcherTest, MkdirPLoopFromAChildProcess) {
  constexpr int kN = 200;
  Watcher w;
  w.add(root, opts(IN_CREATE, kTrack));
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    mkdir_p_burst(root, kN);
    ::_exit(0);
  }
  check_mkdir_p(w, root, kN);
  int st = 0;
  ::waitpid(pid, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

// ---------------------------------------------------------------------------------------------
// Random churn: bursts of mkdir, rmdir, renames inside the tree, moves out and in, file creates,
// all done before the watcher reads. After each burst (no overflow), the table must match the
// disk, agree with the kernel, and a file created in every directory must be reported with that
// directory's current path.

struct Churn {
  std::string root, out;
  std::mt19937 rng;
  std::vector<std::string> log;
  int serial = 0;
  int pool = 0;  // > 0: names inside the tree come from a small pool, so they collide and recur

  std::vector<std::string> dirs() const {  // relative, "" for the root
    std::vector<std::string> v{""};
    for (const auto& d : disk_dirs(root)) {
      std::string rel = d.substr(root.size() + 1);
      if (!rel.empty()) v.push_back(rel.substr(0, rel.size() - 1));
    }
    std::sort(v.begin(), v.end());
    return v;
  }
  std::string at(const std::string& rel) const { return rel.empty() ? root : root + "/" + rel; }
  template <class V>
  const auto& pick(const V& v) {
    return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
  }
  std::string fresh(const char* stem) {
    if (pool > 0) return std::string(1, static_cast<char>('a' + std::uniform_int_distribution<int>(0, pool - 1)(rng)));
    return stem + std::to_string(serial++);
  }
  std::string outside(const char* stem) { return out + "/" + stem + std::to_string(serial++); }
  // Logs an operation with its outcome (with recurring names, many of them fail: EEXIST, ...).
  void note(const std::string& what, int r) { log.push_back(r == 0 ? what : what + "  -> " + std::strerror(errno)); }
  void op() {
    auto ds = dirs();
    std::vector<std::string> sub(ds.begin() + 1, ds.end());  // everything but the root
    int kind = std::uniform_int_distribution<int>(0, 9)(rng);
    if (sub.empty()) kind = 0;
    switch (kind) {
      case 0:
      case 1:
      case 2: {  // mkdir, sometimes two levels at once
        std::string d = at(pick(ds)) + "/" + fresh("d");
        note("mkdir " + d, ::mkdir(d.c_str(), 0755));
        if (kind == 2) {
          std::string e = d + "/" + fresh("e");
          note("mkdir " + e, ::mkdir(e.c_str(), 0755));
        }
        break;
      }
      case 3: {  // create a file
        std::string f = at(pick(ds)) + "/f" + std::to_string(serial++);
        create_file(f);
        log.push_back("create " + f);
        break;
      }
      case 4: {  // remove a directory with everything in it
        std::string d = at(pick(sub));
        testsupport::remove_all(d);
        log.push_back("rm -r " + d);
        break;
      }
      case 5:
      case 6: {  // rename inside the tree (not into its own subtree)
        std::string from = pick(sub);
        std::vector<std::string> targets;
        for (const auto& d : ds)
          if (d != from && d.rfind(from + "/", 0) != 0) targets.push_back(d);
        std::string to = at(pick(targets)) + "/" + fresh("m");
        note("mv " + at(from) + " " + to, ::rename(at(from).c_str(), to.c_str()));
        break;
      }
      case 7: {  // move out of the tree
        std::string from = at(pick(sub));
        std::string to = outside("o");
        note("mv " + from + " " + to + " (out)", ::rename(from.c_str(), to.c_str()));
        break;
      }
      case 8:
      case 9: {  // move a small tree in
        std::string t = outside("i");
        ::mkdir(t.c_str(), 0755);
        ::mkdir((t + "/s").c_str(), 0755);
        create_file(t + "/s/f");
        std::string to = at(pick(ds)) + "/" + fresh("in");
        note("mv " + t + " " + to + " (in)", ::rename(t.c_str(), to.c_str()));
        break;
      }
    }
  }
};

void random_churn(const std::string& root, const std::string& out, unsigned seed, int rounds, int ops, int pool) {
  mkdir_p(out);
  Churn c{root, out, std::mt19937(seed), {}, 0, pool};
  Watcher w;
  w.add(root, opts(IN_CREATE | IN_DELETE, kTrack));
  for (int round = 0; round < rounds; ++round) {
    c.log.clear();
    for (int i = 0; i < ops; ++i) c.op();
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round) + ", operations:\n" + [&] {
      std::string l;
      for (const auto& x : c.log) l += "  " + x + "\n";
      return l;
    }());
    std::string sentinel = "sentinel" + std::to_string(round);
    create_file(root + "/" + sentinel);
    std::vector<Rec> ev;
    ASSERT_TRUE(collect_until_event(w, ev, [&](const Rec& r) { return r.name == sentinel; })) << describe(ev);
    auto expected = disk_dirs(root);
    pump_until(
        w, ev, [&] { return table_paths(w) == expected; }, 5s);
    ASSERT_EQ(table_paths(w), expected) << describe(ev);
    ASSERT_EQ(kernel_watch_count(kernel_fd(w)), w.watch_count());
    EXPECT_EQ(count_if(ev, [](const Rec& r) { return is_overflow(r.mask); }), 0u);
    // Every directory is live and reports with its current path.
    std::string probe = "probe" + std::to_string(round);
    for (const auto& d : expected) create_file(d + probe);
    std::multiset<std::string> got;
    ev.clear();
    collect_until(
        w, ev,
        [&](const std::vector<Rec>& v) {
          if (!v.empty() && v.back().name == probe) got.insert(v.back().path);
          return got.size() >= expected.size();
        },
        10s);
    ASSERT_EQ(got, expected) << describe(ev);
  }
}

TEST_F(WatcherTest, RandomChurnKeepsTableDiskAndKernelInStep) {
  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    testsupport::TempDir t("libwatch-churn");
    std::string r = t / "r";
    mkdir_p(r);
    ASSERT_NO_FATAL_FAILURE(random_churn(r, t / "out", seed, 15, 40, 0));
  }
}

TEST_F(WatcherTest, RandomChurnWithRecurringNames) {
  // The same few names over and over: deleted and re-created, renamed over empty directories,
  // moved away and back. Stale paths in a backlog name other directories.
  for (unsigned seed : {11u, 12u, 13u}) {
    SCOPED_TRACE(seed);
    testsupport::TempDir t("libwatch-churn");
    std::string r = t / "r";
    mkdir_p(r);
    ASSERT_NO_FATAL_FAILURE(random_churn(r, t / "out", seed, 15, 40, 3));
  }
}

// n IN_MODIFY events in dir, alternating between two files so that no two consecutive events are
// identical (the kernel merges only a repeat of the last queued event): each one takes a slot in
// the kernel queue. pwrite(2) is cheap, so even a raised max_queued_events is filled quickly.
void modify_many(const std::string& dir, std::size_t n) {
  int a = ::open((dir + "/ma").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  int b = ::open((dir + "/mb").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(a, 0) << std::strerror(errno);
  ASSERT_GE(b, 0) << std::strerror(errno);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(::pwrite(i % 2 ? b : a, "x", 1, 0), 1) << std::strerror(errno);
  ::close(a);
  ::close(b);
}

// Largest kernel queue these tests fill (each queued event costs the kernel about 64 bytes).
constexpr std::size_t kMaxQueueToFill = std::size_t{4} << 20;

// Stop consuming, overflow the kernel queue while directories come and go, then expect one
// overflow event and a table that matches the disk again.
// fill events: modifications, or (creates) new files, which fanotify cannot merge into one event.
void forced_overflow(WatcherTest& t, const std::string& root, WatcherOptions options, std::size_t fill,
                     bool creates = false) {
  mkdir_p(root + "/keep/k2");
  mkdir_p(root + "/old1/inner");
  mkdir_p(root + "/old2");
  mkdir_p(root + "/fill");
  mkdir_p(root + "/skip/inner");
  testsupport::touch(root + "/fill/ma");
  testsupport::touch(root + "/fill/mb");
  Watcher w(options);
  std::vector<std::string> removed;
  w.on_remove([&](WatchId id) { removed.push_back(w.path(id)); });
  w.add(root, opts(IN_CREATE | IN_MODIFY, kTrack, {root + "/skip"}));
  ASSERT_EQ(w.watch_count(), 7u);

  if (creates) {
    for (std::size_t i = 0; i < fill; ++i) create_file(root + "/fill/n" + std::to_string(i));
  } else {
    ASSERT_NO_FATAL_FAILURE(modify_many(root + "/fill", fill));
  }
  // The queue is full by now: what follows is lost and must be repaired by the rescan.
  ASSERT_EQ(::mkdir((root + "/new1").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/new1/sub").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((root + "/keep/new2").c_str(), 0755), 0);
  ASSERT_EQ(::rmdir((root + "/old1/inner").c_str()), 0);
  ASSERT_EQ(::rmdir((root + "/old1").c_str()), 0);
  ASSERT_EQ(::rmdir((root + "/old2").c_str()), 0);
  ASSERT_EQ(::mkdir((root + "/skip/inner/new3").c_str(), 0755), 0);

  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(
      w, ev, [](const Rec& r) { return is_overflow(r.mask); }, 60s))
      << "no overflow after " << fill << " events; " << describe(ev, 20);
  const Rec& o = ev.back();
  EXPECT_EQ(o.watch, kNoWatch) << describe(o);
  EXPECT_EQ(o.wd, -1) << describe(o);
  EXPECT_EQ(o.name, "");
  EXPECT_GE(w.overflows(), 1u);
  // Repair without any further event: the table comes to match the disk (the '@' exclusion still
  // prunes).
  auto expected = disk_dirs(root);
  for (const auto& x : {"/skip/", "/skip/inner/", "/skip/inner/new3/"}) ASSERT_EQ(expected.erase(root + x), 1u) << x;
  ASSERT_TRUE(pump_until(w, ev, [&] { return table_paths(w) == expected; })) << "table:\n"
                                                                             << join(table_paths(w)) << "disk:\n"
                                                                             << join(expected);
  EXPECT_EQ(w.watch_count(), expected.size());
  // A filesystem mark holds no mark per directory.
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)),
            options.backend == BackendKind::fanotify_filesystem ? 0u : expected.size());
  for (const auto& gone : {root + "/old1/", root + "/old1/inner/", root + "/old2/"})
    EXPECT_EQ(std::count(removed.begin(), removed.end(), gone), 1) << gone;

  // New directories are live; a create in each is reported with its path.
  create_file(root + "/new1/sub/probe");
  create_file(root + "/keep/new2/probe2");
  ASSERT_TRUE(collect_until(w, ev, [](const std::vector<Rec>& v) {
    return find_first(v, [](const Rec& r) { return r.name == "probe"; }) >= 0 &&
           find_first(v, [](const Rec& r) { return r.name == "probe2"; }) >= 0;
  })) << describe(ev, 50);
  EXPECT_EQ(ev[find_first(ev, [](const Rec& r) { return r.name == "probe"; })].path, root + "/new1/sub/");
  EXPECT_EQ(ev[find_first(ev, [](const Rec& r) { return r.name == "probe2"; })].path, root + "/keep/new2/");
  EXPECT_EQ(count_if(ev, [](const Rec& r) { return is_overflow(r.mask); }), 1u) << "one overflow event";
  EXPECT_EQ(w.overflows(), 1u);
  // Every event but the overflow belongs to a watch.
  for (const auto& r : ev)
    if (!is_overflow(r.mask)) {
      EXPECT_NE(r.watch, kNoWatch) << describe(r);
    }
  (void)t;
}

TEST_F(WatcherTest, ForcedOverflowWithoutReaderThread) {
  std::size_t q = max_queued_events();
  ASSERT_GT(q, 0u);
  if (q > kMaxQueueToFill) GTEST_SKIP() << "max_queued_events is " << q << " on this machine: too many events to fill";
  forced_overflow(*this, root, libwatch::WatcherOptions{}, q + 1000);
}

TEST_F(WatcherTest, ForcedOverflowOfTheInProcessQueue) {
  // The reader thread drains until our own bound (64 KiB, about 2,000 events) is full; then the
  // kernel queue fills behind it.
  std::size_t q = max_queued_events();
  ASSERT_GT(q, 0u);
  if (q > kMaxQueueToFill) GTEST_SKIP() << "max_queued_events is " << q << " on this machine: too many events to fill";
  forced_overflow(*this, root, with_queue_bytes(64 * 1024), q + 12000);
}

// fanotify's queue (max_queued_events 16,384 by default) filled by creates: FAN_Q_OVERFLOW
// reported once, the table repaired by the rescan, new directories live.
void fanotify_forced_overflow(WatcherTest& t, const std::string& root, BackendKind backend) {
  WatcherOptions o;
  o.backend = backend;
  try {
    Watcher probe(o);
  } catch (const std::system_error& e) {
    GTEST_SKIP() << "fanotify not available here: " << e.what();
  }
  const std::size_t q = max_queued_events("fanotify");
  ASSERT_GT(q, 0u);
  if (q > kMaxQueueToFill / 16) GTEST_SKIP() << "fanotify max_queued_events is " << q << ": too many files to create";
  forced_overflow(t, root, o, q + 1000, true);
}

TEST_F(WatcherTest, ForcedOverflowWithFanotify) { fanotify_forced_overflow(*this, root, BackendKind::fanotify_inode); }

// The same with one filesystem mark (-S).
TEST_F(WatcherTest, ForcedOverflowWithFilesystemMark) {
  if (::geteuid() != 0) GTEST_SKIP() << "a filesystem mark needs CAP_SYS_ADMIN; not root";
  fanotify_forced_overflow(*this, root, BackendKind::fanotify_filesystem);
}

TEST_F(WatcherTest, OverflowRepairDropsAVanishedRoot) {
  std::size_t q = max_queued_events();
  if (q > kMaxQueueToFill) GTEST_SKIP() << "max_queued_events is " << q << " on this machine: too many events to fill";
  const std::string r2 = tmp / "r2";
  mkdir_p(r2 + "/sub");
  mkdir_p(root + "/fill");
  Watcher w;
  std::vector<std::string> removed;
  w.on_remove([&](WatchId id) { removed.push_back(w.path(id)); });
  w.add(root, opts(IN_CREATE | IN_MODIFY, kTrack));
  w.add(r2, opts(IN_CREATE | IN_MODIFY, kTrack));
  ASSERT_EQ(w.watch_count(), 4u);
  ASSERT_NO_FATAL_FAILURE(modify_many(root + "/fill", q + 1000));
  ASSERT_EQ(::rmdir((r2 + "/sub").c_str()), 0);
  ASSERT_EQ(::rmdir(r2.c_str()), 0);
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(
      w, ev, [](const Rec& r) { return is_overflow(r.mask); }, 60s))
      << describe(ev, 20);
  auto expected = disk_dirs(root);
  ASSERT_TRUE(pump_until(w, ev, [&] { return table_paths(w) == expected; })) << "table:\n"
                                                                             << join(table_paths(w)) << "disk:\n"
                                                                             << join(expected);
  EXPECT_EQ(std::multiset<std::string>(removed.begin(), removed.end()),
            (std::multiset<std::string>{r2 + "/", r2 + "/sub/"}));
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), expected.size());
  create_file(root + "/fill/after");
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return r.name == "after"; })) << describe(ev, 20);
  EXPECT_EQ(ev.back().path, root + "/fill/");
}

TEST_F(WatcherTest, SlowConsumerBurstLosesNothing) {
  // At least 200,000 MODIFY events on 1,000 existing files in 10 existing directories, and at
  // least 200,000 more than the kernel queue holds, so that only prompt draining saves them. The
  // writes go round robin: no two consecutive events are identical and the kernel merges none of
  // them, so every single one must be delivered.
  const std::size_t q = max_queued_events();
  if (q > kMaxQueueToFill) GTEST_SKIP() << "max_queued_events is " << q << " on this machine: too many events to fill";
  constexpr std::size_t kFiles = 1000;
  constexpr std::size_t kDirs = 10;
  const std::size_t kPerFile = (std::max<std::size_t>(200000, q + 200000) + kFiles - 1) / kFiles;
  const std::size_t kEvents = kFiles * kPerFile;
  std::vector<int> fds;
  char name[32];
  for (std::size_t d = 0; d < kDirs; ++d) mkdir_p(disk("d" + std::to_string(d)));
  for (std::size_t i = 0; i < kFiles; ++i) {
    std::snprintf(name, sizeof name, "/d%zu/f%04zu", i % kDirs, i);
    fds.push_back(::open((root + name).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_GE(fds.back(), 0) << std::strerror(errno);
  }
  Watcher w;  // default options
  w.add(root, opts(IN_MODIFY, kTrack));

  // The events are made as fast as one thread can while the consumer, here, is slower: it pauses
  // 5 ms every 1,024 events (the slow consumer is the condition under test, nothing waits on these
  // pauses). A library that read the kernel only when its own queue ran dry would let the kernel
  // queue fill behind such a consumer; next() reads it every kPumpEvery events as well.
  auto t0 = Clock::now();
  std::atomic<Clock::duration> burst{};
  std::thread producer([&] {
    // The consumer must win the CPU: the test is about the library's draining, not a CPU race.
    testsupport::lower_this_thread_priority();
    for (std::size_t j = 0; j < kEvents; ++j)
      if (::pwrite(fds[j % kFiles], "x", 1, 0) != 1) std::abort();
    burst = Clock::now() - t0;
  });
  std::vector<std::uint32_t> per_file(kFiles);
  std::size_t n = 0, other = 0;
  std::string first_other;
  std::map<WatchId, std::string> dir_of;  // watch -> rendered path, looked up once
  auto deadline = Clock::now() + 90s;
  std::size_t seen = 0;
  while (n < kEvents) {
    auto e = w.next(deadline);
    if (!e) break;
    if (++seen % 1024 == 0) std::this_thread::sleep_for(5ms);
    std::size_t idx = kFiles;
    if (e->name.size() == 5 && e->name[0] == 'f')
      idx = std::strtoul(std::string(e->name.substr(1)).c_str(), nullptr, 10);
    auto it = dir_of.find(e->watch);
    if (it == dir_of.end() && e->watch != kNoWatch) it = dir_of.emplace(e->watch, w.path(e->watch)).first;
    if (idx < kFiles && e->mask == IN_MODIFY && !e->synthetic && it != dir_of.end() &&
        it->second == watched("d" + std::to_string(idx % kDirs))) {
      ++per_file[idx];
      ++n;
    } else if (!other++) {
      first_other = describe(record(w, *e));
    }
    if (is_overflow(e->mask)) break;  // events are lost: n can no longer reach kEvents
  }
  producer.join();
  for (int fd : fds) ::close(fd);
  RecordProperty("events", std::to_string(kEvents));
  RecordProperty("burst_ms",
                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(burst.load()).count()));
  EXPECT_EQ(n, kEvents);
  EXPECT_EQ(other, 0u) << "first unexpected event: " << first_other;
  EXPECT_EQ(w.overflows(), 0u);
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < kFiles; ++i) wrong += per_file[i] != kPerFile;
  EXPECT_EQ(wrong, 0u) << "files whose MODIFY count is not " << kPerFile;
  // Nothing else is queued behind them.
  create_file(disk("sentinel"));
  auto e = w.next(Clock::now() + 30s);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->name, "sentinel") << describe(record(w, *e));
  EXPECT_TRUE(is_create(e->mask)) << describe(record(w, *e));
}

}  // namespace
}  // namespace lwtest
