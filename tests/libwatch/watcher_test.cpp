// Watcher against the real kernel: setup, paths, renames and moves, IN_IGNORED, symlinks,
// exclusions, unknown wds, self-caused events. Every test synchronises on events (or on a sentinel
// event proving that nothing else came before it), never on sleeps.
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "helpers.hpp"

namespace lwtest {
namespace {

using namespace libwatch;
using testsupport::mkdir_p;

void must(int r, const std::string& what) {
  if (r != 0) FAIL() << what << ": " << std::strerror(errno);
}
void do_rename(const std::string& from, const std::string& to) {
  must(::rename(from.c_str(), to.c_str()), "rename " + from);
}
void do_rmdir(const std::string& p) { must(::rmdir(p.c_str()), "rmdir " + p); }
void do_mkdir(const std::string& p) { must(::mkdir(p.c_str(), 0755), "mkdir " + p); }
void do_symlink(const std::string& target, const std::string& link) {
  must(::symlink(target.c_str(), link.c_str()), "symlink " + link);
}

auto named(const std::string& name) {
  return [name](const Rec& r) { return r.name == name; };
}

// ---------------------------------------------------------------------------------------------
// Setup

TEST_P(BackendTest, RecursiveSetupWatchesEveryDirectory) {
  const std::vector<std::string> dirs = {"a", "a/b", "a/b/c", "a/b/c/.hidden", "a/b2",      "d",
                                         "e", "e/f", "e/f/g", "sp ace",        "new\nline", "\xff\xfe"};
  for (const auto& d : dirs) mkdir_p(disk(d));
  create_file(disk("file1"));
  create_file(disk("a/file2"));
  create_file(disk("e/f/g/file3"));
  Watcher w(backend_options());
  WatchId id = w.add(root, opts(IN_CREATE, kRecursive));
  EXPECT_EQ(w.path(id), root + "/");
  EXPECT_TRUE(table_of(w).is_root(id));
  EXPECT_EQ(w.watch_count(), dirs.size() + 1);
  EXPECT_EQ(table_of(w).size(), dirs.size() + 1);
  EXPECT_EQ(kernel_marks(w), dirs.size() + 1);
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << "table:\n" << join(table_paths(w));

  // Every watch is live once add() has returned, and its events carry its path.
  std::multiset<std::string> want;
  for (const auto& d : dirs) want.insert(watched(d));
  want.insert(watched(""));
  for (const auto& p : want) create_file(p + "probe");
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until(w, ev, [&](const std::vector<Rec>& v) {
    return count_if(v, named("probe")) == want.size();
  })) << describe(ev);
  std::multiset<std::string> got;
  for (const auto& r : ev) {
    EXPECT_TRUE(is_create(r.mask)) << describe(r);
    EXPECT_FALSE(r.synthetic) << describe(r);
    if (r.name == "probe") got.insert(r.path);
  }
  EXPECT_EQ(got, want);
}

// A wide tree: `width` top-level directories (a large setup may walk them on several threads),
// each with a few levels below, files here and there.
std::vector<std::string> make_wide_tree(const std::string& root, int width) {
  std::vector<std::string> rel;
  for (int i = 0; i < width; ++i) {
    std::string t = "t" + std::to_string(i);
    rel.push_back(t);
    for (int j = 0; j < i % 4; ++j) {
      rel.push_back(t + "/s" + std::to_string(j));
      rel.push_back(t + "/s" + std::to_string(j) + "/deep");
    }
  }
  for (const auto& r : rel) mkdir_p(root + "/" + r);
  for (std::size_t i = 0; i < rel.size(); i += 3) create_file(root + "/" + rel[i] + "/file");
  return rel;
}

TEST_F(WatcherTest, RecursiveSetupOfAWideTree) {
  auto rel = make_wide_tree(root, 40);
  Watcher w;
  std::vector<Warning> warnings;
  w.on_warning([&](const Warning& x) { warnings.push_back(x); });
  WatchId rid = w.add(root, opts(IN_CREATE, kTrack));
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(w.path(rid), watched(""));
  EXPECT_EQ(w.watch_count(), rel.size() + 1);
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), rel.size() + 1);
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << join(table_paths(w));
  // Every parent link is right: each node's parent renders as its path minus the last name.
  table_of(w).for_each([&](WatchId id) {
    if (id == rid) return;
    std::string p = w.path(id);
    std::string parent = p.substr(0, p.rfind('/', p.size() - 2) + 1);
    EXPECT_EQ(w.path(table_of(w).parent(id)), parent) << p;
    EXPECT_EQ(table_of(w).find_child(table_of(w).parent(id), table_of(w).name(id)), id) << p;
  });
  for (const auto& r : rel) create_file(root + "/" + r + "/probe");
  std::vector<Rec> ev;
  std::multiset<std::string> got;
  collect_until(w, ev, [&](const std::vector<Rec>& v) {
    if (!v.empty() && v.back().name == "probe") got.insert(v.back().path);
    return got.size() >= rel.size();
  });
  std::multiset<std::string> want;
  for (const auto& r : rel) want.insert(watched(r));
  EXPECT_EQ(got, want);
}

TEST_F(WatcherTest, SetupOrderNumbersAreAPostOrder) {
  // order() numbers ties the way the reference's wds do: post-order, one subtree after another.
  make_wide_tree(root, 24);
  WatcherOptions numbered;
  numbered.creation_order = true;
  Watcher w(numbered);
  WatchId rid = w.add(root, opts(IN_CREATE, kRecursive));
  const WatchTable& t = table_of(w);
  std::set<std::uint32_t> seen;
  // Returns the [min, max] of the order numbers in id's subtree, checking it along the way.
  std::function<std::pair<std::uint32_t, std::uint32_t>(WatchId, std::size_t&)> visit =
      [&](WatchId id, std::size_t& size) -> std::pair<std::uint32_t, std::uint32_t> {
    std::uint32_t own = t.order(id);
    EXPECT_TRUE(seen.insert(own).second) << "order " << own << " twice (" << w.path(id) << ")";
    std::uint32_t lo = own, hi = own;
    std::size_t n = 1;
    t.for_each_child(id, [&](WatchId c) {
      std::size_t cn = 0;
      auto [clo, chi] = visit(c, cn);
      EXPECT_LT(chi, own) << w.path(c) << " numbered after its parent";
      lo = std::min(lo, clo);
      hi = std::max(hi, chi);
      n += cn;
    });
    // A subtree's numbers are contiguous: no other subtree's numbers fall in between.
    EXPECT_EQ(hi - lo + 1, n) << "subtree of " << w.path(id) << " is not numbered contiguously";
    size = n;
    return {lo, hi};
  };
  std::size_t n = 0;
  auto [lo, hi] = visit(rid, n);
  EXPECT_EQ(n, w.watch_count());
  EXPECT_EQ(hi, t.order(rid));
  EXPECT_EQ(hi - lo + 1, n);
}

TEST_F(WatcherTest, SetupWhileTheTreeChanges) {
  // Directories appear all over a wide tree while add() walks it: every one ends up watched.
  make_wide_tree(root, 32);
  std::atomic<bool> done{false};
  std::atomic<int> made{0};
  std::thread maker([&] {
    for (int i = 0; !done.load() || i < 200; ++i) {
      std::string d = root + "/t" + std::to_string(i % 32) + "/new" + std::to_string(i);
      if (::mkdir(d.c_str(), 0755) == 0) ++made;
      ::mkdir((d + "/inner").c_str(), 0755);
    }
  });
  Watcher w;
  w.add(root, opts(IN_CREATE, kTrack));
  done = true;
  maker.join();
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev, 50);
  pump_until(
      w, ev, [&] { return table_paths(w) == disk_dirs(root); }, 5s);
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << "made " << made.load();
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), w.watch_count());
}

TEST_F(WatcherTest, ExclusionsInAWideTree) {
  auto rel = make_wide_tree(root, 20);
  Watcher w;
  w.add(root, opts(IN_CREATE, kRecursive, {root + "/t3", root + "/t7/s1/", root + "/t11/s0/deep"}));
  auto want = disk_dirs(root);
  for (const auto& x : {"t3/", "t3/s0/", "t3/s0/deep/", "t3/s1/", "t3/s1/deep/", "t3/s2/", "t3/s2/deep/", "t7/s1/",
                        "t7/s1/deep/", "t11/s0/deep/"})
    EXPECT_EQ(want.erase(root + "/" + x), 1u) << x;
  EXPECT_EQ(table_paths(w), want) << join(table_paths(w));
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), want.size());
}

TEST_F(WatcherTest, NonRecursiveWatchesOnlyTheOperand) {
  mkdirs({"a/b"});
  Watcher w;
  WatchId id = w.add(root, opts(IN_CREATE));
  EXPECT_EQ(w.watch_count(), 1u);
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), 1u);
  create_file(disk("a/x"));
  create_file(disk("a/b/y"));
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  ASSERT_EQ(ev.size(), 1u) << describe(ev);
  EXPECT_EQ(ev[0].watch, id);
  EXPECT_EQ(ev[0].path, watched(""));
  EXPECT_EQ(ev[0].mask, Mask{IN_CREATE});
  EXPECT_EQ(ev[0].wd, table_of(w).wd(id));
}

TEST_F(WatcherTest, TrackImpliesRecursive) {
  mkdirs({"a/b", "c"});
  Watcher w;
  w.add(root, opts(IN_CREATE, kTrack));
  EXPECT_EQ(w.watch_count(), 4u);
  EXPECT_EQ(table_paths(w), disk_dirs(root));
}

TEST_F(WatcherTest, FileOperandIsShownAsTyped) {
  std::string f = disk("file");
  testsupport::write_file(f, "x");
  Watcher w;
  WatchId id = w.add(f, opts(IN_MODIFY | IN_ATTRIB));
  EXPECT_EQ(w.path(id), f);
  testsupport::write_file(f, "more");
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return is_create(r.mask) || (r.mask & IN_MODIFY); }))
      << describe(ev);
  EXPECT_EQ(ev.back().path, f);
  EXPECT_EQ(ev.back().name, "");
  EXPECT_EQ(ev.back().watch, id);
}

TEST_F(WatcherTest, OperandSpellingIsKept) {
  mkdirs({"a/b"});
  for (std::string operand : {root + "//", root + "/.", root + "/", root + "/a/.."}) {
    SCOPED_TRACE(operand);
    Watcher w;
    WatchId id = w.add(operand, opts(IN_CREATE, kRecursive));
    std::string shown = operand.back() == '/' ? operand : operand + "/";
    EXPECT_EQ(w.path(id), shown);
    EXPECT_EQ(table_paths(w), (std::multiset<std::string>{shown, shown + "a/", shown + "a/b/"}));
    create_file(disk("a/b/f"));
    std::vector<Rec> ev;
    ASSERT_TRUE(collect_until_event(w, ev, named("f"))) << describe(ev);
    EXPECT_EQ(ev.back().path, shown + "a/b/");
    ::unlink(disk("a/b/f").c_str());
  }
}

TEST_F(WatcherTest, SecondSpellingOfOneDirectorySharesTheWatch) {
  Watcher w;
  WatchId first = w.add(root, opts(IN_CREATE));
  WatchId second = w.add(root + "/.", opts(IN_CREATE));
  EXPECT_EQ(first, second);
  EXPECT_EQ(w.watch_count(), 1u);
  EXPECT_EQ(w.path(first), root + "/");  // the first registered spelling wins
  create_file(disk("f"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("f"))) << describe(ev);
  EXPECT_EQ(ev.size(), 1u) << describe(ev);
  EXPECT_EQ(ev.back().path, root + "/");
}

TEST_F(WatcherTest, MissingOperandThrowsWatchError) {
  Watcher w;
  std::string missing = disk("missing");
  try {
    w.add(missing, opts(IN_ALL_EVENTS, kRecursive));
    FAIL() << "no exception";
  } catch (const WatchError& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_EQ(e.operand(), missing);
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  EXPECT_EQ(w.watch_count(), 0u);
}

TEST_F(WatcherTest, NextReturnsNulloptAtTheDeadline) {
  Watcher w;
  w.add(root, opts(IN_CREATE));
  auto t0 = Clock::now();
  auto e = w.next(t0 + 200ms);
  auto took = Clock::now() - t0;
  EXPECT_FALSE(e.has_value()) << describe(record(w, *e));
  EXPECT_FALSE(w.interrupted());
  EXPECT_GE(took, 190ms);
  EXPECT_LT(took, 10s);
  EXPECT_FALSE(w.next(Clock::now() - 1s).has_value());
  EXPECT_FALSE(has_pending(w));
  // And an event is then returned without waiting for the deadline.
  create_file(disk("f"));
  t0 = Clock::now();
  auto f = w.next(Clock::now() + 30s);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->name, "f");
  EXPECT_LT(Clock::now() - t0, 10s);
}

TEST_F(WatcherTest, PathOfNoWatchIsEmpty) {
  Watcher w;
  w.add(root, opts(IN_CREATE));
  EXPECT_EQ(w.path(kNoWatch), "");
  std::string out = "x";
  w.append_path(kNoWatch, out);
  EXPECT_EQ(out, "x");
}

void on_sigusr1(int) {}

TEST_F(WatcherTest, NextReportsASignalAsInterrupted) {
  Watcher w;
  w.add(root, opts(IN_CREATE));
  struct sigaction sa {
  }, old{};
  sa.sa_handler = on_sigusr1;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the wait must see EINTR
  ASSERT_EQ(::sigaction(SIGUSR1, &sa, &old), 0);
  pthread_t self = ::pthread_self();
  std::atomic<bool> returned{false};
  // Keep signalling this thread until next() gives up: a signal that lands before next() starts
  // waiting is simply handled and the next one interrupts the wait.
  std::thread poker([&] {
    while (!returned.load()) {
      ::pthread_kill(self, SIGUSR1);
      std::this_thread::sleep_for(20ms);
    }
  });
  auto t0 = Clock::now();
  auto e = w.next(Clock::now() + 30s);
  returned = true;
  poker.join();
  ::sigaction(SIGUSR1, &old, nullptr);
  EXPECT_FALSE(e.has_value());
  EXPECT_TRUE(w.interrupted());
  EXPECT_LT(Clock::now() - t0, 20s);
  // The next call works normally and clears the flag.
  create_file(disk("f"));
  auto f = w.next(Clock::now() + 30s);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->name, "f");
  EXPECT_FALSE(w.interrupted());
}

volatile sig_atomic_t g_usr2 = 0;
void on_sigusr2(int) { g_usr2 = 1; }

TEST_F(WatcherTest, WaitSigmaskDeliversASignalThatArrivedBeforeTheWait) {
  // The caller keeps SIGUSR2 blocked and lets it in only while next() waits: a signal sent before
  // next() is called must still end that wait (no lost wake-up).
  struct sigaction sa {
  }, old_sa{};
  sa.sa_handler = on_sigusr2;
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR2, &sa, &old_sa), 0);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &block, &old_mask), 0);
  sigset_t during_wait;
  ::pthread_sigmask(SIG_SETMASK, nullptr, &during_wait);
  sigdelset(&during_wait, SIGUSR2);
  WatcherOptions o;
  o.wait_sigmask = during_wait;
  {
    Watcher w(o);
    w.add(root, opts(IN_CREATE));
    g_usr2 = 0;
    ::pthread_kill(::pthread_self(), SIGUSR2);
    EXPECT_EQ(g_usr2, 0) << "blocked outside the wait";
    auto t0 = Clock::now();
    auto e = w.next(Clock::now() + 30s);
    EXPECT_FALSE(e.has_value());
    EXPECT_TRUE(w.interrupted());
    EXPECT_EQ(g_usr2, 1);
    EXPECT_LT(Clock::now() - t0, 10s);
    // Events are still delivered, and the mask outside next() is the caller's again.
    create_file(disk("f"));
    auto f = w.next(Clock::now() + 30s);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->name, "f");
    sigset_t now;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &now);
    EXPECT_EQ(sigismember(&now, SIGUSR2), 1);
  }
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGUSR2, &old_sa, nullptr);
}

TEST_F(WatcherTest, HasPendingSeesQueuedEvents) {
  Watcher w;
  w.add(root, opts(IN_CREATE));
  EXPECT_FALSE(has_pending(w));
  create_file(disk("f1"));
  create_file(disk("f2"));
  auto e1 = w.next(Clock::now() + 30s);
  ASSERT_TRUE(e1.has_value());
  EXPECT_EQ(e1->name, "f1");
  EXPECT_TRUE(has_pending(w));  // f2 is buffered or readable from the kernel right now
  auto e2 = w.next(Clock::now() + 30s);
  ASSERT_TRUE(e2.has_value());
  EXPECT_EQ(e2->name, "f2");
  EXPECT_FALSE(has_pending(w));
}

TEST_F(WatcherTest, IdleHandlerRunsBeforeEveryWaitAndNeverWhileEventsAreReady) {
  // Writers flush in on_idle: it must run before next() blocks (else a reader never sees the last
  // line), and not between events that are already there (else a burst is written piecemeal).
  Watcher w;
  w.add(root, opts(IN_CREATE | IN_DELETE, kTrack));
  int idle = 0;
  w.on_idle([&] {
    ++idle;
    return PollFd{};
  });
  EXPECT_FALSE(w.next(Clock::now() + 50ms).has_value());
  EXPECT_GE(idle, 1);  // it blocked, so it went idle first
  for (int i = 0; i < 50; ++i) create_file(disk("f" + std::to_string(i)));
  idle = 0;
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until(w, ev, [](const std::vector<Rec>& v) { return v.size() == 50; })) << describe(ev);
  // Before the first read next() may go idle once (its last read had emptied the queue, so it
  // polls instead of reading again), but never between the events of one batch.
  EXPECT_LE(idle, 1) << "the 50 events were queued before the first next(): no wait between them";
  // A new directory's scan comes from next() too: a directory whose reports are all synthetic
  // must still be followed by an idle call before the wait.
  do_mkdir(disk("n"));
  create_file(disk("n/inside"));
  idle = 0;
  ev.clear();
  ASSERT_TRUE(collect_until_event(w, ev, named("inside"))) << describe(ev);
  EXPECT_FALSE(w.next(Clock::now() + 50ms).has_value());
  EXPECT_GE(idle, 1);
}

TEST_F(WatcherTest, IdleHandlerDescriptorIsWaitedForBesideTheKernel) {
  // A writer with bytes left for a full pipe asks next() to wait for its descriptor too: when it
  // is ready, the handler runs again (and writes more), and next() goes on waiting for events.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
  libwatch::Fd rd(p[0]), wr(p[1]);
  Watcher w;
  w.add(root, opts(IN_CREATE));
  int idle = 0;
  bool drained = false;
  w.on_idle([&]() -> PollFd {
    ++idle;
    char c;
    if (::read(rd.get(), &c, 1) == 1) drained = true;
    return drained ? PollFd{} : PollFd{.fd = rd.get(), .events = POLLIN};
  });
  EXPECT_FALSE(w.next(Clock::now() + 20ms).has_value());
  const int before = idle;
  ASSERT_EQ(::write(wr.get(), "x", 1), 1);
  create_file(disk("f"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("f"))) << describe(ev);
  EXPECT_FALSE(w.next(Clock::now() + 20ms).has_value());
  EXPECT_TRUE(drained);
  EXPECT_GT(idle, before);
}

// Bytes the kernel still holds for the watcher (inotify(7), FIONREAD).
int kernel_queued(const Watcher& w) {
  int n = -1;
  EXPECT_EQ(::ioctl(kernel_fd(w), FIONREAD, &n), 0) << std::strerror(errno);
  return n;
}

// A pipe holding a byte: a descriptor that wait_ready finds ready at once (the full pipe that has
// room again).
struct ReadyPipe {
  libwatch::Fd read, write;
};
ReadyPipe ready_pipe() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  ReadyPipe r{.read = libwatch::Fd(p[0]), .write = libwatch::Fd(p[1])};
  if (::write(r.write.get(), "x", 1) != 1) throw std::system_error(errno, std::generic_category(), "write");
  return r;
}

TEST_F(WatcherTest, WaitReadyReadsTheKernelBeforeTheDescriptorIsReady) {
  // A writer waiting for a full pipe waits in wait_ready: what the kernel queued meanwhile is read
  // into our queue first (a pipe holding a byte stands for the pipe that has room again).
  const ReadyPipe ready = ready_pipe();
  Watcher w;
  w.add(root, opts(IN_CREATE));
  for (int i = 0; i < 100; ++i) create_file(disk("f" + std::to_string(i)));
  ASSERT_GT(kernel_queued(w), 0);
  EXPECT_TRUE(w.wait_ready(PollFd{.fd = ready.read.get(), .events = POLLIN}));
  EXPECT_EQ(kernel_queued(w), 0);
  EXPECT_GT(libwatch::detail::Inspect::queued_bytes(w), 0u);
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until(w, ev, [](const std::vector<Rec>& v) { return v.size() == 100; })) << describe(ev);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(ev[static_cast<std::size_t>(i)].name, "f" + std::to_string(i));
}

TEST_F(WatcherTest, WaitReadyLeavesTheKernelQueueOnceTheBudgetIsSpent) {
  // 4,000 events (128,000 bytes) and a budget of one byte: one read, then the wait is for the
  // descriptor alone (no loop on a kernel queue it may not read), and the rest stays queued.
  const ReadyPipe ready = ready_pipe();
  WatcherOptions o;
  o.queue_bytes = 1;
  Watcher w(o);
  w.add(root, opts(IN_CREATE));
  for (int i = 0; i < 4000; ++i) create_file(disk("file-" + std::to_string(10000 + i)));
  EXPECT_TRUE(w.wait_ready(PollFd{.fd = ready.read.get(), .events = POLLIN}));
  EXPECT_GT(libwatch::detail::Inspect::queued_bytes(w), 0u);
  EXPECT_GT(kernel_queued(w), 0);
}

TEST_P(BackendTest, NewDirectoryTreeIsReportedInOrder) {
  // Everything below `a` exists before the watcher sees a's CREATE: the exact sequence is the
  // kernel's CREATE of a, then the scan's reports, parents before children.
  Watcher w(backend_options());
  WatchId rid = w.add(root, opts(IN_CREATE, kTrack));
  mkdir_p(disk("a/b/c"));
  create_file(disk("a/b/c/f"));
  create_file(disk("a/g"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until(w, ev, [](const std::vector<Rec>& v) { return v.size() >= 5; })) << describe(ev);
  create_file(disk("sentinel"));
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  ASSERT_EQ(ev.size(), 6u) << describe(ev);
  EXPECT_EQ(ev[0].watch, rid);
  EXPECT_EQ(ev[0].mask, Mask{IN_CREATE | IN_ISDIR});
  EXPECT_EQ(ev[0].name, "a");
  EXPECT_FALSE(ev[0].synthetic);
  // The scan of a lists b and g in directory order; b's subtree follows b.
  std::vector<std::string> rest;
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_TRUE(ev[i].synthetic) << describe(ev[i]);
    EXPECT_EQ(ev[i].cookie, 0u);
    rest.push_back(ev[i].full() + (is_dir(ev[i].mask) ? "/" : ""));
  }
  auto pos = [&](const std::string& x) { return std::find(rest.begin(), rest.end(), x) - rest.begin(); };
  for (const auto& x : {"a/b/", "a/g", "a/b/c/", "a/b/c/f"}) EXPECT_LT(pos(disk(x)), 4) << x << "\n" << describe(ev);
  EXPECT_LT(pos(disk("a/b/")), pos(disk("a/b/c/")));
  EXPECT_LT(pos(disk("a/b/c/")), pos(disk("a/b/c/f")));
  EXPECT_EQ(ev[5].name, "sentinel");
  EXPECT_EQ(w.watch_count(), 4u);
}

TEST_F(WatcherTest, DestructionClosesTheInotifyFd) {
  int fd = -1;
  {
    Watcher w;
    w.add(root, opts(IN_CREATE));
    fd = kernel_fd(w);
    ASSERT_GE(fd, 0);
    create_file(disk("f"));  // an event left unread
  }
  errno = 0;
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);
  EXPECT_EQ(errno, EBADF);
}

TEST_F(WatcherTest, DestructionWithAFullQueueDoesNotHang) {
  // The reader thread is blocked on a full in-process queue when the Watcher goes away.
  mkdirs({"fill"});
  auto res = run_in_child(
      [&](int out) {
        {
          Watcher w(with_queue_bytes(4096));
          w.add(root, opts(IN_MODIFY, kRecursive));
          int a = ::open(disk("fill/a").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
          int b = ::open(disk("fill/b").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
          for (int i = 0; i < 20000; ++i) [[maybe_unused]] auto n = ::pwrite(i % 2 ? b : a, "x", 1, 0);
          ::close(a);
          ::close(b);
          // Let the reader run into the bound: wait until it has taken something from the kernel.
          auto until = Clock::now() + 10s;
          while (Clock::now() < until && !has_pending(w)) std::this_thread::sleep_for(1ms);
          write_line(out, "destroying");
        }
        write_line(out, "destroyed");
      },
      30s);
  EXPECT_FALSE(res.timed_out) << "the destructor hung:\n" << res.output;
  EXPECT_EQ(lines_of(res.output), (std::vector<std::string>{"destroying", "destroyed"})) << res.output;
}

// ---------------------------------------------------------------------------------------------
// Renames inside the tree

TEST_P(BackendTest, FileRenamePairsByCookie) {
  create_file(disk("f"));
  Watcher w(backend_options());
  WatchId id = w.add(root, opts(IN_MOVE, kTrack));
  do_rename(disk("f"), disk("g"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return is_move_to(r.mask); })) << describe(ev);
  ASSERT_EQ(ev.size(), 2u) << describe(ev);
  EXPECT_EQ(ev[0].mask, Mask{IN_MOVED_FROM});
  EXPECT_EQ(ev[0].name, "f");
  EXPECT_EQ(ev[1].mask, Mask{IN_MOVED_TO});
  EXPECT_EQ(ev[1].name, "g");
  EXPECT_NE(ev[0].cookie, 0u);
  EXPECT_EQ(ev[0].cookie, ev[1].cookie);
  EXPECT_EQ(ev[0].watch, id);
  EXPECT_EQ(ev[1].watch, id);
}

std::string chain(int depth) {
  std::string s;
  for (int i = 1; i <= depth; ++i) s += (i > 1 ? "/l" : "l") + std::to_string(i);
  return s;
}

TEST_P(BackendTest, RenameDeepSubtreeThenCreateInDeepest) {
  const std::string deep = chain(9);  // l1/l2/.../l9
  mkdir_p(disk("x/" + deep));
  Watcher w(backend_options());
  WatchId rid = w.add(root, opts(IN_CREATE, kTrack));
  ASSERT_EQ(w.watch_count(), 11u);
  // No reading in between: the create in the deepest directory is queued right behind the move.
  do_rename(disk("x"), disk("y"));
  create_file(disk("y/" + deep + "/new"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("new"))) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("y/" + deep)) << describe(ev);
  EXPECT_TRUE(is_create(ev.back().mask));
  long from = find_first(ev, [](const Rec& r) { return is_dir_move_from(r.mask) && r.name == "x"; });
  long to = find_first(ev, [](const Rec& r) { return is_dir_move_to(r.mask) && r.name == "y"; });
  ASSERT_GE(from, 0) << describe(ev);
  ASSERT_GE(to, 0) << describe(ev);
  EXPECT_LT(from, to);
  EXPECT_EQ(ev[from].watch, rid);
  EXPECT_EQ(ev[to].watch, rid);
  EXPECT_NE(ev[from].cookie, 0u);
  EXPECT_EQ(ev[from].cookie, ev[to].cookie);
  // The whole table follows, and a create at mid depth is reported with the new path too.
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << join(table_paths(w));
  EXPECT_EQ(w.watch_count(), 11u);
  create_file(disk("y/l1/l2/mid"));
  ASSERT_TRUE(collect_until_event(w, ev, named("mid"))) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("y/l1/l2"));
  for (const auto& r : ev) EXPECT_EQ(r.path.find("/x/"), std::string::npos) << describe(r);
}

TEST_P(BackendTest, RenameDeepSubtreeToAnotherParent) {
  const std::string deep = chain(5);
  mkdir_p(disk("x/" + deep));
  mkdirs({"p/q"});
  Watcher w(backend_options());
  w.add(root, opts(IN_CREATE, kTrack));
  do_rename(disk("x"), disk("p/q/x2"));
  create_file(disk("p/q/x2/" + deep + "/new"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("new"))) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("p/q/x2/" + deep));
  long to = find_first(ev, [](const Rec& r) { return is_dir_move_to(r.mask) && r.name == "x2"; });
  ASSERT_GE(to, 0) << describe(ev);
  EXPECT_EQ(ev[to].path, watched("p/q"));
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << join(table_paths(w));
  EXPECT_EQ(kernel_marks(w), w.watch_count());
}

TEST_P(BackendTest, RenameTwiceBeforeReading) {
  mkdir_p(disk("x/l1/l2"));
  Watcher w(backend_options());
  w.add(root, opts(IN_CREATE, kTrack));
  do_rename(disk("x"), disk("y"));
  do_rename(disk("y"), disk("z"));
  do_rename(disk("z/l1"), disk("z/m1"));
  create_file(disk("z/m1/l2/f"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("f"))) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("z/m1/l2"));
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << join(table_paths(w));
}

TEST_F(WatcherTest, RenameOverAnEmptyDirectory) {
  // rename(2) replaces an empty target directory: its watch goes (IN_IGNORED), the source's
  // subtree takes its name.
  mkdirs({"x/s", "y"});
  Watcher w;
  w.add(root, opts(IN_CREATE, kTrack));
  do_rename(disk("x"), disk("y"));
  create_file(disk("y/s/f"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("f"))) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("y/s"));
  ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 3; })) << w.watch_count() << "\n"
                                                                       << join(table_paths(w));
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << join(table_paths(w));
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), 3u);
}

TEST_F(WatcherTest, NewDirectoryWhoseParentIsRenamedBeforeItIsSeen) {
  // mkdir p/new, then mv p q, both before the watcher reads: by the time it handles the CREATE of
  // `new`, the path it was reported under (p/new) no longer exists. The directory is in the tree
  // all the same (as q/new) and must be watched, and what is inside it reported.
  mkdirs({"p"});
  Watcher w;
  w.add(root, opts(IN_CREATE, kTrack));
  do_mkdir(disk("p/new"));
  do_rename(disk("p"), disk("q"));
  create_file(disk("q/new/f"));
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  ASSERT_TRUE(pump_until(
      w, ev, [&] { return table_paths(w) == disk_dirs(root); }, 5s))
      << "table:\n"
      << join(table_paths(w)) << "disk:\n"
      << join(disk_dirs(root)) << describe(ev);
  create_file(disk("q/new/later"));
  ASSERT_TRUE(collect_until_event(w, ev, named("later"), 5s)) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("q/new"));
  EXPECT_GE(find_first(ev, [&](const Rec& r) { return r.name == "f" && r.path == watched("q/new"); }), 0)
      << describe(ev);
}

TEST_F(WatcherTest, StalePathInABacklogDoesNotMisattributeADirectory) {
  // mkdir p/n; mv p q; mkdir p; mkdir p/n -- all before the watcher reads. When it handles the
  // first CREATE n, "p/n" names the second directory, not the one the event was about.
  mkdirs({"p"});
  Watcher w;
  w.add(root, opts(IN_CREATE, kTrack));
  do_mkdir(disk("p/n"));
  do_rename(disk("p"), disk("q"));
  do_mkdir(disk("p"));
  do_mkdir(disk("p/n"));
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  pump_until(
      w, ev, [&] { return table_paths(w) == disk_dirs(root); }, 5s);
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << "table:\n" << join(table_paths(w));
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), w.watch_count());
  create_file(disk("p/n/in_p"));
  create_file(disk("q/n/in_q"));
  collect_until(
      w, ev,
      [](const std::vector<Rec>& v) { return find_first(v, named("in_p")) >= 0 && find_first(v, named("in_q")) >= 0; },
      5s);
  long in_p = find_first(ev, named("in_p"));
  long in_q = find_first(ev, named("in_q"));
  ASSERT_GE(in_p, 0) << describe(ev);
  EXPECT_EQ(ev[in_p].path, watched("p/n")) << describe(ev);
  ASSERT_GE(in_q, 0) << "q/n is not watched\n" << describe(ev);
  EXPECT_EQ(ev[in_q].path, watched("q/n")) << describe(ev);
}

TEST_F(WatcherTest, WatchedDirectoryMovedIntoANewDirectoryStaysWatched) {
  // mkdir n; mv x n/x before the watcher reads: the kernel reports CREATE n and a MOVED_FROM x
  // whose MOVED_TO never comes (n had no watch yet). The scan of n finds x, already watched: x
  // has not left the tree, it is now n/x, and it must stay watched under that name.
  mkdirs({"x/s"});
  Watcher w;
  std::vector<std::string> removed;
  w.on_remove([&](WatchId id) { removed.push_back(w.path(id)); });
  w.add(root, opts(IN_CREATE, kTrack));
  do_mkdir(disk("n"));
  do_rename(disk("x"), disk("n/x"));
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  // Give a move-out verdict time to happen (it has no event of its own): the grace period is
  // 20 ms by default, so a few 50 ms slices of next() cover it.
  pump_until(
      w, ev, [&] { return false; }, 300ms);
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << "table:\n" << join(table_paths(w)) << describe(ev);
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), w.watch_count());
  EXPECT_TRUE(removed.empty()) << removed.size() << " removed, first " << removed[0];
  create_file(disk("n/x/s/f"));
  ASSERT_TRUE(collect_until_event(w, ev, named("f"), 5s)) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("n/x/s"));
}

// ---------------------------------------------------------------------------------------------
// Moves across the tree's boundary

TEST_P(BackendTest, MoveOutOfTreeStopsEvents) {
  mkdirs({"x/s1/s2", "keep"});
  mkdir_p(tmp / "out");
  Watcher w(backend_options());
  std::vector<std::string> removed;
  w.on_remove([&](WatchId id) { removed.push_back(w.path(id)); });
  WatchId rid = w.add(root, opts(IN_CREATE, kTrack));
  WatchId keep = table_of(w).find_child(rid, "keep");
  ASSERT_NE(keep, kNoWatch);
  ASSERT_EQ(w.watch_count(), 5u);

  do_rename(disk("x"), tmp / "out/x");
  std::vector<Rec> ev;
  // The move is taken as leaving once the grace period for a MOVED_TO has run out.
  ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 2; })) << "watch_count " << w.watch_count() << "\n"
                                                                       << join(table_paths(w)) << describe(ev);
  EXPECT_GE(find_first(ev, [](const Rec& r) { return is_dir_move_from(r.mask) && r.name == "x"; }), 0) << describe(ev);
  EXPECT_EQ(std::multiset<std::string>(removed.begin(), removed.end()),
            (std::multiset<std::string>{watched("x"), watched("x/s1"), watched("x/s1/s2")}));
  EXPECT_EQ(table_paths(w), disk_dirs(root));
  EXPECT_EQ(kernel_marks(w), 2u);

  // Nothing more comes from the subtree that left.
  std::size_t mark = ev.size();
  create_file(tmp / "out/x/f1");
  create_file(tmp / "out/x/s1/s2/f2");
  do_mkdir(tmp / "out/x/s1/newdir");
  create_file(disk("sentinel"));
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  for (std::size_t i = mark; i < ev.size(); ++i) {
    EXPECT_TRUE(ev[i].watch == rid || ev[i].watch == keep) << describe(ev[i]);
    EXPECT_TRUE(ev[i].name != "f1" && ev[i].name != "f2" && ev[i].name != "newdir") << describe(ev[i]);
  }
  EXPECT_EQ(w.watch_count(), 2u);
}

// Events from inside a directory that has left the tree, read before the grace period for its
// MOVED_TO ran out: the rename queued its MOVED_TO (if any) right after the MOVED_FROM, so the
// directory is known to be gone, and what happens inside it is not shown under its old path.
TEST_F(WatcherTest, EventsFromADirectoryInTransitAreNotShownUnderItsOldPath) {
  mkdirs({"x/s1", "keep"});
  mkdir_p(tmp / "out");
  Watcher w;
  w.add(root, opts(IN_CREATE | IN_DELETE, kTrack));
  ASSERT_EQ(w.watch_count(), 4u);
  // Both before anything is read: the MOVED_FROM and the creations come in one read.
  do_rename(disk("x"), tmp / "out/x");
  create_file(tmp / "out/x/f1");
  create_file(tmp / "out/x/s1/f2");
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  for (const auto& r : ev) EXPECT_TRUE(r.name != "f1" && r.name != "f2") << describe(r);
  EXPECT_GE(find_first(ev, [](const Rec& r) { return is_dir_move_from(r.mask) && r.name == "x"; }), 0) << describe(ev);
  EXPECT_EQ(w.watch_count(), 2u) << join(table_paths(w));
  EXPECT_EQ(table_paths(w), disk_dirs(root));
}

// A consumer whose waits end late (a loaded machine; here a timer slack of 200 ms on this thread)
// must still find the verdict on a move out of the tree applied when next() returns at its
// deadline, if the grace period ran out before that deadline.
TEST_F(WatcherTest, MoveVerdictDueBeforeALateDeadlineIsApplied) {
  mkdirs({"x/s1"});
  mkdir_p(tmp / "out");
  Watcher w;
  w.add(root, opts(IN_CREATE, kTrack));
  ASSERT_EQ(w.watch_count(), 3u);
  do_rename(disk("x"), tmp / "out/x");
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return is_dir_move_from(r.mask) && r.name == "x"; }))
      << describe(ev);
  ASSERT_EQ(::prctl(PR_SET_TIMERSLACK, 200'000'000UL, 0, 0, 0), 0);
  const auto deadline = Clock::now() + 3 * std::chrono::milliseconds(20);  // three grace periods
  while (w.next(deadline)) {
  }
  ::prctl(PR_SET_TIMERSLACK, 0UL, 0, 0, 0);  // back to the default
  EXPECT_EQ(w.watch_count(), 1u) << join(table_paths(w));
}

TEST_P(BackendTest, MoveInIsWatchedAndScanned) {
  const std::string out = tmp / "out";
  mkdir_p(out + "/m/s1/s2");
  create_file(out + "/m/f1");
  create_file(out + "/m/s1/f2");
  create_file(out + "/m/s1/s2/f3");
  Watcher w(backend_options());
  WatchId rid = w.add(root, opts(IN_CREATE, kTrack));
  ASSERT_EQ(w.watch_count(), 1u);
  do_rename(out + "/m", disk("m"));

  struct Want {
    std::string path, name;
    bool dir;
  };
  const std::vector<Want> want = {
      {watched("m"), "f1", false},   {watched("m"), "s1", true},        {watched("m/s1"), "f2", false},
      {watched("m/s1"), "s2", true}, {watched("m/s1/s2"), "f3", false},
  };
  auto seen = [&](const std::vector<Rec>& v, const Want& x) {
    return find_first(v, [&](const Rec& r) { return r.path == x.path && r.name == x.name; }) >= 0;
  };
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until(w, ev, [&](const std::vector<Rec>& v) {
    for (const auto& x : want)
      if (!seen(v, x)) return false;
    return true;
  })) << describe(ev);

  long moved = find_first(ev, [](const Rec& r) { return is_dir_move_to(r.mask) && r.name == "m"; });
  ASSERT_GE(moved, 0) << describe(ev);
  EXPECT_EQ(ev[moved].watch, rid);
  EXPECT_FALSE(ev[moved].synthetic);
  for (const auto& x : want) {
    long i = find_first(ev, [&](const Rec& r) { return r.path == x.path && r.name == x.name; });
    SCOPED_TRACE(x.path + x.name);
    EXPECT_TRUE(ev[i].synthetic) << describe(ev[i]);  // it was there before the watch
    EXPECT_EQ(ev[i].cookie, 0u);
    EXPECT_EQ(ev[i].mask, x.dir ? Mask{IN_CREATE | IN_ISDIR} : Mask{IN_CREATE});
    // Parents before children: the event naming the directory comes before any event in it.
    EXPECT_GT(i, moved);
    if (x.dir) {
      long inside = find_first(ev, [&](const Rec& r) { return r.path.rfind(x.path + x.name + "/", 0) == 0; });
      EXPECT_LT(i, inside) << describe(ev);
    }
  }
  EXPECT_EQ(w.watch_count(), 4u);
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << join(table_paths(w));
  EXPECT_EQ(kernel_marks(w), 4u);

  // Later events inside are reported by the kernel with the right path.
  create_file(disk("m/s1/s2/later"));
  ASSERT_TRUE(collect_until_event(w, ev, named("later"))) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("m/s1/s2"));
  EXPECT_FALSE(ev.back().synthetic);
}

TEST_P(BackendTest, MoveOutAndBackInIsWatchedAgain) {
  mkdirs({"x/s1"});
  const std::string out = tmp / "out";
  mkdir_p(out);
  Watcher w(backend_options());
  w.add(root, opts(IN_CREATE, kTrack));
  do_rename(disk("x"), out + "/x");
  std::vector<Rec> ev;
  ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 1; })) << describe(ev);
  create_file(out + "/x/s1/while_out");
  do_rename(out + "/x", disk("back"));
  std::vector<Rec> ev2;
  ASSERT_TRUE(collect_until_event(w, ev2, named("while_out"))) << describe(ev2);
  EXPECT_EQ(ev2.back().path, watched("back/s1"));
  EXPECT_TRUE(ev2.back().synthetic);
  create_file(disk("back/s1/after"));
  ASSERT_TRUE(collect_until_event(w, ev2, named("after"))) << describe(ev2);
  EXPECT_EQ(ev2.back().path, watched("back/s1"));
  EXPECT_EQ(w.watch_count(), 3u);
  EXPECT_EQ(table_paths(w), disk_dirs(root));
  EXPECT_EQ(kernel_marks(w), 3u);
}

TEST_P(BackendTest, MovesOutAndInArePairedByCookieNotByOrder) {
  // mv r/x out/x; mv out/y r/y back to back: a MOVED_FROM followed by an unrelated MOVED_TO. The
  // reference relabels x as y; pairing by cookie keeps them apart.
  const std::string out = tmp / "out";
  mkdirs({"x/xs"});
  mkdir_p(out + "/y/ys");
  Watcher w(backend_options());
  std::vector<std::string> removed;
  w.on_remove([&](WatchId id) { removed.push_back(w.path(id)); });
  w.add(root, opts(IN_CREATE, kTrack));
  do_rename(disk("x"), out + "/x");
  do_rename(out + "/y", disk("y"));
  std::vector<Rec> ev;
  ASSERT_TRUE(pump_until(w, ev, [&] { return table_paths(w) == disk_dirs(root); }))
      << "table:\n"
      << join(table_paths(w)) << "disk:\n"
      << join(disk_dirs(root)) << describe(ev);
  long from = find_first(ev, [](const Rec& r) { return is_dir_move_from(r.mask) && r.name == "x"; });
  long to = find_first(ev, [](const Rec& r) { return is_dir_move_to(r.mask) && r.name == "y"; });
  ASSERT_GE(from, 0) << describe(ev);
  ASSERT_GE(to, 0) << describe(ev);
  EXPECT_NE(ev[from].cookie, ev[to].cookie);
  EXPECT_GE(find_first(ev, [&](const Rec& r) { return r.name == "ys" && r.path == watched("y") && r.synthetic; }), 0)
      << describe(ev);
  EXPECT_EQ(std::multiset<std::string>(removed.begin(), removed.end()),
            (std::multiset<std::string>{watched("x"), watched("x/xs")}));
  std::size_t mark = ev.size();
  create_file(out + "/x/xs/gone");
  create_file(disk("y/ys/here"));
  ASSERT_TRUE(collect_until_event(w, ev, named("here"))) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("y/ys"));
  for (std::size_t i = mark; i < ev.size(); ++i) EXPECT_NE(ev[i].name, "gone") << describe(ev[i]);
  EXPECT_EQ(kernel_marks(w), w.watch_count());
}

TEST_P(BackendTest, RootDeletedLeavesNoWatches) {
  mkdirs({"a"});
  Watcher w(backend_options());
  std::vector<std::string> removed;
  w.on_remove([&](WatchId id) { removed.push_back(w.path(id)); });
  w.add(root, opts(IN_CREATE | IN_DELETE | IN_DELETE_SELF, kTrack));
  do_rmdir(disk("a"));
  do_rmdir(root);
  std::vector<Rec> ev;
  // (on_remove() for a watch's IN_IGNORED comes at the call after the one that returned it.)
  ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 0 && removed.size() == 2; })) << describe(ev);
  EXPECT_GE(find_first(ev, [&](const Rec& r) { return is_delete_self(r.mask) && r.path == watched(""); }), 0)
      << describe(ev);
  EXPECT_EQ(std::multiset<std::string>(removed.begin(), removed.end()),
            (std::multiset<std::string>{watched(""), watched("a")}));
  EXPECT_EQ(kernel_marks(w), 0u);
  EXPECT_FALSE(w.next(Clock::now() + 100ms).has_value());
}

TEST_F(WatcherTest, OneshotWatchGoesAfterItsEvent) {
  std::string f = disk("file");
  create_file(f);
  Watcher w;
  WatchId id = w.add(f, opts(IN_ATTRIB | IN_ONESHOT));
  ASSERT_EQ(w.watch_count(), 1u);
  ASSERT_EQ(::chmod(f.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(f.c_str(), 0640), 0);
  std::vector<Rec> ev;
  ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 0; })) << describe(ev);
  ASSERT_GE(ev.size(), 1u);
  EXPECT_EQ(ev[0].watch, id);
  EXPECT_EQ(ev[0].path, f);
  EXPECT_TRUE(ev[0].mask & IN_ATTRIB) << describe(ev[0]);
  EXPECT_EQ(count_if(ev, [](const Rec& r) { return (r.mask & IN_ATTRIB) != 0; }), 1u) << describe(ev);
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), 0u);
}

TEST_F(WatcherTest, DirectorySwappedUnderOneName) {
  // The deploy pattern: mv current ../old; mv new current. The old tree leaves (its watches go),
  // the new one arrives under the same name (watched and scanned).
  const std::string out = tmp / "out";
  mkdirs({"current/old_sub"});
  mkdir_p(out + "/new/new_sub");
  Watcher w;
  std::vector<std::string> removed;
  w.on_remove([&](WatchId id) { removed.push_back(w.path(id)); });
  w.add(root, opts(IN_CREATE, kTrack));
  do_rename(disk("current"), out + "/old");
  do_rename(out + "/new", disk("current"));
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  pump_until(
      w, ev, [&] { return removed.size() >= 2; }, 5s);
  pump_until(
      w, ev, [&] { return false; }, 300ms);  // room for a wrong move-out verdict
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << "table:\n" << join(table_paths(w)) << describe(ev);
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), w.watch_count());
  EXPECT_EQ(std::multiset<std::string>(removed.begin(), removed.end()),
            (std::multiset<std::string>{watched("current"), watched("current/old_sub")}));
  std::size_t mark = ev.size();
  create_file(out + "/old/old_sub/gone");
  create_file(disk("current/new_sub/here"));
  ASSERT_TRUE(collect_until_event(w, ev, named("here"), 5s)) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("current/new_sub"));
  for (std::size_t i = mark; i < ev.size(); ++i) EXPECT_NE(ev[i].name, "gone") << describe(ev[i]);
}

TEST_F(WatcherTest, InOutInUnderOneNameBeforeReading) {
  // mv i0 r/b; mv r/b out; mv i1 r/b, before the watcher reads. When it handles the first
  // MOVED_TO b, "b" already names the last directory; the MOVED_FROM b that follows is about the
  // first one, which is gone. The last one must end up watched.
  const std::string out = tmp / "out";
  mkdir_p(out + "/i0/s0");
  mkdir_p(out + "/i1/s1");
  Watcher w;
  w.add(root, opts(IN_CREATE, kTrack));
  do_rename(out + "/i0", disk("b"));
  do_rename(disk("b"), out + "/o");
  do_rename(out + "/i1", disk("b"));
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  pump_until(
      w, ev, [&] { return false; }, 300ms);  // room for a wrong move-out verdict
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << "table:\n" << join(table_paths(w)) << describe(ev);
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), w.watch_count());
  create_file(disk("b/s1/here"));
  ASSERT_TRUE(collect_until_event(w, ev, named("here"), 5s)) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("b/s1"));
}

// ---------------------------------------------------------------------------------------------
// Delete, re-create, rename (the reference keeps the old name here)

TEST_F(WatcherTest, DeleteRecreateRenameStepByStep) {
  mkdirs({"x"});
  Watcher w;
  w.add(root, opts(IN_CREATE | IN_DELETE, kTrack));
  std::vector<Rec> ev;
  do_rmdir(disk("x"));
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return is_delete(r.mask) && r.name == "x"; }))
      << describe(ev);
  ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 1; })) << describe(ev);
  do_mkdir(disk("x"));
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return is_dir_create(r.mask) && r.name == "x"; }))
      << describe(ev);
  ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 2; })) << describe(ev);
  do_rename(disk("x"), disk("y"));
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return is_dir_move_to(r.mask) && r.name == "y"; }))
      << describe(ev);
  create_file(disk("y/f"));
  ASSERT_TRUE(collect_until_event(w, ev, named("f"))) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("y"));
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << join(table_paths(w));
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), 2u);
}

TEST_F(WatcherTest, DeleteRecreateRenameBeforeReading) {
  mkdirs({"x"});
  Watcher w;
  w.add(root, opts(IN_CREATE | IN_DELETE, kTrack));
  do_rmdir(disk("x"));
  do_mkdir(disk("x"));
  do_rename(disk("x"), disk("y"));
  create_file(disk("y/f"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("f"))) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("y")) << describe(ev);
  create_file(disk("sentinel"));
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  for (const auto& r : ev)
    if (r.name == "f") {
      EXPECT_EQ(r.path, watched("y")) << describe(r);
    }
  ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 2; })) << join(table_paths(w));
  EXPECT_EQ(table_paths(w), disk_dirs(root)) << join(table_paths(w));
  create_file(disk("y/g"));
  ASSERT_TRUE(collect_until_event(w, ev, named("g"))) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("y"));
}

// ---------------------------------------------------------------------------------------------
// IN_IGNORED

TEST_P(BackendTest, IgnoredRemovesTheEntry) {
  mkdirs({"a/b", "c"});
  Watcher w(backend_options());
  std::vector<std::string> removed;
  w.on_remove([&](WatchId id) { removed.push_back(w.path(id)); });
  WatchId rid = w.add(root, opts(IN_CREATE | IN_DELETE, kTrack));
  WatchId a = table_of(w).find_child(rid, "a");
  ASSERT_NE(a, kNoWatch);
  WatchId b = table_of(w).find_child(a, "b");
  ASSERT_NE(b, kNoWatch);
  int wd_a = table_of(w).wd(a), wd_b = table_of(w).wd(b);
  ASSERT_EQ(w.watch_count(), 4u);
  do_rmdir(disk("a/b"));
  do_rmdir(disk("a"));
  std::vector<Rec> ev;
  // (on_remove() for a watch's IN_IGNORED comes at the call after the one that returned it.)
  ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 2 && removed.size() == 2; })) << describe(ev);
  EXPECT_EQ(std::multiset<std::string>(removed.begin(), removed.end()),
            (std::multiset<std::string>{watched("a"), watched("a/b")}));
  EXPECT_EQ(table_of(w).find(wd_a), kNoWatch);
  EXPECT_EQ(table_of(w).find(wd_b), kNoWatch);
  EXPECT_EQ(table_of(w).find_child(rid, "a"), kNoWatch);
  EXPECT_EQ(table_of(w).size(), 2u);
  EXPECT_EQ(kernel_marks(w), 2u);
  EXPECT_EQ(table_paths(w), disk_dirs(root));
}

TEST_F(WatcherTest, CreateDeleteChurnDoesNotGrowTheTable) {
  Watcher w;
  w.add(root, opts(IN_CREATE | IN_DELETE, kTrack));
  std::vector<Rec> ev;
  auto cycle = [&] {
    ev.clear();
    do_mkdir(disk("c"));
    ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return is_dir_create(r.mask); })) << describe(ev);
    ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 2; })) << describe(ev);
    do_rmdir(disk("c"));
    ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return is_delete(r.mask); })) << describe(ev);
    ASSERT_TRUE(pump_until(w, ev, [&] { return w.watch_count() == 1; })) << describe(ev);
  };
  for (int i = 0; i < 20; ++i) ASSERT_NO_FATAL_FAILURE(cycle());
  std::size_t warm = table_of(w).memory_bytes();
  for (int i = 0; i < 500; ++i) ASSERT_NO_FATAL_FAILURE(cycle());
  EXPECT_EQ(table_of(w).size(), 1u);
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), 1u);
  EXPECT_LE(table_of(w).memory_bytes(), warm + 4096) << "after 20 cycles " << warm << " bytes";
}

// ---------------------------------------------------------------------------------------------
// Symbolic links

TEST_F(WatcherTest, SymlinksInsideTheTreeAreNotFollowed) {
  const std::string out = tmp / "out";
  mkdir_p(out + "/s");
  mkdirs({"a"});
  do_symlink(out, disk("link"));
  do_symlink(out + "/s", disk("a/link2"));
  Watcher w;
  WatchId rid = w.add(root, opts(IN_CREATE, kTrack));
  EXPECT_EQ(w.watch_count(), 2u);
  EXPECT_EQ(table_paths(w), (std::multiset<std::string>{watched(""), watched("a")}));
  create_file(out + "/x");
  create_file(out + "/s/y");
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  EXPECT_EQ(ev.size(), 1u) << describe(ev);

  // Links that appear later, directly and inside a new directory (found by its scan).
  do_symlink(out, disk("later"));
  do_mkdir(disk("n"));
  do_symlink(out, disk("n/inner"));
  ev.clear();
  ASSERT_TRUE(collect_until(w, ev, [](const std::vector<Rec>& v) {
    return find_first(v, named("later")) >= 0 && find_first(v, named("inner")) >= 0;
  })) << describe(ev);
  for (const auto& r : ev)
    if (r.name == "later" || r.name == "inner") {
      EXPECT_EQ(r.mask, Mask{IN_CREATE}) << describe(r);
    }
  EXPECT_EQ(ev[find_first(ev, named("inner"))].path, watched("n"));
  create_file(out + "/z");
  create_file(disk("sentinel2"));
  std::size_t mark = ev.size();
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel2"))) << describe(ev);
  for (std::size_t i = mark; i < ev.size(); ++i) EXPECT_NE(ev[i].name, "z") << describe(ev[i]);
  EXPECT_EQ(w.watch_count(), 3u);
  EXPECT_EQ(table_paths(w), (std::multiset<std::string>{watched(""), watched("a"), watched("n")}));
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), 3u);
  (void)rid;
}

TEST_F(WatcherTest, SymlinkOperandIsFollowedByDefault) {
  const std::string target = tmp / "target";
  const std::string link = tmp / "link";
  mkdir_p(target);
  do_symlink(target, link);
  Watcher w;
  WatchId id = w.add(link, opts(IN_CREATE | IN_ATTRIB));
  // As inotifywait: a '/' is appended only when lstat() says directory, so the link shows bare.
  EXPECT_EQ(w.path(id), link);
  create_file(target + "/f");
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("f"))) << describe(ev);
  EXPECT_EQ(ev.size(), 1u) << describe(ev);
  EXPECT_TRUE(is_create(ev.back().mask));
  EXPECT_EQ(ev.back().watch, id);
}

TEST_F(WatcherTest, SymlinkOperandWithDontFollowWatchesTheLink) {
  const std::string target = tmp / "target";
  const std::string link = tmp / "link";
  mkdir_p(target);
  do_symlink(target, link);
  Watcher w;
  WatchId id = w.add(link, opts(IN_CREATE | IN_ATTRIB, kDontFollow));
  EXPECT_EQ(w.path(id), link);
  create_file(target + "/f");  // not the watched inode: no event
  timespec now[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  must(::utimensat(AT_FDCWD, link.c_str(), now, AT_SYMLINK_NOFOLLOW), "utimensat link");
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return (r.mask & IN_ATTRIB) != 0; })) << describe(ev);
  ASSERT_EQ(ev.size(), 1u) << describe(ev);
  EXPECT_EQ(ev[0].name, "");
  EXPECT_EQ(ev[0].watch, id);
  EXPECT_EQ(ev[0].path, link);
}

TEST_F(WatcherTest, RecursiveSymlinkOperandIsOpenedAsADirectory) {
  const std::string target = tmp / "target";
  const std::string link = tmp / "link";
  mkdir_p(target + "/sub");
  do_symlink(target, link);
  for (bool dont_follow : {false, true}) {
    SCOPED_TRACE(dont_follow ? "dont_follow" : "follow");
    Watcher w;
    WatchId id = w.add(link, opts(IN_CREATE, kRecursive | (dont_follow ? kDontFollow : 0u)));
    EXPECT_EQ(w.path(id), link + "/");
    EXPECT_EQ(w.watch_count(), 2u);
    std::string f = "f" + std::to_string(dont_follow);
    create_file(target + "/sub/" + f);
    std::vector<Rec> ev;
    ASSERT_TRUE(collect_until_event(w, ev, named(f))) << describe(ev);
    EXPECT_EQ(ev.back().path, link + "/sub/");
  }
}

// ---------------------------------------------------------------------------------------------
// '@' exclusions

TEST_F(WatcherTest, ExclusionsPruneSubtrees) {
  mkdirs({"a/x", "b/y/z", "c/w", "cc", "d/e"});
  Watcher w;
  AddOptions o = opts(IN_CREATE, kRecursive);
  o.exclude = {root + "/b",            // pruned with its subtree
               root + "/c/",           // one trailing '/' is ignored
               root + "/./d",          // not the string the walk builds: no effect
               root + "/a/x/absent"};  // matches nothing
  w.add(root, o);
  EXPECT_EQ(table_paths(w), (std::multiset<std::string>{watched(""), watched("a"), watched("a/x"), watched("cc"),
                                                        watched("d"), watched("d/e")}))
      << join(table_paths(w));
  EXPECT_EQ(w.watch_count(), 6u);
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), 6u);
  create_file(disk("b/y/z/f"));
  create_file(disk("c/w/f"));
  create_file(disk("cc/sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  EXPECT_EQ(ev.size(), 1u) << describe(ev);
  EXPECT_EQ(ev.back().path, watched("cc"));
}

TEST_F(WatcherTest, ExclusionOfANestedDirectory) {
  mkdirs({"a/b/c", "a/b2"});
  Watcher w;
  AddOptions o = opts(IN_CREATE, kRecursive);
  o.exclude = {root + "/a/b"};
  w.add(root, o);
  EXPECT_EQ(table_paths(w), (std::multiset<std::string>{watched(""), watched("a"), watched("a/b2")}))
      << join(table_paths(w));
}

TEST_F(WatcherTest, ExclusionsAlsoPruneDirectoriesThatAppearLater) {
  // COMPATIBILITY.md D5: new directories are always watched under -r, but '@' exclusions still
  // prune. `rm -rf node_modules && npm install` must not bring node_modules into the watch.
  mkdirs({"src", "node_modules/pkg"});
  Watcher w;
  w.add(root, opts(IN_CREATE | IN_DELETE, kTrack, {root + "/node_modules"}));
  ASSERT_EQ(table_paths(w), (std::multiset<std::string>{watched(""), watched("src")}));
  testsupport::remove_all(disk("node_modules"));
  mkdir_p(disk("node_modules/pkg/lib"));
  do_rename(disk("src"), disk("src2"));
  mkdir_p(disk("moved/node_modules"));
  do_rename(disk("moved"), disk("src2/moved"));  // not excluded: only root/node_modules is
  create_file(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  pump_until(
      w, ev, [&] { return w.watch_count() == 4; }, 5s);
  // (The overflow repair already walks with the exclusions: without this, whether node_modules is
  // watched would depend on whether an overflow happened.)
  EXPECT_EQ(table_paths(w), (std::multiset<std::string>{watched(""), watched("src2"), watched("src2/moved"),
                                                        watched("src2/moved/node_modules")}))
      << join(table_paths(w));
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), w.watch_count());
}

// ---------------------------------------------------------------------------------------------
// Events for watch descriptors the table does not know

TEST_F(WatcherTest, EventsForUnknownWdsAreCountedAndTheirWatchRemoved) {
  const std::string out = tmp / "out";
  mkdir_p(out);
  Watcher w;
  WatchId rid = w.add(root, opts(IN_CREATE, kTrack));
  // A watch on the same inotify fd that the table knows nothing about.
  int stray = ::inotify_add_watch(kernel_fd(w), out.c_str(), IN_CREATE | IN_DELETE | IN_ATTRIB);
  ASSERT_GE(stray, 0) << std::strerror(errno);
  ASSERT_EQ(table_of(w).find(stray), kNoWatch);
  std::vector<Rec> ev;
  for (int round = 0; round < 3; ++round) {
    std::string tag = std::to_string(round);
    create_file(out + "/x" + tag);
    ::unlink((out + "/x" + tag).c_str());
    do_mkdir(out + "/d" + tag);
    create_file(disk("sentinel" + tag));
    std::size_t mark = ev.size();
    ASSERT_TRUE(collect_until_event(w, ev, named("sentinel" + tag))) << describe(ev);
    for (std::size_t i = mark; i < ev.size(); ++i) {
      EXPECT_EQ(ev[i].watch, rid) << describe(ev[i]);
      EXPECT_EQ(ev[i].name, "sentinel" + tag) << describe(ev[i]);
    }
  }
  // The first of its events was counted, removed the watch and repaired the tree; the rest of
  // them were news about a removed watch.
  EXPECT_EQ(w.stray_events(), 1u);
  EXPECT_EQ(w.watch_count(), 1u);
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), 1u);
  EXPECT_EQ(ev.back().path, watched(""));
}

// ---------------------------------------------------------------------------------------------
// Self-caused events (D14, hide_own_reads)

bool is_read_kind(Mask m) { return (m & (IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE)) != 0; }

TEST_P(BackendTest, SetupCausesNoEvents) {
  mkdirs({"a/b/c", "d", "e/f"});
  create_file(disk("a/file"));
  Watcher w(backend_options());
  w.add(root, opts(IN_ALL_EVENTS, kTrack));
  do_mkdir(disk("sentinel"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return is_create(r.mask) && r.name == "sentinel"; }))
      << describe(ev);
  EXPECT_EQ(ev.size(), 1u) << "the walk's own reads showed up as events:\n" << describe(ev);
}

TEST_P(BackendTest, ScanOfANewDirectoryDoesNotReportItsOwnReads) {
  Watcher w(backend_options());
  w.add(root, opts(IN_ALL_EVENTS, kTrack));
  do_mkdir(disk("n"));
  mkdir_p(disk("n/m"));
  create_file(disk("n/m/f"));
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until(w, ev, [](const std::vector<Rec>& v) { return find_first(v, named("f")) >= 0; }))
      << describe(ev);
  create_file(disk("sentinel"));
  ASSERT_TRUE(collect_until_event(w, ev, named("sentinel"))) << describe(ev);
  // On the new directories' own watches (empty name) nothing comes from our scan. (The parent's
  // watch may see OPEN/ACCESS/CLOSE_NOWRITE with the child's name: reading a directory always
  // tells its parent.)
  for (const auto& r : ev)
    EXPECT_FALSE(r.name.empty() && is_read_kind(r.mask)) << "self-caused: " << describe(r) << "\n" << describe(ev);
  // A filesystem mark drops every read of a directory by this process, the caller's too (watcher.hpp).
  if (GetParam() == BackendKind::fanotify_filesystem) return;
  // The caller's own reads of those directories are reported: the mask was upgraded.
  int fd = ::open(disk("n/m").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ASSERT_TRUE(collect_until_event(w, ev, [&](const Rec& r) {
    return r.path == watched("n/m") && r.name.empty() && (r.mask & IN_OPEN) && is_dir(r.mask);
  })) << describe(ev);
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendTest,
                         ::testing::Values(BackendKind::inotify, BackendKind::fanotify_inode,
                                           BackendKind::fanotify_filesystem),
                         backend_name);

}  // namespace
}  // namespace lwtest
