// Errors and limits with the real kernel: permission denied (as nobody), ENOSPC (in a user
// namespace with its own small max_inotify_watches), fd exhaustion, paths deeper than PATH_MAX.
// Checks that need other credentials or limits run in a forked child that reports its findings
// as text lines; the test process itself keeps root and the system limits untouched.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "helpers.hpp"

namespace lwtest {
namespace {

using namespace libwatch;
using testsupport::mkdir_p;

constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

const char* kind_name(Warning::Kind k) {
  switch (k) {
    case Warning::Kind::unreadable_subdir:
      return "unreadable_subdir";
    case Warning::Kind::new_directory:
      return "new_directory";
    case Warning::Kind::rescan_failed:
      return "rescan_failed";
  }
  return "?";
}

std::string warning_line(const Warning& w) {
  return std::string("warning ") + kind_name(w.kind) + " " + std::to_string(w.error) + " " + w.path;
}

bool has_line(const std::vector<std::string>& lines, const std::string& l) {
  for (const auto& x : lines)
    if (x == l) return true;
  return false;
}

std::vector<std::string> with_prefix(const std::vector<std::string>& lines, const std::string& p) {
  std::vector<std::string> out;
  for (const auto& x : lines)
    if (x.rfind(p, 0) == 0) out.push_back(x.substr(p.size()));
  return out;
}

void chown_tree(const std::string& root, uid_t u, gid_t g) {
  namespace fs = std::filesystem;
  ASSERT_EQ(::lchown(root.c_str(), u, g), 0);
  for (auto& e : fs::recursive_directory_iterator(root)) ASSERT_EQ(::lchown(e.path().c_str(), u, g), 0) << e.path();
}

// ---------------------------------------------------------------------------------------------
// Permission denied

// `extra` more top-level directories make the setup wide enough to be walked on several threads.
void permission_denied_case(WatcherTest& t, const std::string& root, const std::string& tmp_path, int extra);

TEST_F(WatcherTest, PermissionDeniedSubdirectoryWarnsAndTheRestIsWatched) {
  permission_denied_case(*this, root, tmp.path(), 0);
}

TEST_F(WatcherTest, PermissionDeniedSubdirectoryInAWideTree) { permission_denied_case(*this, root, tmp.path(), 12); }

void permission_denied_case(WatcherTest&, const std::string& root, const std::string& tmp_path, int extra) {
  auto disk = [&](const std::string& rel) { return root + "/" + rel; };
  auto watched = [&](const std::string& rel) { return rel.empty() ? root + "/" : root + "/" + rel + "/"; };
  for (const char* d : {"ok/deep", "locked/hidden", "z"}) mkdir_p(disk(d));
  std::multiset<std::string> want_paths{watched(""), watched("ok"), watched("ok/deep"), watched("z")};
  for (int i = 0; i < extra; ++i) {
    mkdir_p(disk("w" + std::to_string(i) + "/x"));
    want_paths.insert(watched("w" + std::to_string(i)));
    want_paths.insert(watched("w" + std::to_string(i) + "/x"));
  }
  const bool as_root = ::geteuid() == 0;
  if (as_root) {
    // Root ignores modes; the walk runs as nobody in a child, on a tree nobody owns.
    ASSERT_EQ(::chmod(tmp_path.c_str(), 0755), 0);
    ASSERT_NO_FATAL_FAILURE(chown_tree(root, kNobody, kNogroup));
  }
  ASSERT_EQ(::chmod(disk("locked").c_str(), 0), 0);

  auto res = run_in_child([&](int out) {
    if (as_root) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(kNogroup, kNogroup, kNogroup) != 0 ||
          ::setresuid(kNobody, kNobody, kNobody) != 0) {
        write_line(out, std::string("skip: cannot drop privileges: ") + std::strerror(errno));
        return;
      }
    }
    if (::access(disk("locked").c_str(), R_OK) == 0) {
      write_line(out, "skip: the locked directory is still readable (capabilities?)");
      return;
    }
    Watcher w;
    w.on_warning([&](const Warning& x) { write_line(out, warning_line(x)); });
    w.add(root, opts(IN_CREATE, kTrack));
    write_line(out, "count " + std::to_string(w.watch_count()));
    for (const auto& p : table_paths(w)) write_line(out, "path " + p);
    create_file(disk("ok/deep/x"));
    auto e = w.next(Clock::now() + 20s);
    if (e) write_line(out, "event " + describe(record(w, *e)));
    // The operand itself unreadable: that fails the operand.
    Watcher w2;
    try {
      w2.add(disk("locked"), opts(IN_CREATE, kRecursive));
      write_line(out, "error none");
    } catch (const WatchError& err) {
      write_line(out, "error " + std::to_string(err.code().value()) + " " + err.operand());
    }
  });
  ASSERT_FALSE(res.timed_out) << res.output;
  auto lines = lines_of(res.output);
  for (const auto& l : lines)
    if (l.rfind("skip: ", 0) == 0) GTEST_SKIP() << l;
  EXPECT_TRUE(with_prefix(lines, "exception").empty()) << res.output;
  EXPECT_TRUE(has_line(lines, "count " + std::to_string(want_paths.size()))) << res.output;
  auto paths = with_prefix(lines, "path ");
  EXPECT_EQ(std::multiset<std::string>(paths.begin(), paths.end()), want_paths) << res.output;
  auto warnings = with_prefix(lines, "warning ");
  ASSERT_EQ(warnings.size(), 1u) << res.output;
  EXPECT_EQ(warnings[0], "unreadable_subdir " + std::to_string(EACCES) + " " + watched("locked")) << res.output;
  auto events = with_prefix(lines, "event ");
  ASSERT_EQ(events.size(), 1u) << res.output;
  EXPECT_EQ(events[0].rfind(watched("ok/deep") + " CREATE x", 0), 0u) << res.output;
  EXPECT_TRUE(has_line(lines, "error " + std::to_string(EACCES) + " " + disk("locked"))) << res.output;
}

TEST_F(WatcherTest, OverflowRescanOfAnUnreadableRootWarns) {
  // A root that became unreadable while events were lost: the repair cannot walk it again.
  std::size_t q = 0;
  {
    std::ifstream in("/proc/sys/fs/inotify/max_queued_events");
    in >> q;
  }
  if (q == 0 || q > (std::size_t{4} << 20)) GTEST_SKIP() << "max_queued_events is " << q << ": too many events to fill";
  const std::string r2 = tmp / "r2";
  mkdir_p(r2 + "/sub");
  mkdirs({"fill"});
  testsupport::touch(disk("fill/ma"));
  testsupport::touch(disk("fill/mb"));
  const bool as_root = ::geteuid() == 0;
  if (as_root) {
    ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
    ASSERT_NO_FATAL_FAILURE(chown_tree(root, kNobody, kNogroup));
    ASSERT_NO_FATAL_FAILURE(chown_tree(r2, kNobody, kNogroup));
  }
  auto res = run_in_child(
      [&](int out) {
        if (as_root && (::setgroups(0, nullptr) != 0 || ::setresgid(kNogroup, kNogroup, kNogroup) != 0 ||
                        ::setresuid(kNobody, kNobody, kNobody) != 0)) {
          write_line(out, std::string("skip: cannot drop privileges: ") + std::strerror(errno));
          return;
        }
        Watcher w;
        w.on_warning([&](const Warning& x) { write_line(out, warning_line(x)); });
        w.add(root, opts(IN_CREATE | IN_MODIFY, kTrack));
        w.add(r2, opts(IN_CREATE | IN_MODIFY, kTrack));
        int a = ::open(disk("fill/ma").c_str(), O_WRONLY | O_CLOEXEC);
        int b = ::open(disk("fill/mb").c_str(), O_WRONLY | O_CLOEXEC);
        for (std::size_t i = 0; i < q + 1000; ++i)
          if (::pwrite(i % 2 ? b : a, "x", 1, 0) != 1) break;
        ::close(a);
        ::close(b);
        ::chmod(r2.c_str(), 0);
        if (::access(r2.c_str(), R_OK) == 0) {
          write_line(out, "skip: the root is still readable (capabilities?)");
          return;
        }
        std::vector<Rec> ev;
        bool overflow = collect_until_event(
            w, ev, [](const Rec& r) { return is_overflow(r.mask); }, 60s);
        write_line(out, overflow ? "overflow" : "no overflow");
        // Let the repair run: it has no event of its own, so wait until the table settles.
        pump_until(
            w, ev, [&] { return table_paths(w).count(r2 + "/sub/") == 0; }, 20s);
        for (const auto& p : table_paths(w)) write_line(out, "path " + p);
      },
      90s);
  ASSERT_FALSE(res.timed_out) << res.output;
  auto lines = lines_of(res.output);
  for (const auto& l : lines)
    if (l.rfind("skip: ", 0) == 0) GTEST_SKIP() << l;
  EXPECT_TRUE(with_prefix(lines, "exception").empty()) << res.output;
  EXPECT_TRUE(has_line(lines, "overflow")) << res.output;
  EXPECT_EQ(with_prefix(lines, "warning "),
            std::vector<std::string>{"rescan_failed " + std::to_string(EACCES) + " " + r2 + "/"})
      << res.output;
  // The readable root is intact.
  auto paths = with_prefix(lines, "path ");
  std::multiset<std::string> got(paths.begin(), paths.end());
  EXPECT_EQ(got.count(watched("")), 1u) << res.output;
  EXPECT_EQ(got.count(watched("fill")), 1u) << res.output;
}

// ---------------------------------------------------------------------------------------------
// ENOSPC: the kernel's own limit, made small for one user namespace (not the system's).

// In the child: a new user namespace (uid 0 mapped to our own uid 0, so the tree stays
// accessible) with max_inotify_watches = limit. Writes "skip: ..." when that is impossible here.
bool enter_limited_namespace(int out, int limit) {
  auto write_proc = [](const char* path, const std::string& text) {
    int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
  };
  // Our ids outside: inside the new namespace they read as the overflow id until mapped.
  std::string uid = std::to_string(::geteuid()), gid = std::to_string(::getegid());
  if (::unshare(CLONE_NEWUSER) != 0) {
    write_line(out, std::string("skip: unshare(CLONE_NEWUSER): ") + std::strerror(errno));
    return false;
  }
  if (!write_proc("/proc/self/setgroups", "deny") || !write_proc("/proc/self/uid_map", "0 " + uid + " 1") ||
      !write_proc("/proc/self/gid_map", "0 " + gid + " 1")) {
    write_line(out, std::string("skip: cannot map ids in the user namespace: ") + std::strerror(errno));
    return false;
  }
  if (!write_proc("/proc/sys/user/max_inotify_watches", std::to_string(limit))) {
    write_line(out, std::string("skip: cannot set max_inotify_watches in the namespace: ") + std::strerror(errno));
    return false;
  }
  return true;
}

TEST_F(WatcherTest, EnospcDuringSetupIsAWatchErrorNamingThePath) {
  mkdirs({"a/a1", "a/a2", "b/b1", "b/b2", "c"});
  auto res = run_in_child([&](int out) {
    if (!enter_limited_namespace(out, 4)) return;
    Watcher w;
    w.on_warning([&](const Warning& x) { write_line(out, warning_line(x)); });
    try {
      w.add(root, opts(IN_CREATE, kRecursive));
      write_line(out, "no error, count " + std::to_string(w.watch_count()));
    } catch (const WatchError& e) {
      write_line(out, "code " + std::to_string(e.code().value()));
      write_line(out, "operand " + e.operand());
      write_line(out, "path " + e.path());
      write_line(out, std::string("what ") + e.what());
    }
  });
  ASSERT_FALSE(res.timed_out) << res.output;
  auto lines = lines_of(res.output);
  for (const auto& l : lines)
    if (l.rfind("skip: ", 0) == 0) GTEST_SKIP() << l;
  EXPECT_TRUE(has_line(lines, "code " + std::to_string(ENOSPC))) << res.output;
  EXPECT_TRUE(has_line(lines, "operand " + root)) << res.output;
  auto path = with_prefix(lines, "path ");
  ASSERT_EQ(path.size(), 1u) << res.output;
  // Where it failed: a directory inside the tree, deeper than the operand.
  std::string p = path[0];
  EXPECT_EQ(p.rfind(root + "/", 0), 0u) << res.output;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  EXPECT_NE(p, root) << res.output;
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  EXPECT_TRUE(S_ISDIR(st.st_mode)) << p;
  auto what = with_prefix(lines, "what ");
  ASSERT_EQ(what.size(), 1u);
  EXPECT_NE(what[0].find(path[0]), std::string::npos) << what[0];
  EXPECT_NE(what[0].find(std::strerror(ENOSPC)), std::string::npos) << what[0];
  EXPECT_TRUE(with_prefix(lines, "warning ").empty()) << "a hard limit is an error, not a warning:\n" << res.output;
}

TEST_F(WatcherTest, EnospcInAWideTreeLeavesNothingBehind) {
  // Assumption (the header is silent): when add() throws, it has not left part of the operand's
  // tree watched -- neither in the table nor in the kernel. Wide enough for a parallel walk.
  for (int i = 0; i < 16; ++i) mkdir_p(disk("t" + std::to_string(i) + "/a/b"));
  auto res = run_in_child([&](int out) {
    if (!enter_limited_namespace(out, 20)) return;
    Watcher w;
    try {
      w.add(root, opts(IN_CREATE, kTrack));
      write_line(out, "no error, count " + std::to_string(w.watch_count()));
    } catch (const WatchError& e) {
      write_line(out, "code " + std::to_string(e.code().value()));
      write_line(out, "path " + e.path());
    }
    write_line(out, "count " + std::to_string(w.watch_count()));
    write_line(out, "kernel " + std::to_string(kernel_watch_count(kernel_fd(w))));
    // And the Watcher is still usable for something that fits.
    try {
      w.add(disk("t0/a"), opts(IN_CREATE, kTrack));
      write_line(out, "second count " + std::to_string(w.watch_count()));
    } catch (const WatchError& e) {
      write_line(out, "second error " + std::to_string(e.code().value()));
    }
  });
  ASSERT_FALSE(res.timed_out) << res.output;
  auto lines = lines_of(res.output);
  for (const auto& l : lines)
    if (l.rfind("skip: ", 0) == 0) GTEST_SKIP() << l;
  EXPECT_TRUE(has_line(lines, "code " + std::to_string(ENOSPC))) << res.output;
  auto path = with_prefix(lines, "path ");
  ASSERT_EQ(path.size(), 1u) << res.output;
  EXPECT_EQ(path[0].rfind(root + "/t", 0), 0u) << res.output;
  EXPECT_TRUE(has_line(lines, "count 0")) << res.output;
  EXPECT_TRUE(has_line(lines, "kernel 0")) << res.output;
  EXPECT_TRUE(has_line(lines, "second count 2")) << res.output;
}

TEST_F(WatcherTest, EnospcForANewDirectoryIsAWarning) {
  mkdirs({"a/b"});
  auto res = run_in_child([&](int out) {
    if (!enter_limited_namespace(out, 3)) return;
    Watcher w;
    w.on_warning([&](const Warning& x) { write_line(out, warning_line(x)); });
    w.add(root, opts(IN_CREATE, kTrack));
    write_line(out, "count " + std::to_string(w.watch_count()));
    ::mkdir(disk("new").c_str(), 0755);
    std::vector<Rec> ev;
    collect_until_event(
        w, ev, [](const Rec& r) { return r.name == "new"; }, 20s);
    for (const auto& r : ev) write_line(out, "event " + describe(r));
    create_file(disk("sentinel"));
    collect_until_event(
        w, ev, [](const Rec& r) { return r.name == "sentinel"; }, 20s);
    write_line(out, "sentinel " + std::string(ev.empty() ? "" : ev.back().name));
    write_line(out, "count " + std::to_string(w.watch_count()));
  });
  ASSERT_FALSE(res.timed_out) << res.output;
  auto lines = lines_of(res.output);
  for (const auto& l : lines)
    if (l.rfind("skip: ", 0) == 0) GTEST_SKIP() << l;
  auto counts = with_prefix(lines, "count ");
  EXPECT_EQ(counts, (std::vector<std::string>{"3", "3"})) << res.output;
  auto warnings = with_prefix(lines, "warning ");
  EXPECT_EQ(warnings, std::vector<std::string>{"new_directory " + std::to_string(ENOSPC) + " " + watched("new")})
      << res.output;
  EXPECT_TRUE(has_line(lines, "sentinel sentinel")) << "the watcher keeps going:\n" << res.output;
  bool create_seen = false;
  for (const auto& e : with_prefix(lines, "event "))
    if (e.rfind(watched("") + " CREATE,ISDIR new", 0) == 0) create_seen = true;
  EXPECT_TRUE(create_seen) << res.output;
}

// ---------------------------------------------------------------------------------------------
// File descriptor exhaustion: either the walk copes with few fds or it fails with EMFILE;
// never a silently partial tree.

TEST_F(WatcherTest, FewFileDescriptorsNeverGiveASilentlyPartialTree) {
  std::string rel;
  for (int i = 0; i < 60; ++i) rel += (i ? "/d" : "d") + std::to_string(i);
  mkdir_p(disk(rel));
  mkdirs({"side/a", "side/b"});
  auto res = run_in_child([&](int out) {
    rlimit rl{24, 24};
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      write_line(out, std::string("skip: setrlimit: ") + std::strerror(errno));
      return;
    }
    Watcher w;
    w.on_warning([&](const Warning& x) { write_line(out, warning_line(x)); });
    try {
      w.add(root, opts(IN_CREATE, kRecursive));
      write_line(out, "ok " + std::to_string(w.watch_count()));
    } catch (const WatchError& e) {
      write_line(out, "error " + std::to_string(e.code().value()) + " " + e.path());
    }
  });
  ASSERT_FALSE(res.timed_out) << res.output;
  auto lines = lines_of(res.output);
  for (const auto& l : lines)
    if (l.rfind("skip: ", 0) == 0) GTEST_SKIP() << l;
  ASSERT_EQ(lines.size(), 1u) << res.output;
  RecordProperty("outcome", lines[0]);
  std::printf("with RLIMIT_NOFILE 24: %s\n", lines[0].c_str());
  if (lines[0].rfind("ok ", 0) == 0) {
    EXPECT_EQ(lines[0], "ok " + std::to_string(disk_dirs(root).size())) << res.output;
  } else {
    EXPECT_EQ(lines[0].rfind("error " + std::to_string(EMFILE) + " ", 0), 0u) << res.output;
  }
}

// ---------------------------------------------------------------------------------------------
// Unmount: the kernel sends IN_UNMOUNT then IN_IGNORED for every watch on the file system.

TEST_F(WatcherTest, UnmountRemovesTheWatchesOnThatFileSystem) {
  mkdirs({"mnt", "other"});
  auto res = run_in_child([&](int out) {
    // A private mount namespace: the tmpfs is never visible outside this child.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      write_line(out, std::string("skip: no private mount namespace: ") + std::strerror(errno));
      return;
    }
    if (::mount("libwatch-test", disk("mnt").c_str(), "tmpfs", 0, "size=1m") != 0) {
      write_line(out, std::string("skip: cannot mount a tmpfs: ") + std::strerror(errno));
      return;
    }
    ::mkdir(disk("mnt/sub").c_str(), 0755);
    Watcher w;
    std::vector<std::string> removed;
    w.on_remove([&](WatchId id) { removed.push_back(w.path(id)); });
    w.add(root, opts(IN_CREATE, kTrack));
    write_line(out, "count " + std::to_string(w.watch_count()));
    if (::umount2(disk("mnt").c_str(), MNT_DETACH) != 0) {
      write_line(out, std::string("skip: umount: ") + std::strerror(errno));
      return;
    }
    std::vector<Rec> ev;
    pump_until(
        w, ev, [&] { return removed.size() >= 2; }, 20s);
    for (const auto& r : ev) write_line(out, "event " + describe(r));
    for (const auto& p : removed) write_line(out, "removed " + p);
    write_line(out, "count " + std::to_string(w.watch_count()));
    write_line(out, "kernel " + std::to_string(kernel_watch_count(kernel_fd(w))));
    // The mount point's own directory (on the underlying file system) is in the tree again.
    for (const auto& p : table_paths(w)) write_line(out, "path " + p);
  });
  ASSERT_FALSE(res.timed_out) << res.output;
  auto lines = lines_of(res.output);
  for (const auto& l : lines)
    if (l.rfind("skip: ", 0) == 0) GTEST_SKIP() << l;
  EXPECT_TRUE(with_prefix(lines, "exception").empty()) << res.output;
  // r, r/mnt (the tmpfs root), r/mnt/sub, r/other; the two tmpfs watches go. (Whether the
  // directory that the mount covered is watched afterwards is not specified.)
  auto counts = with_prefix(lines, "count ");
  ASSERT_EQ(counts.size(), 2u) << res.output;
  EXPECT_EQ(counts[0], "4") << res.output;
  EXPECT_TRUE(counts[1] == "2" || counts[1] == "3") << res.output;
  EXPECT_TRUE(has_line(lines, "kernel " + counts[1])) << "table and kernel disagree:\n" << res.output;
  auto removed = with_prefix(lines, "removed ");
  EXPECT_EQ(std::multiset<std::string>(removed.begin(), removed.end()),
            (std::multiset<std::string>{watched("mnt"), watched("mnt/sub")}))
      << res.output;
  bool unmount_seen = false;
  for (const auto& e : with_prefix(lines, "event "))
    if (e.rfind(watched("mnt") + " UNMOUNT", 0) == 0 || e.rfind(watched("mnt/sub") + " UNMOUNT", 0) == 0)
      unmount_seen = true;
  EXPECT_TRUE(unmount_seen) << res.output;
}

// ---------------------------------------------------------------------------------------------
// Deeper than PATH_MAX

// A chain of directories whose full path is longer than PATH_MAX, built and removed with *at()
// calls relative to directory fds (no path here is longer than one name).
class DeepTree {
 public:
  DeepTree(const std::string& root, int levels) {
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    fds_.push_back(fd);
    for (int i = 0; i < levels; ++i) {
      char prefix[16];
      std::snprintf(prefix, sizeof prefix, "L%02d_", i);
      std::string name = prefix + std::string(236, static_cast<char>('a' + i % 26));
      if (::mkdirat(fds_.back(), name.c_str(), 0755) != 0) break;
      names_.push_back(name);
      fds_.push_back(::openat(fds_.back(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      rel_ += name + "/";
    }
  }
  ~DeepTree() {
    // Remove whatever the test left in each level, deepest first.
    for (std::size_t i = fds_.size(); i-- > 1;) {
      clear(fds_[i]);
      ::close(fds_[i]);
      ::unlinkat(fds_[i - 1], names_[i - 1].c_str(), AT_REMOVEDIR);
    }
    ::close(fds_[0]);
  }
  DeepTree(const DeepTree&) = delete;
  DeepTree& operator=(const DeepTree&) = delete;
  int deepest() const { return fds_.back(); }
  std::size_t levels() const { return names_.size(); }
  const std::string& rel() const { return rel_; }  // "L00_aaa.../L01_bbb.../.../"

 private:
  static void clear(int dfd) {
    int dup = ::openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* d = ::fdopendir(dup);
    if (!d) return;
    std::vector<std::pair<std::string, bool>> entries;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      entries.push_back({n, e->d_type == DT_DIR});
    }
    ::closedir(d);
    for (const auto& [n, dir] : entries) {
      if (dir && n.rfind("L", 0) == 0 && n.size() > 200) continue;  // the chain itself
      if (dir) {
        int sub = ::openat(dfd, n.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (sub >= 0) {
          clear(sub);
          ::close(sub);
        }
      }
      ::unlinkat(dfd, n.c_str(), dir ? AT_REMOVEDIR : 0);
    }
  }
  std::vector<int> fds_;
  std::vector<std::string> names_;
  std::string rel_;
};

TEST_F(WatcherTest, PathsDeeperThanPathMaxDoNotAbortTheWalk) {
  mkdirs({"side"});
  DeepTree deep(root, 20);
  ASSERT_EQ(deep.levels(), 20u);
  const std::string deep_path = root + "/" + deep.rel();
  ASSERT_GT(deep_path.size(), static_cast<std::size_t>(PATH_MAX));
  Watcher w;
  std::vector<std::string> warnings;
  w.on_warning([&](const Warning& x) { warnings.push_back(warning_line(x)); });
  ASSERT_NO_THROW(w.add(root, opts(IN_CREATE, kTrack)));
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  EXPECT_EQ(w.watch_count(), 22u);  // root, side, 20 levels
  EXPECT_EQ(kernel_watch_count(kernel_fd(w)), 22u);
  bool found = false;
  table_of(w).for_each([&](WatchId id) { found = found || w.path(id) == deep_path; });
  EXPECT_TRUE(found) << "no watch rendered as the deepest directory";

  // Events in the deepest directory are delivered with the full path.
  int fd = ::openat(deep.deepest(), "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::vector<Rec> ev;
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return r.name == "f"; })) << describe(ev);
  EXPECT_EQ(ev.back().path, deep_path);

  // And a directory created down there is tracked (watched and scanned).
  ASSERT_EQ(::mkdirat(deep.deepest(), "new", 0755), 0);
  int nfd = ::openat(deep.deepest(), "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(nfd, 0);
  fd = ::openat(nfd, "g", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return r.name == "g"; })) << describe(ev);
  EXPECT_EQ(ev.back().path, deep_path + "new/");
  fd = ::openat(nfd, "h", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ::close(fd);
  ::close(nfd);
  ASSERT_TRUE(collect_until_event(w, ev, [](const Rec& r) { return r.name == "h"; })) << describe(ev);
  EXPECT_EQ(ev.back().path, deep_path + "new/");
  EXPECT_FALSE(ev.back().synthetic);
  EXPECT_EQ(w.watch_count(), 23u);
}

}  // namespace
}  // namespace lwtest
