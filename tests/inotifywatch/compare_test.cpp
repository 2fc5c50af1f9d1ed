// Side by side with the reference (/usr/bin/inotifywatch from inotify-tools 3.22.6): the same
// command line and the same file-system actions, each program in its own copy of the tree; stdout,
// stderr and the exit status must be identical byte for byte.
//
// Scenarios avoid what the contract leaves open: events the tools cause themselves (D14), the
// deliberate differences D1-D16, and identical back-to-back events (the kernel merges those while
// they are unread, so counts would depend on how fast each program reads).
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness.hpp"
#include "support.hpp"

// Scenarios are written with designated initializers: the fields not named keep their defaults,
// which is the point (GCC's -Wextra would ask for every field).
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace iwtest {
namespace {

using testsupport::mkdir_p;
using testsupport::read_file;
using testsupport::touch;
using testsupport::write_file;
using Step = Scenario::Step;
using End = Scenario::End;
using Fn = std::function<void(const std::string&)>;

Fn dirs(std::vector<std::string> names) {
  return [names](const std::string& root) {
    for (const auto& n : names) mkdir_p(root + "/" + n);
  };
}

Fn both(Fn a, Fn b) {
  return [a, b](const std::string& root) {
    a(root);
    b(root);
  };
}

Fn touch_all(std::vector<std::string> names) {
  return [names](const std::string& root) {
    for (const auto& n : names) touch(root + "/" + n);
  };
}

Fn write_to(std::string name, std::string content) {
  return [name, content](const std::string& root) { write_file(root + "/" + name, content); };
}

// Appends to an existing file: OPEN, MODIFY, CLOSE_WRITE. (write_to on an existing file would
// truncate it first: two MODIFY in a row, which the kernel may merge.)
Fn append_to(std::string name, std::string content) {
  return [name, content](const std::string& root) {
    int fd = ::open((root + "/" + name).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("open " + name);
    bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
    ::close(fd);
    if (!ok) throw std::runtime_error("write " + name);
  };
}

Fn read_from(std::string name) {
  return [name](const std::string& root) { (void)read_file(root + "/" + name); };
}

Fn rename_to(std::string from, std::string to) {
  return [from, to](const std::string& root) {
    if (std::rename((root + "/" + from).c_str(), (root + "/" + to).c_str()) != 0)
      throw std::runtime_error("rename " + from);
  };
}

Fn remove_path(std::string name) {
  return [name](const std::string& root) {
    if (::remove((root + "/" + name).c_str()) != 0) throw std::runtime_error("remove " + name);
  };
}

Fn make_dir(std::string name) {
  return [name](const std::string& root) {
    if (::mkdir((root + "/" + name).c_str(), 0755) != 0) throw std::runtime_error("mkdir " + name);
  };
}

Fn symlink_to(std::string target, std::string link) {
  return [target, link](const std::string& root) {
    if (::symlink(target.c_str(), (root + "/" + link).c_str()) != 0) throw std::runtime_error("symlink " + link);
  };
}

Fn mount_tmpfs(std::string dir) {
  return [dir](const std::string& root) {
    mkdir_p(root + "/" + dir);
    if (::mount("none", (root + "/" + dir).c_str(), "tmpfs", 0, "size=1m") != 0)
      throw std::runtime_error("mount tmpfs on " + dir);
  };
}

Fn unmount(std::string dir) {
  return [dir](const std::string& root) {
    if (::umount2((root + "/" + dir).c_str(), 0) != 0) throw std::runtime_error("umount " + dir);
  };
}

// Whether this process may mount a tmpfs (root with CAP_SYS_ADMIN).
bool can_mount() {
  TempDir t("iwmnt");
  if (::mount("none", t.path().c_str(), "tmpfs", 0, "size=64k") != 0) return false;
  ::umount2(t.path().c_str(), MNT_DETACH);
  return true;
}

// n files touched in dir: CREATE, OPEN, CLOSE_WRITE each, no two events alike.
Fn touch_n(std::string dir, int n, std::string prefix = "f") {
  return [dir, n, prefix](const std::string& root) {
    for (int i = 0; i < n; ++i) touch(root + "/" + dir + "/" + prefix + std::to_string(i));
  };
}

const std::string kTable = "filename\n";
const std::string kNoEvents = "No events occurred.\n";

std::vector<Scenario> scenarios() {
  std::vector<Scenario> v;
  auto add = [&](Scenario s) { v.push_back(std::move(s)); };

  // ---- the table ---------------------------------------------------------------------------
  add({.name = "DefaultEventsInOneDirectory",
       .prepare = dirs({"d"}),
       .args = {"d"},
       .steps = {{touch_all({"d/a"})},
                 {append_to("d/a", "x")},
                 {read_from("d/a")},
                 {write_to("d/b", "y")},
                 {rename_to("d/a", "d/c")},
                 {remove_path("d/c")}},
       .expect_out = kTable});
  add({.name = "TiesFollowOperandOrder",
       .prepare = dirs({"d1", "d2", "d3"}),
       .args = {"d3", "d1", "d2"},
       .steps = {{touch_all({"d1/x", "d2/x", "d3/x"})}},
       .expect_out = "d3/\n"});
  add({.name = "ZeroShowsEmptyRowsAndColumns",
       .prepare = dirs({"d1", "d2", "d3"}),
       .args = {"-z", "d1", "d2", "d3"},
       .steps = {{touch_all({"d2/x"})}},
       .expect_out = "delete_self"});
  add({.name = "ZeroWithRequestedEvents",
       .prepare = dirs({"d1", "d2"}),
       .args = {"-z", "-e", "modify,create", "d1", "d2"},
       .steps = {{write_to("d1/x", "data")}},
       .expect_out = "modify"});
  add({.name = "RequestedEventsOnly",
       .prepare = dirs({"d"}),
       .args = {"-e", "modify", "-e", "close_write", "d"},
       .steps = {{write_to("d/a", "1")}, {write_to("d/b", "2")}, {read_from("d/a")}},
       .expect_out = "close_write"});
  add({.name = "AscendingByTotal",
       .prepare = dirs({"d1", "d2", "d3"}),
       .args = {"-a", "total", "d1", "d2", "d3"},
       .steps = {{touch_n("d3", 1)}, {touch_n("d1", 3)}, {touch_n("d2", 2)}},
       .expect_out = "d3/\n"});
  add({.name = "DescendingByModify",
       .prepare = dirs({"d1", "d2"}),
       .args = {"-d", "modify", "d1", "d2"},
       .steps = {{touch_n("d1", 4)}, {write_to("d2/a", "1")}, {write_to("d2/b", "2")}},
       .expect_out = "d2/\n"});
  add({.name = "AscendingByCreateUpperCase",
       .prepare = dirs({"d1", "d2"}),
       .args = {"-a", "CREATE", "d1", "d2"},
       .steps = {{touch_n("d1", 2)}, {touch_n("d2", 1)}, {append_to("d2/f0", "more")}},
       .expect_out = kTable});
  add({.name = "EmptySortKeyMeansTotal",
       .prepare = dirs({"d1", "d2"}),
       .args = {"-a", "", "d1", "d2"},
       .steps = {{touch_n("d1", 3)}, {touch_n("d2", 1)}},
       .expect_out = kTable});
  add({.name = "DescendingThenAscendingIsAccepted",
       .prepare = dirs({"d1", "d2"}),
       .args = {"-d", "total", "-a", "open", "d1", "d2"},
       .steps = {{touch_n("d1", 2)}, {touch_n("d2", 1)}},
       .expect_out = kTable});
  add({.name = "NumbersWiderThanTheirColumn",
       .prepare = dirs({"d"}),
       .args = {"-e", "open", "d"},
       .steps = {{touch_n("d", 10001)}},
       .expect_out = "10001  10001  d/\n"});
  add({.name = "FileAndItsDirectory",
       .prepare = both(dirs({"d"}), touch_all({"d/f"})),
       .args = {"d", "d/f"},
       .steps = {{append_to("d/f", "abc")}, {read_from("d/f")}},
       .expect_out = "d/f\n"});
  add({.name = "ReadEvents",
       .prepare = both(dirs({"d"}), both(write_to("d/a", "1"), write_to("d/b", "2"))),
       .args = {"-e", "access,open,close_nowrite", "d"},
       .steps = {{read_from("d/a")}, {read_from("d/b")}},
       .expect_out = "close_nowrite"});
  add({.name = "MovesWithinAndAcross",
       .prepare = both(dirs({"d1", "d2"}), touch_all({"d1/a", "d1/b"})),
       .args = {"d1", "d2"},
       .steps = {{rename_to("d1/a", "d1/c")}, {rename_to("d1/b", "d2/b")}},
       .expect_out = "moved_to"});
  add({.name = "UnmountCountsInTotalOnly",
       .prepare = both(dirs({"d"}), mount_tmpfs("m")),
       .args = {"m", "d"},
       .steps = {{touch_all({"m/x", "d/y"})}, {unmount("m")}},
       .expect_out = "5      1            1     1       m/\n",
       .needs_mount = true});
  add({.name = "UnmountColumnWhenRequested",
       .prepare = both(dirs({"d"}), mount_tmpfs("m")),
       .args = {"-e", "unmount,create", "-z", "m", "d"},
       .steps = {{touch_all({"d/y"})}, {unmount("m")}},
       .expect_out = "total  create  unmount  filename\n",
       .needs_mount = true});
  add({.name = "WatchedDirectoryMovedItself",
       .prepare = dirs({"d", "e"}),
       .args = {"d", "e"},
       .steps = {{touch_all({"d/x"})}, {rename_to("d", "moved")}},
       .expect_out = "move_self"});

  // ---- recursion -----------------------------------------------------------------------------
  add({.name = "RecursiveTiesInPostOrder",
       .prepare = dirs({"d/s1/t", "d/s2", "d/s3"}),
       .args = {"-r", "d"},
       .steps = {{touch_all({"d/s1/t/x", "d/s1/x", "d/s2/x", "d/s3/x", "d/x"})}},
       .expect_out = "d/s1/t/\n"});
  add({.name = "RecursiveZeroRowsInPostOrder",
       .prepare = dirs({"d/s1/t", "d/s2", "d/s3"}),
       .args = {"-r", "-z", "d"},
       .steps = {{touch_all({"d/s2/x"})}},
       .expect_out = "d/s3/\n"});
  add({.name = "RemovedDirectoryKeepsItsRow",
       .prepare = dirs({"d/s1", "d/s2"}),
       .args = {"-r", "d"},
       .steps = {{remove_path("d/s2")}},
       .expect_out = "d/s2/\n"});
  add({.name = "RemovedFileOperand",
       .prepare = both(dirs({"d"}), touch_all({"f"})),
       .args = {"f", "d"},
       .steps = {{remove_path("f")}},
       .expect_out = "delete_self"});
  add({.name = "RecursiveFollowsNewDirectory",
       .prepare = dirs({"d"}),
       .args = {"-r", "-e", "create,modify,delete", "d"},
       .steps = {{make_dir("d/new")}, {write_to("d/new/x", "1")}, {remove_path("d/new/x")}},
       .expect_out = "d/new/\n"});
  add({.name = "RecursiveModifyOnlyDoesNotFollow",
       .prepare = dirs({"d/s"}),
       .args = {"-r", "-e", "modify", "d"},
       .steps = {{make_dir("d/new")}, {write_to("d/new/x", "1")}, {write_to("d/s/y", "2")}},
       .expect_out = "d/s/\n"});
  add({.name = "RecursiveRenamedSubdirectory",
       .prepare = dirs({"d/s1", "d/s2"}),
       .args = {"-r", "-e", "create,moved_from,moved_to", "d"},
       .steps = {{rename_to("d/s1", "d/s9")}, {touch_all({"d/s9/x"})}},
       .expect_out = "d/s9/\n"});
  add({.name = "AtExclusionPrunesSubtree",
       .prepare = dirs({"d/s1", "d/s2/deep"}),
       .args = {"-r", "@d/s2", "d"},
       .steps = {{touch_all({"d/s2/x", "d/s2/deep/y", "d/s1/z"})}},
       .expect_out = "d/s1/\n"});
  add({.name = "OperandSpellingsAreKept",
       .prepare = dirs({"d1", "d2", "d3/s"}),
       .args = {"-r", "d1/", "./d2", "d3//"},
       .steps = {{touch_all({"d1/x", "d2/x", "d3/x", "d3/s/x"})}},
       .expect_out = "d3//s/\n"});
  add({.name = "AtExclusionWithTrailingSlash",
       .prepare = dirs({"d/s1", "d/s2"}),
       .args = {"-r", "-z", "@d/s1/", "d"},
       .steps = {{touch_all({"d/s1/x", "d/s2/y"})}},
       .expect_out = "d/s2/\n"});
  add({.name = "RecursiveSymlinkOperandIsFollowed",
       .prepare = both(dirs({"d/s"}), symlink_to("d", "dl")),
       .args = {"-P", "-r", "dl"},
       .steps = {{touch_all({"d/s/x", "d/y"})}},
       .expect_out = "dl/s/\n"});
  add({.name = "SymlinkOperand",
       .prepare = both(dirs({"d"}), symlink_to("d", "dl")),
       .args = {"dl"},
       .steps = {{touch_all({"d/x"})}},
       .expect_out = "dl\n"});
  add({.name = "NoDereferenceWatchesTheLink",
       .prepare = both(both(dirs({"d"}), touch_all({"f"})), symlink_to("f", "fl")),
       .args = {"-P", "fl", "d"},
       .steps = {{[](const std::string& root) {
                   timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
                   ::utimensat(AT_FDCWD, (root + "/fl").c_str(), ts, AT_SYMLINK_NOFOLLOW);
                 }},
                 {append_to("f", "through the link target, not seen")},
                 {touch_all({"d/x"})}},
       .expect_out = "fl\n"});

  // ---- filters and inputs --------------------------------------------------------------------
  add({.name = "Exclude",
       .prepare = dirs({"d"}),
       .args = {"--exclude", "skip", "d"},
       .steps = {{touch_all({"d/skip1", "d/keep1"})}},
       .expect_out = kTable});
  add({.name = "ExcludeCaseInsensitive",
       .prepare = dirs({"d1", "d2"}),
       .args = {"--excludei", "D2/", "d1", "d2"},
       .steps = {{touch_all({"d1/a", "d2/b"})}},
       .expect_out = "d1/\n"});
  add({.name = "Include",
       .prepare = dirs({"d1", "d2"}),
       .args = {"--include", "keep", "d1", "d2"},
       .steps = {{touch_all({"d1/keep", "d1/other", "d2/other"})}},
       .expect_out = "d1/\n"});
  add({.name = "IncludeCaseInsensitiveMatchesNothing",
       .prepare = dirs({"d"}),
       .args = {"--includei", "NOPE", "d"},
       .steps = {{touch_all({"d/a"})}},
       .expect_err = kNoEvents});
  add({.name = "FromfileWithExclusion",
       .prepare = both(dirs({"d1/s", "d1/t", "d2"}), write_to("list", "d1\n@d1/s\n\nd2\n")),
       .args = {"-r", "--fromfile", "list"},
       .steps = {{touch_all({"d1/s/x", "d1/t/y", "d2/z"})}},
       .expect_out = "d1/t/\n"});
  add({.name = "FromfileStdinBeforeOperands",
       .prepare = dirs({"d1", "d2", "d3"}),
       .args = {"d3", "--fromfile", "-"},
       .stdin_data = "d2\nd1\n",
       .steps = {{touch_all({"d1/x", "d2/x", "d3/x"})}},
       .expect_out = "d2/\n"});
  add({.name = "FromfileUnreadable",
       .prepare = dirs({"d"}),
       .args = {"--fromfile", "nonexistent", "d"},
       .steps = {{touch_all({"d/x"})}},
       .expect_err = "Couldn't open nonexistent: No such file or directory\n"});
  add({.name = "EmptyEventListMeansAll",
       .prepare = dirs({"d"}),
       .args = {"-e", "", "d"},
       .steps = {{touch_all({"d/x"})}},
       .expect_out = "create"});

  // ---- how the run ends ------------------------------------------------------------------------
  add({.name = "TimeoutPrintsTable",
       .prepare = dirs({"d"}),
       .args = {"-t", "2", "d"},
       .steps = {{touch_all({"d/x"})}},
       .end = End::by_itself,
       .expect_out = kTable});
  add({.name = "SigtermPrintsTable",
       .prepare = dirs({"d"}),
       .args = {"d"},
       .steps = {{touch_all({"d/x"})}},
       .end = End::sigterm,
       .expect_out = kTable});
  add({.name = "SighupPrintsTable",
       .prepare = dirs({"d"}),
       .args = {"d"},
       .steps = {{touch_all({"d/x"})}},
       .end = End::sighup,
       .expect_out = kTable});
  add({.name = "NoEvents", .prepare = dirs({"d"}), .args = {"d"}, .expect_err = kNoEvents});
  add({.name = "ZeroButNoEvents", .prepare = dirs({"d"}), .args = {"-z", "d"}, .expect_err = kNoEvents});
  add({.name = "Usr1PrintsSnapshot",
       .prepare = dirs({"d"}),
       .args = {"d"},
       .steps = {{touch_all({"d/a"}), SIGUSR1}, {touch_all({"d/b"})}},
       .expect_out = "d/\n\ntotal"});
  add({.name = "Usr1WithoutEvents",
       .prepare = dirs({"d"}),
       .args = {"d"},
       .steps = {{nullptr, SIGUSR1}},
       .expect_err = kNoEvents + kNoEvents});

  // ---- messages --------------------------------------------------------------------------------
  add({.name = "VerboseCountsSpellings",
       .prepare = dirs({"d"}),
       .args = {"-v", "d", "./d", "d/"},
       .expect_err = "Total of 2 watches.\n"});
  add({.name = "VerboseRecursive",
       .prepare = both(dirs({"d/a/b", "d/c", "e"}), touch_all({"f"})),
       .args = {"-v", "-r", "d", "f", "e"},
       .expect_err = "OK, f is now being watched.\nSetting up watch(es) on e\n"});
  add({.name = "VerboseTimeout",
       .prepare = dirs({"d"}),
       .args = {"-v", "-t", "1", "d"},
       .end = End::by_itself,
       .expect_err = "Will listen for events for 1 seconds.\n"});
  add({.name = "MissingPath",
       .prepare = dirs({"d"}),
       .args = {"d", "missing"},
       .end = End::by_itself,
       .expect_err = "Failed to watch missing: No such file or directory\n",
       .expect_status = 1});
  add({.name = "NoFiles",
       .args = {"-r"},
       .end = End::by_itself,
       .expect_err = "No files specified to watch!\n",
       .expect_status = 1});
  add({.name = "BadEvent",
       .args = {"-e", "modify,bogus", "d"},
       .end = End::by_itself,
       .expect_err = "'modify,bogus' is not a valid event!",
       .expect_status = 1});
  add({.name = "BadRegex",
       .prepare = dirs({"d"}),
       .args = {"--exclude", "(", "d"},
       .end = End::by_itself,
       .expect_err = "Error in `exclude' regular expression.\n",
       .expect_status = 1});
  add({.name = "RegexConflict",
       .args = {"--include", "a", "--exclude", "b", "d"},
       .end = End::by_itself,
       .expect_err = "include and exclude regexp cannot both be specified.\n",
       .expect_status = 1});
  add({.name = "SortKeyTwice",
       .args = {"-a", "total", "-a", "modify", "d"},
       .end = End::by_itself,
       .expect_err = "Please specify -a or -d once only!\n",
       .expect_status = 1});
  add({.name = "SortByClose",
       .args = {"-a", "close", "d"},
       .end = End::by_itself,
       .expect_err = "Cannot sort by `close' event",
       .expect_status = 1});
  add({.name = "SortByMove",
       .args = {"-a", "Move", "d"},
       .end = End::by_itself,
       .expect_err = "Cannot sort by `move' event",
       .expect_status = 1});
  add({.name = "SortKeyInvalid",
       .args = {"-d", "bogus", "d"},
       .end = End::by_itself,
       .expect_err = "'bogus' is not a valid key for sorting!\n",
       .expect_status = 1});
  add({.name = "SortKeyNotWatched",
       .args = {"-e", "access", "-d", "modify", "d"},
       .end = End::by_itself,
       .expect_err = "Can't sort by an event which isn't being watched for!\n",
       .expect_status = 1});
  add({.name = "InvalidOptionThenConsistencyCheck",
       .args = {"-e", "modify", "-a", "access", "-x", "d"},
       .end = End::by_itself,
       .expect_err = "inotifywatch: invalid option -- 'x'\nCan't sort",
       .expect_status = 1});
  add({.name = "AmbiguousOption",
       .args = {"--e", "d"},
       .end = End::by_itself,
       .expect_err = "possibilities: '--event' '--exclude' '--excludei'",
       .expect_status = 1});
  add({.name = "OptionWithoutArgument",
       .args = {"d", "-t"},
       .end = End::by_itself,
       .expect_err = "option requires an argument -- 't'",
       .expect_status = 1});
  add({.name = "FlagWithArgument",
       .args = {"--zero=1", "d"},
       .end = End::by_itself,
       .expect_err = "option '--zero' doesn't allow an argument",
       .expect_status = 1});
  add({.name = "BadTimeout",
       .args = {"-t", "1.5", "d"},
       .end = End::by_itself,
       .expect_err = "'1.5' is not a valid timeout value.\n",
       .expect_status = 1});
  add({.name = "FromfileTwice",
       .args = {"--fromfile", "a", "--fromfile", "b"},
       .end = End::by_itself,
       .expect_err = "Multiple --fromfile options given.\n",
       .expect_status = 1});

  // ---- getopt syntax -----------------------------------------------------------------------------
  add({.name = "BundledFlagsAndPermutedOperands",
       .prepare = dirs({"d1/s", "d2"}),
       .args = {"d1", "-zr", "d2"},
       .steps = {{touch_all({"d1/s/x"})}},
       .expect_out = "d1/s/\n"});
  add({.name = "AttachedValuesAndAbbreviations",
       .prepare = dirs({"d"}),
       .args = {"-emodify,create", "--desc=create", "--rec", "d"},
       .steps = {{write_to("d/a", "1")}},
       .expect_out = "modify"});
  add({.name = "DoubleDashEndsOptions",
       .prepare = dirs({"d"}),
       .args = {"d", "--", "-z"},
       .end = End::by_itself,
       .expect_err = "Failed to watch -z: No such file or directory\n",
       .expect_status = 1});
  return v;
}

class Compare : public ::testing::TestWithParam<Scenario> {};

TEST_P(Compare, SameBytesAsReference) {
  auto ref = reference();
  if (!ref) GTEST_SKIP() << "the reference /usr/bin/inotifywatch (Debian package inotify-tools) is not installed";
  const Scenario& s = GetParam();
  if (s.needs_mount && !can_mount()) GTEST_SKIP() << "mounting a tmpfs needs root with CAP_SYS_ADMIN";
  TempDir dir("iwcmp");
  Pair p = run_pair(*ref, s, dir);

  // The scenario tests what it is meant to (judged on the reference).
  ASSERT_TRUE(p.ref.exit.exited) << p.ref.description;
  EXPECT_EQ(p.ref.exit.code, s.expect_status) << p.ref.description;
  EXPECT_NE(p.ref.out.find(s.expect_out), std::string::npos) << "expected in stdout: " << s.expect_out << "\n"
                                                             << p.ref.description;
  EXPECT_NE(p.ref.err.find(s.expect_err), std::string::npos) << "expected in stderr: " << s.expect_err << "\n"
                                                             << p.ref.description;

  // Ours does the same.
  EXPECT_EQ(p.ours.out, p.ref.out) << "reference:\n" << p.ref.description << "\nours:\n" << p.ours.description;
  EXPECT_EQ(p.ours.err, p.ref.err) << "reference:\n" << p.ref.description << "\nours:\n" << p.ours.description;
  EXPECT_EQ(p.ours.exit.exited, p.ref.exit.exited) << p.ours.description;
  EXPECT_EQ(p.ours.exit.code, p.ref.exit.code) << p.ours.description;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, Compare, ::testing::ValuesIn(scenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& info) { return info.param.name; });

// ---- runs that need more than a command line: a watch list read from a FIFO (signals before
// any watch exists), inotify limits lowered in a user namespace ---------------------------------

using Sequence = std::function<Outcome(const std::string& program, const std::string& root)>;

void compare_sequence(const Sequence& seq, const std::string& expect_err, int expect_status) {
  auto ref = reference();
  if (!ref) GTEST_SKIP() << "the reference /usr/bin/inotifywatch (Debian package inotify-tools) is not installed";
  TempDir dir("iwcmp");
  mkdir_p(dir / "ref");
  mkdir_p(dir / "ours");
  Outcome r = seq(*ref, dir / "ref");
  Outcome o = seq(ours(), dir / "ours");
  ASSERT_TRUE(r.exit.exited) << r.description;
  EXPECT_EQ(r.exit.code, expect_status) << r.description;
  EXPECT_NE(r.err.find(expect_err), std::string::npos) << "expected in stderr: " << expect_err << "\n" << r.description;
  EXPECT_EQ(o.out, r.out) << "reference:\n" << r.description << "\nours:\n" << o.description;
  // The line we add after the watch-limit message is an intended difference (see the man page).
  EXPECT_EQ(testsupport::without_watch_limit_line(o.err), r.err) << "reference:\n"
                                                                 << r.description << "\nours:\n"
                                                                 << o.description;
  EXPECT_EQ(o.exit.exited, r.exit.exited) << o.description;
  EXPECT_EQ(o.exit.code, r.exit.code) << o.description;
}

// Opens the writing end of fifo once program p has opened it for reading (then p is reading its
// watch list and no watch exists yet).
int fifo_writer(const std::string& fifo, Process& p) {
  auto deadline = std::chrono::steady_clock::now() + testsupport::kDeadline;
  for (;;) {
    int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno != ENXIO || std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "no reader on " << fifo << ": " << p.describe();
      return -1;
    }
    std::this_thread::sleep_for(5ms);
  }
}

Outcome finish(Process& p) {
  Outcome o;
  o.exit = p.wait();
  o.out = p.out();
  o.err = p.err();
  o.description = p.describe();
  return o;
}

TEST(CompareSetup, SecondSigintBeforeWatchesExistAborts) {
  compare_sequence(
      [](const std::string& program, const std::string& root) {
        EXPECT_EQ(::mkfifo((root + "/list").c_str(), 0600), 0);
        Process p = start(program, {"--fromfile", "list"}, root);
        int w = fifo_writer(root + "/list", p);
        p.signal(SIGINT);
        EXPECT_TRUE(p.wait_stderr("interrupt me again.\n")) << p.describe();
        p.signal(SIGINT);
        Outcome o = finish(p);
        ::close(w);
        return o;
      },
      "No statistics collected, asked to abort before all watches could be established.\n", 1);
}

TEST(CompareSetup, OneSigintBeforeWatchesExistOnlyWarns) {
  compare_sequence(
      [](const std::string& program, const std::string& root) {
        mkdir_p(root + "/d");
        EXPECT_EQ(::mkfifo((root + "/list").c_str(), 0600), 0);
        Process p = start(program, {"--fromfile", "list", "-e", "create"}, root);
        int w = fifo_writer(root + "/list", p);
        p.signal(SIGINT);
        EXPECT_TRUE(p.wait_stderr("interrupt me again.\n")) << p.describe();
        EXPECT_EQ(::write(w, "d\n", 2), 2);
        ::close(w);
        if (p.wait_stderr("Finished establishing watches")) {
          EXPECT_TRUE(wait_idle(p.pid())) << p.describe();
          touch(root + "/d/x");
          EXPECT_TRUE(wait_idle(p.pid())) << p.describe();
          p.signal(SIGINT);
        }
        return finish(p);
      },
      "If you are sure you want me to exit, interrupt me again.\nEstablishing watches...\n", 0);
}

TEST(CompareSetup, SigtermBeforeWatchesExistKills) {
  auto ref = reference();
  if (!ref) GTEST_SKIP() << "the reference /usr/bin/inotifywatch (Debian package inotify-tools) is not installed";
  TempDir dir("iwcmp");
  std::vector<Exit> exits;
  for (const std::string& program : {*ref, ours()}) {
    std::string fifo = dir / ("list" + std::to_string(exits.size()));
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    Process p = start(program, {"--fromfile", fifo}, dir.path());
    int w = fifo_writer(fifo, p);
    p.signal(SIGTERM);
    exits.push_back(p.wait());
    ::close(w);
    EXPECT_EQ(p.err(), "") << p.describe();
  }
  EXPECT_FALSE(exits[0].exited);
  EXPECT_EQ(exits[0].signal, SIGTERM);
  EXPECT_EQ(exits[1].exited, exits[0].exited);
  EXPECT_EQ(exits[1].signal, exits[0].signal);
}

// program run in a new user namespace whose inotify limit sysctl is set to limit.
Sequence limited(std::string sysctl, int limit, std::vector<std::string> args, Fn prepare) {
  return [=](const std::string& program, const std::string& root) {
    if (prepare) prepare(root);
    std::vector<std::string> argv{
        "/usr/bin/unshare",
        "-U",
        "-r",
        "/bin/sh",
        "-c",
        "echo " + std::to_string(limit) + " > /proc/sys/user/" + sysctl + " && exec \"$0\" \"$@\"",
        program};
    argv.insert(argv.end(), args.begin(), args.end());
    Process::Options o;
    o.cwd = root;
    Process p(std::move(argv), o);
    return finish(p);
  };
}

TEST(CompareSetup, NewDirectoryOverTheWatchLimit) {
  if (!user_namespaces_work()) GTEST_SKIP() << "unshare -U -r is not available here";
  compare_sequence(
      [](const std::string& program, const std::string& root) {
        mkdir_p(root + "/d/a");
        std::vector<std::string> argv{"/usr/bin/unshare",
                                      "-U",
                                      "-r",
                                      "/bin/sh",
                                      "-c",
                                      "echo 2 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\"",
                                      program,
                                      "-r",
                                      "-e",
                                      "create",
                                      "d"};
        Process::Options o;
        o.cwd = root;
        Process p(std::move(argv), o);
        if (p.wait_stderr("Finished establishing watches")) {
          EXPECT_TRUE(wait_idle(p.pid())) << p.describe();
          mkdir_p(root + "/d/new");
          EXPECT_TRUE(wait_idle(p.pid())) << p.describe();
          touch(root + "/d/new/x");
          touch(root + "/d/a/y");
          EXPECT_TRUE(wait_idle(p.pid())) << p.describe();
          p.signal(SIGINT);
        }
        return finish(p);
      },
      "Couldn't watch new directory d/new/: No space left on device\n", 0);
}

TEST(CompareSetup, NoInotifyInstanceLeft) {
  if (!user_namespaces_work()) GTEST_SKIP() << "unshare -U -r is not available here";
  compare_sequence(limited("max_inotify_instances", 0, {"d"}, dirs({"d"})),
                   "Try increasing the value of /proc/sys/fs/inotify/max_user_instances\n", 1);
}

TEST(CompareSetup, WatchLimitReachedInsideTheTree) {
  if (!user_namespaces_work()) GTEST_SKIP() << "unshare -U -r is not available here";
  compare_sequence(limited("max_inotify_watches", 3, {"-r", "d", "big"}, dirs({"d", "big/a/b", "big/c/d"})),
                   "Failed to watch big; upper limit on inotify watches reached!\n", 1);
}

}  // namespace
}  // namespace iwtest
