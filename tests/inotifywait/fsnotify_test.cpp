// fsnotifywait and fsnotifywatch (links to inotifywait and inotifywatch in build/bin): argv[0]
// makes fanotify the default backend, -I still picks inotify, --help and --version print the
// invoked name. Which backend runs is read from /proc/<pid>/fdinfo, not guessed from output.
// Skipped, with the reason, where fanotify is refused.
#include <fcntl.h>
#include <signal.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "iwtest.hpp"
#include "support.hpp"

namespace {

using testsupport::Process;

// The fdinfo lines of the process starting with prefix ("inotify wd:", "fanotify ino:").
int marks(pid_t pid, const std::string& prefix) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fdinfo", ec)) {
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) n += line.rfind(prefix, 0) == 0 ? 1 : 0;
  }
  return n;
}

class Fsnotify : public testing::Test {
 protected:
  testsupport::TempDir dir{"fsnotify"};

  void SetUp() override {
    const int fd = ::fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME_TARGET, O_RDONLY);
    if (fd < 0) GTEST_SKIP() << "fanotify_init: " << std::strerror(errno);
    ::close(fd);
    testsupport::mkdir_p(dir / "d");
  }

  // program started as argv0 in dir, once its setup message is out.
  std::unique_ptr<Process> ready(const std::string& program, const std::string& argv0, std::vector<std::string> args,
                                 const char* established) {
    args.insert(args.begin(), testsupport::bin(program));
    Process::Options o;
    o.cwd = dir.path();
    o.argv0 = argv0;
    auto p = std::make_unique<Process>(args, o);
    EXPECT_TRUE(p->wait_stderr(established)) << p->describe();
    return p;
  }
};

constexpr const char* kWaitReady = "Watches established.";
constexpr const char* kWatchReady = "Finished establishing watches, now collecting statistics.";

TEST_F(Fsnotify, FsnotifywaitWatchesWithFanotifyByDefault) {
  auto p = ready("fsnotifywait", "fsnotifywait", {"-m", "-r", "d"}, kWaitReady);
  EXPECT_EQ(marks(p->pid(), "inotify wd:"), 0);
  EXPECT_GE(marks(p->pid(), "fanotify ino:"), 1);
  iwtest::sh(dir.path(), "touch d/x");
  EXPECT_TRUE(p->wait_stdout("d/ CREATE x\n")) << p->describe();
}

TEST_F(Fsnotify, DashIPicksInotifyAndTheLastBackendOptionWins) {
  auto i = ready("fsnotifywait", "fsnotifywait", {"-m", "-F", "-I", "d"}, kWaitReady);
  EXPECT_EQ(marks(i->pid(), "inotify wd:"), 1);
  EXPECT_EQ(marks(i->pid(), "fanotify ino:"), 0);
  auto f = ready("inotifywait", "inotifywait", {"-m", "-I", "-F", "d"}, kWaitReady);
  EXPECT_EQ(marks(f->pid(), "inotify wd:"), 0);
  EXPECT_EQ(marks(f->pid(), "fanotify ino:"), 1);
}

// The name decides, not the file: the link run as inotifywait is inotifywait.
TEST_F(Fsnotify, Argv0DecidesTheDefault) {
  auto p = ready("fsnotifywait", "/usr/bin/inotifywait", {"-m", "d"}, kWaitReady);
  EXPECT_EQ(marks(p->pid(), "inotify wd:"), 1);
  auto q = ready("inotifywait", "/opt/x/fsnotifywait", {"-m", "d"}, kWaitReady);
  EXPECT_EQ(marks(q->pid(), "fanotify ino:"), 1);
}

TEST_F(Fsnotify, FsnotifywatchCountsWithFanotifyByDefault) {
  // -t, not SIGINT: a signal right after the setup line may still find the setup unfinished.
  auto p = ready("fsnotifywatch", "fsnotifywatch", {"-r", "-t", "3", "d"}, kWatchReady);
  EXPECT_EQ(marks(p->pid(), "inotify wd:"), 0);
  EXPECT_GE(marks(p->pid(), "fanotify ino:"), 1);
  const testsupport::Exit e = p->wait();
  EXPECT_TRUE(e.exited && e.code == 0) << p->describe();
}

TEST(FsnotifyNames, HelpAndVersionPrintTheInvokedName) {
  struct Case {
    const char* program;
    const char* usage;
  };
  for (const Case c : {Case{"fsnotifywait", "Usage: fsnotifywait [ options ]"},
                       Case{"fsnotifywatch", "Usage: fsnotifywatch [ options ]"}}) {
    const testsupport::RunResult h = testsupport::run({testsupport::bin(c.program), "--help"}, {});
    EXPECT_TRUE(h.exit.exited && h.exit.code == 1) << c.program;
    EXPECT_EQ(h.out.rfind(std::string(c.program) + " (libwatch) ", 0), 0u) << h.out;
    EXPECT_NE(h.out.find(c.usage), std::string::npos) << h.out;
    const testsupport::RunResult v = testsupport::run({testsupport::bin(c.program), "--version"}, {});
    EXPECT_EQ(v.out, h.out.substr(0, h.out.find('\n') + 1));
  }
  // Only fsnotifywait's help lists the backend options, as 3.22's fsnotifywait build does.
  EXPECT_NE(testsupport::run({testsupport::bin("fsnotifywait"), "--help"}, {}).out.find("-I|--inotify"),
            std::string::npos);
  EXPECT_EQ(testsupport::run({testsupport::bin("inotifywait"), "--help"}, {}).out.find("-I|--inotify"),
            std::string::npos);
}

// -S errors: one line, status 1. Not permitted is checked as nobody (setpriv drops root here).
TEST(FilesystemMarkErrors, NotPermittedNamesCapSysAdminAndTheOtherBackends) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the program as nobody";
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv (util-linux) is not installed";
  testsupport::TempDir dir{"fsnotify"};
  ASSERT_EQ(::chmod(dir.path().c_str(), 0755), 0);
  for (const char* program : {"inotifywait", "fsnotifywait"}) {
    const testsupport::RunResult r =
        testsupport::run({"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                          testsupport::bin(program), "-q", "-S", "-t", "1", dir.path()},
                         {});
    EXPECT_TRUE(r.exit.exited && r.exit.code == 1) << program << ": " << r.err;
    EXPECT_EQ(r.err, "Couldn't watch " + dir.path() +
                         ": -S (a filesystem mark) needs CAP_SYS_ADMIN; -F and -I watch without it\n");
  }
  const testsupport::RunResult w =
      testsupport::run({"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        testsupport::bin("fsnotifywatch"), "-S", "-t", "1", dir.path()},
                       {});
  EXPECT_TRUE(w.exit.exited && w.exit.code == 1) << w.err;
  EXPECT_NE(w.err.find("Failed to watch " + dir.path() + ": -S (a filesystem mark) needs CAP_SYS_ADMIN"),
            std::string::npos)
      << w.err;
}

TEST(FilesystemMarkErrors, PseudoFileSystemIsNamedAndDashISuggested) {
  if (::geteuid() != 0) GTEST_SKIP() << "a filesystem mark (-S) needs CAP_SYS_ADMIN; not root";
  const testsupport::RunResult r =
      testsupport::run({testsupport::bin("inotifywait"), "-q", "-S", "-t", "1", "/proc/self"}, {});
  EXPECT_TRUE(r.exit.exited && r.exit.code == 1) << r.err;
  EXPECT_EQ(r.err,
            "Couldn't watch /proc/self: Operation not supported (the proc file system has no file handles fanotify "
            "can report; -I uses inotify)\n");
}

}  // namespace
