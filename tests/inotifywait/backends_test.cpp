// -F (fanotify inode marks) against -I (inotify) on the real kernel: the same actions print the
// same lines, cookies pairing the same moves. Skipped, with the reason, where fanotify is refused.
#include <fcntl.h>
#include <sys/fanotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "iwtest.hpp"
#include "support.hpp"

namespace {

using testsupport::Process;

constexpr const char* kFormat = "%w|%e|%f|%c";
constexpr const char* kEnd = "|CLOSE_WRITE,CLOSE|zz_end|";

class Backends : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const int fd = ::fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME_TARGET, O_RDONLY);
    if (fd < 0) GTEST_SKIP() << "fanotify_init: " << std::strerror(errno);
    ::close(fd);
  }

  // The lines `inotifywait -m -r <backend>` prints for script run in a fresh tree, with each
  // cookie replaced by the rank of its first appearance (the numbers differ, the pairing must not).
  std::vector<std::string> lines_for(const char* backend, const std::string& script) {
    testsupport::TempDir dir{"iwbackend"};
    // What the scripts change exists before the watch: a directory made while the watcher runs
    // and filled at once may be reported twice (by its scan and by the kernel) with either backend.
    testsupport::mkdir_p(dir / "d/old/deep");
    testsupport::mkdir_p(dir / "d/e");
    testsupport::touch(dir / "d/e/x");
    Process::Options o;
    o.cwd = dir.path();
    o.argv0 = "inotifywait";
    Process p({testsupport::bin("inotifywait"),
               backend,
               "-m",
               "-r",
               "--format",
               kFormat,
               "-e",
               "create",
               "-e",
               "modify",
               "-e",
               "close_write",
               "-e",
               "moved_from",
               "-e",
               "moved_to",
               "-e",
               "delete",
               "-e",
               "delete_self",
               "d"},
              o);
    EXPECT_TRUE(p.wait_stderr("Watches established.")) << p.describe();
    iwtest::sh(dir.path(), script + "\ntouch d/zz_end\n");
    EXPECT_TRUE(p.wait_stdout(kEnd)) << p.describe();
    p.signal(SIGTERM);
    p.wait();
    std::vector<std::string> out;
    std::map<std::string, int> rank;
    std::istringstream in(p.out());
    for (std::string line; std::getline(in, line);) {
      const std::size_t bar = line.rfind('|');
      std::string cookie = line.substr(bar + 1);
      if (cookie != "0" && !cookie.empty())
        cookie = "c" + std::to_string(rank.emplace(cookie, rank.size()).first->second);
      out.push_back(line.substr(0, bar + 1) + cookie);
    }
    return out;
  }
};

std::string show(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += "  " + l + "\n";
  return s;
}

TEST_P(Backends, FanotifyPrintsWhatInotifyPrints) {
  const std::string script = GetParam();
  const auto want = lines_for("-I", script);
  const auto got = lines_for("-F", script);
  EXPECT_EQ(got, want) << "script:\n" << script << "\n-I:\n" << show(want) << "-F:\n" << show(got);
  EXPECT_GE(want.size(), 2u) << show(want);
}

// -S: one filesystem mark, filtered to the tree by directory handle (root only).
TEST_P(Backends, FilesystemMarkPrintsWhatInotifyPrints) {
  if (::geteuid() != 0) GTEST_SKIP() << "a filesystem mark (-S) needs CAP_SYS_ADMIN; not root";
  const std::string script = GetParam();
  const auto want = lines_for("-I", script);
  const auto got = lines_for("-S", script);
  EXPECT_EQ(got, want) << "script:\n" << script << "\n-I:\n" << show(want) << "-S:\n" << show(got);
}

INSTANTIATE_TEST_SUITE_P(
    Scripts, Backends,
    // (Each write from a process of its own: fanotify merges what one process
    // does to one file before it is read, so two appends by one shell print once.)
    testing::Values("echo x > d/f\nsh -c 'echo y >> d/f'\nmkdir d/n",          // create, modify, close
                    "touch d/f\nmv d/f d/g\nmv d/g d/old/h",                   // moves, one cookie each
                    "rm d/e/x\nrmdir d/e",                                     // delete, delete_self
                    "mv d/old d/new\ntouch d/new/deep/y\nmv d/new/deep/y d/",  // a renamed directory
                    // Outside the tree (never printed), moves out of it and into it (lone halves).
                    "mkdir o\ntouch o/f f\nmv d/e/x o/x\nmv o/f d/in\nmv d/old o/gone\ntouch o/gone/deep/z",
                    // Hostile names: a newline, bytes that are not UTF-8.
                    "touch \"$(printf 'd/new\\nline')\" \"$(printf 'd/bad\\377name')\"\nmv d/new* d/e/"));

// No fanotify: one line naming -I, exit 1 (provoked with a kernel-too-old style EINVAL is not
// possible here; EPERM is checked where fanotify_init is refused).
TEST(BackendsError, RefusedFanotifyIsOneLineNamingDashI) {
  const int fd = ::fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME_TARGET, O_RDONLY);
  if (fd >= 0) {
    ::close(fd);
    GTEST_SKIP() << "fanotify is permitted here";
  }
  testsupport::TempDir dir{"iwbackend"};
  testsupport::RunResult r = testsupport::run({testsupport::bin("inotifywait"), "-F", "-t", "1", dir.path()}, {});
  EXPECT_TRUE(r.exit.exited && r.exit.code == 1) << r.err;
  EXPECT_NE(r.err.find("Couldn't initialize fanotify: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("-I uses inotify"), std::string::npos) << r.err;
}

}  // namespace
