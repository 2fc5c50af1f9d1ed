// Faults, injected (an LD_PRELOAD shim: faultshim.c) and real (as root: a tmpfs unmounted, the
// watched root deleted, a directory made unreadable in the middle of a walk, a tree deeper than
// PATH_MAX, 200,000 entries while the consumer is stopped). For each: the exact message, the exit
// status, and nothing half-done. Where the reference inotify-tools behaves the same way under the
// same fault, its output is the expected one.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support.hpp"

namespace {

using namespace testsupport;
using namespace std::chrono_literals;

constexpr std::string_view kSetupR = "Setting up watches.  Beware: since -r was given, this may take a while!\n";
constexpr std::string_view kSetup = "Setting up watches.\n";
constexpr std::string_view kEstablished = "Watches established.\n";
constexpr std::string_view kEnospc =
    "Failed to watch d; upper limit on inotify watches reached!\n"
    "Please increase the amount of inotify watches allowed per user via `/proc/sys/fs/inotify/max_user_watches'.\n";

bool is_root() { return ::geteuid() == 0; }

Process::Options in(const std::string& cwd, std::map<std::string, std::string> env = {}) {
  Process::Options o;
  o.cwd = cwd;
  o.env = std::move(env);
  return o;
}

// The environment that loads the shim with the given settings, and a log of what it injected.
std::map<std::string, std::string> shim(const TempDir& dir, std::map<std::string, std::string> settings) {
  settings["LD_PRELOAD"] = FAULTSHIM_PATH;
  settings["FAULT_LOG"] = dir / "faults.log";
  // A sanitizer build insists on coming first in the library list; the shim is not instrumented.
  const char* asan = std::getenv("ASAN_OPTIONS");
  settings["ASAN_OPTIONS"] = std::string(asan ? asan : "") + (asan && *asan ? ":" : "") + "verify_asan_link_order=0";
  return settings;
}

// inotifywatch says "now collecting statistics." just before it installs its SIGUSR1 handler
// (as the reference does): wait for the handler itself (SigCgt in /proc/PID/status) before
// asking for a snapshot.
bool wait_handler(pid_t pid, int sig) {
  for (int i = 0; i < 3000; ++i) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("SigCgt:", 0) == 0 && (std::stoull(line.substr(7), nullptr, 16) >> (sig - 1)) & 1) return true;
    ::usleep(1000);
  }
  return false;
}

// How many faults of this kind the shim injected.
int injected(const TempDir& dir, std::string_view what) {
  std::ifstream in(dir / "faults.log");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line == what;
  return n;
}

void make_tree(const TempDir& dir) {
  for (const char* sub : {"a", "b", "c", "e", "f", "g", "h", "i", "j", "k"}) {
    mkdir_p(dir / "d/" + sub + "/x");
    mkdir_p(dir / "d/" + sub + "/y");
  }
}

std::string status_of(const Exit& e) {
  if (e.timed_out) return "timed out";
  if (e.exited) return "exit " + std::to_string(e.code);
  return "signal " + std::to_string(e.signal);
}

// Runs ours and, when installed, the reference with the same arguments and environment: both must
// give the expected stderr and status (the reference's run proves the expectation is its behaviour).
void expect_both(const std::string& tool, const std::vector<std::string>& args, const Process::Options& opts,
                 std::string_view want_err, int want_code) {
  std::vector<std::string> argv{bin(tool)};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult ours = run(argv, opts, 20s);
  EXPECT_TRUE(ours.exit.exited && ours.exit.code == want_code) << "ours: " << status_of(ours.exit) << "\n" << ours.err;
  bool added = false;
  EXPECT_EQ(without_watch_limit_line(ours.err, &added), want_err);
  // After the reference's two watch-limit lines, ours says how many directories and what to run.
  EXPECT_EQ(added, want_err.find("upper limit on inotify watches") != std::string_view::npos) << ours.err;
  EXPECT_EQ(ours.out, "");
  if (auto ref = reference_bin(tool)) {
    argv[0] = *ref;
    RunResult theirs = run(argv, opts, 20s);
    EXPECT_TRUE(theirs.exit.exited && theirs.exit.code == want_code) << "reference: " << status_of(theirs.exit);
    EXPECT_EQ(theirs.err, want_err) << "the reference says otherwise";
  }
}

// ---- injected: inotify_add_watch fails with ENOSPC in the middle of a recursive setup ---------

TEST(Faults, AddWatchEnospcDuringRecursiveSetupInotifywait) {
  TempDir t("rel-faults");
  make_tree(t);
  Process::Options o = in(t.path(), shim(t, {{"FAULT_ADD_WATCH_ENOSPC_AFTER", "5"}}));
  expect_both("inotifywait", {"-m", "-r", "d"}, o, std::string(kSetupR) + std::string(kEnospc), 1);
  EXPECT_GT(injected(t, "add_watch ENOSPC"), 0);
}

TEST(Faults, AddWatchEnospcDuringRecursiveSetupInotifywatch) {
  TempDir t("rel-faults");
  make_tree(t);
  Process::Options o = in(t.path(), shim(t, {{"FAULT_ADD_WATCH_ENOSPC_AFTER", "5"}}));
  expect_both("inotifywatch", {"-r", "d"}, o, "Establishing watches...\n" + std::string(kEnospc), 1);
  EXPECT_GT(injected(t, "add_watch ENOSPC"), 0);
}

// Nothing half-done: the watches set up before the failure are gone again, from the table and
// from the kernel.
TEST(Faults, AddWatchEnospcLeavesNoWatchBehind) {
  TempDir t("rel-faults");
  make_tree(t);
  for (const char* after : {"0", "1", "7", "20"}) {
    RunResult r = run({FAULTS_PROBE, "d"}, in(t.path(), shim(t, {{"FAULT_ADD_WATCH_ENOSPC_AFTER", after}})));
    EXPECT_EQ(r.out, "error=28 table=0 kernel=0\n") << "ENOSPC after " << after << " calls\n" << r.err;
  }
  RunResult clean = run({FAULTS_PROBE, "d"}, in(t.path()));
  EXPECT_EQ(clean.out, "error=0 table=31 kernel=31\n");  // the probe can tell watches from none
}

// ---- injected: inotify_init fails ----------------------------------------------------------------

struct InitCase {
  const char* tool;
  int err;
  const char* message;
};

class InitFails : public ::testing::TestWithParam<InitCase> {};

TEST_P(InitFails, SameMessageAndStatusAsTheReference) {
  const InitCase& c = GetParam();
  TempDir t("rel-faults");
  mkdir_p(t / "d");
  Process::Options o = in(t.path(), shim(t, {{"FAULT_INIT_ERRNO", std::to_string(c.err)}}));
  expect_both(c.tool, {"d"}, o, c.message, 1);
  expect_both(c.tool, {"-r", "d"}, o, c.message, 1);
  EXPECT_GT(injected(t, "inotify_init1 errno") + injected(t, "inotify_init errno"), 0);
}

constexpr const char* kEmfile =
    "Couldn't initialize inotify: Too many open files\n"
    "Try increasing the value of /proc/sys/fs/inotify/max_user_instances\n";
INSTANTIATE_TEST_SUITE_P(
    Faults, InitFails,
    ::testing::Values(InitCase{"inotifywait", EMFILE, kEmfile}, InitCase{"inotifywatch", EMFILE, kEmfile},
                      InitCase{"inotifywait", ENFILE, "Couldn't initialize inotify: Too many open files in system\n"},
                      InitCase{"inotifywatch", ENFILE, "Couldn't initialize inotify: Too many open files in system\n"},
                      InitCase{"inotifywait", ENOMEM, "Couldn't initialize inotify: Cannot allocate memory\n"},
                      InitCase{"inotifywatch", ENOMEM, "Couldn't initialize inotify: Cannot allocate memory\n"}),
    [](const auto& info) {
      return std::string(info.param.tool) + "_" +
             (info.param.err == EMFILE   ? "EMFILE"
              : info.param.err == ENFILE ? "ENFILE"
                                         : "ENOMEM");
    });

// -d checks inotify before it forks: the message still reaches the terminal.
TEST(Faults, InitEmfileWithDaemon) {
  TempDir t("rel-faults");
  mkdir_p(t / "d");
  RunResult r =
      run({bin("inotifywait"), "-d", "-o", t / "out", "d"}, in(t.path(), shim(t, {{"FAULT_INIT_ERRNO", "24"}})));
  EXPECT_TRUE(r.exit.exited && r.exit.code == 1) << status_of(r.exit);
  EXPECT_EQ(r.err, kEmfile);
}

// ---- injected: read() of the inotify descriptor is interrupted --------------------------------

// Every other read fails with EINTR before reading anything. Nothing may be lost or reported.
// (The reference prints "Interrupted system call" and stops: not a behaviour to keep.)
TEST(Faults, ReadEintrLosesNothingInotifywait) {
  TempDir t("rel-faults");
  mkdir_p(t / "d");
  Process p({bin("inotifywait"), "-m", "-e", "create", "--format", "%f", "d"},
            in(t.path(), shim(t, {{"FAULT_READ_EINTR", "1"}})));
  ASSERT_TRUE(p.wait_stderr(kEstablished)) << p.describe();
  std::string want;
  for (int i = 0; i < 200; ++i) {
    touch(t / "d/f" + std::to_string(i));
    want += "f" + std::to_string(i) + "\n";
    if (i % 50 == 49) {  // several reads, not one
      ASSERT_TRUE(p.wait_stdout_lines(i + 1)) << p.describe();
    }
  }
  p.signal(SIGTERM);
  p.wait();
  EXPECT_EQ(p.out(), want);
  EXPECT_EQ(p.err(), std::string(kSetup) + std::string(kEstablished));
  EXPECT_GT(injected(t, "read EINTR"), 1);
}

TEST(Faults, ReadEintrLosesNothingInotifywatch) {
  TempDir t("rel-faults");
  mkdir_p(t / "d");
  Process p({bin("inotifywatch"), "-e", "create", "d"}, in(t.path(), shim(t, {{"FAULT_READ_EINTR", "1"}})));
  ASSERT_TRUE(p.wait_stderr("now collecting statistics.\n")) << p.describe();
  ASSERT_TRUE(wait_handler(p.pid(), SIGUSR1));
  // True once a snapshot (SIGUSR1 prints the table) counts n events: all n have been read.
  auto counted = [&](int n) {
    const std::string row = "\n" + std::to_string(n) + " ";
    for (int tries = 0; tries < 200 && p.out().find(row) == std::string::npos; ++tries) {
      p.signal(SIGUSR1);
      p.pump(100ms);
    }
    return p.out().find(row) != std::string::npos;
  };
  for (int i = 0; i < 200; ++i) {
    touch(t / "d/f" + std::to_string(i));
    if (i % 50 == 49) {  // several reads, not one
      ASSERT_TRUE(counted(i + 1)) << p.describe();
    }
  }
  touch(t / "d/last");
  ASSERT_TRUE(counted(201)) << p.describe();
  p.signal(SIGINT);
  Exit e = p.wait();
  EXPECT_TRUE(e.exited && e.code == 0) << p.describe();
  std::string table = p.out().substr(p.out().rfind("total"));
  EXPECT_EQ(table, "total  create  filename\n201    201     d/\n") << p.describe();
  EXPECT_GT(injected(t, "read EINTR"), 1);
}

// ---- injected: writing the events fails ----------------------------------------------------------

// EPIPE with SIGPIPE ignored: the reader is gone; exit 1 without a word (man page, EXIT STATUS).
TEST(Faults, WriteEpipeExitsQuietly) {
  TempDir t("rel-faults");
  mkdir_p(t / "d");
  Process p({bin("inotifywait"), "-m", "d"}, in(t.path(), shim(t, {{"FAULT_WRITE_STDOUT", std::to_string(EPIPE)}})));
  ASSERT_TRUE(p.wait_stderr(kEstablished)) << p.describe();
  touch(t / "d/f");
  Exit e = p.wait(10s);
  EXPECT_TRUE(e.exited && e.code == 1) << p.describe();
  EXPECT_EQ(p.err(), std::string(kSetup) + std::string(kEstablished));
  EXPECT_EQ(p.out(), "");
  EXPECT_EQ(injected(t, "write errno"), 1);
}

// ENOSPC part-way through a line into a -o file (the disk filled up): one line naming the error,
// exit 1, and the file holds whole lines only -- no event cut in half.
TEST(Faults, WriteEnospcLeavesNoPartialLine) {
  TempDir t("rel-faults");
  mkdir_p(t / "d");
  Process p({bin("inotifywait"), "-m", "-e", "create", "-o", t / "events", "d"},
            in(t.path(), shim(t, {{"FAULT_WRITE_STDOUT", std::to_string(ENOSPC)}, {"FAULT_WRITE_AFTER", "30"}})));
  ASSERT_TRUE(p.wait_stderr(kEstablished)) << p.describe();
  for (int i = 0; i < 5; ++i) touch(t / "d/file" + std::to_string(i));
  Exit e = p.wait(10s);
  EXPECT_TRUE(e.exited && e.code == 1) << p.describe();
  EXPECT_EQ(p.err(),
            std::string(kSetup) + std::string(kEstablished) + "Couldn't write events: No space left on device\n");
  std::string events = read_file(t / "events");
  EXPECT_TRUE(events.empty() || events.back() == '\n') << "a partial line was left in the file: '" << events << "'";
  EXPECT_EQ(injected(t, "write errno"), 1);
}

// The same with real devices: stdout on /dev/full (ENOSPC on every write).
RunResult run_to_dev_full(const TempDir& t, const std::vector<std::string>& cmd, const char* trigger) {
  // The shell opens /dev/full for us; $1 is the file to create once the tool is ready.
  std::vector<std::string> argv{
      "/bin/bash", "-c",
      "\"$@\" >/dev/full 2>\"$0.err\" & p=$!; "
      "until grep -q \"$TRIGGER\" \"$0.err\" 2>/dev/null; do kill -0 $p || break; sleep 0.01; done; "
      ": >\"$0.d/new\"; wait $p; s=$?; cat \"$0.err\" >&2; exit $s",
      t / "x"};
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  mkdir_p(t / "x.d");
  return run(argv, in(t.path(), {{"TRIGGER", trigger}}), 20s);
}

TEST(Faults, StdoutOnDevFullInotifywait) {
  TempDir t("rel-faults");
  RunResult r = run_to_dev_full(t, {bin("inotifywait"), "-e", "create", "x.d"}, "established");
  EXPECT_TRUE(r.exit.exited && r.exit.code == 1) << status_of(r.exit) << "\n" << r.err;
  EXPECT_EQ(r.err,
            std::string(kSetup) + std::string(kEstablished) + "Couldn't write events: No space left on device\n");
}

// The table is the whole output of inotifywatch: when it cannot be written, saying nothing and
// exiting 0 loses the statistics silently. Expected: one line naming the error, exit 1.
TEST(Faults, StdoutOnDevFullInotifywatch) {
  TempDir t("rel-faults");
  RunResult r = run_to_dev_full(t, {bin("inotifywatch"), "-t", "1", "-e", "create", "x.d"}, "collecting statistics");
  EXPECT_TRUE(r.exit.exited && r.exit.code == 1) << status_of(r.exit) << "\n" << r.err;
  EXPECT_NE(r.err.find("No space left on device\n"), std::string::npos) << r.err;
}

// A real broken pipe: the default SIGPIPE ends inotifywait quietly (status 141 in a shell), and
// with SIGPIPE ignored it exits 1, also quietly. Either way nothing hangs.
TEST(Faults, ReaderGoesAway) {
  for (bool ignore : {false, true}) {
    TempDir t("rel-faults");
    mkdir_p(t / "d");
    std::string script = std::string(ignore ? "trap '' PIPE; " : "") +
                         "\"$0\" -m -e create --format %f d | head -n 1; echo \"status ${PIPESTATUS[0]}\" >&2";
    Process p({"/bin/bash", "-c", script, bin("inotifywait")}, in(t.path()));
    ASSERT_TRUE(p.wait_stderr(kEstablished)) << p.describe();
    touch(t / "d/first");
    ASSERT_TRUE(p.wait_stdout("first\n")) << p.describe();
    // head has exited once its line is out; the next event finds the pipe closed.
    for (int i = 0; i < 50 && p.err().find("status") == std::string::npos; ++i) {
      touch(t / "d/next" + std::to_string(i));
      p.pump(100ms);
    }
    Exit e = p.wait(10s);
    EXPECT_TRUE(e.exited && e.code == 0) << p.describe();
    EXPECT_EQ(p.err(), std::string(kSetup) + std::string(kEstablished) + (ignore ? "status 1\n" : "status 141\n"));
    EXPECT_EQ(p.out(), "first\n");
  }
}

// ---- real faults, as root ---------------------------------------------------------------------

#define NEED_ROOT(why)                     \
  if (!is_root()) {                        \
    GTEST_SKIP() << "needs root: " << why; \
  }

// Runs one scenario with ours, then with the reference (if installed), and expects the same bytes
// and status. act() causes the fault once the watches are established; done is the output that
// shows the program has seen everything (then it is stopped with SIGTERM), or empty when the
// program is expected to exit by itself.
struct Scenario {
  std::vector<std::string> args;
  std::function<void(const TempDir&)> prepare;
  std::function<void(const TempDir&)> act;
  std::string done;
};

struct Outcome {
  std::string out, err, status;
};

Outcome play(const std::string& program, const Scenario& s) {
  TempDir t("rel-faults");
  s.prepare(t);
  std::vector<std::string> argv{program};
  argv.insert(argv.end(), s.args.begin(), s.args.end());
  Process p(argv, in(t.path()));
  EXPECT_TRUE(p.wait_stderr(kEstablished)) << p.describe();
  s.act(t);
  if (!s.done.empty()) {
    EXPECT_TRUE(p.wait_stdout(s.done)) << p.describe();
    p.signal(SIGTERM);
  }
  Exit e = p.wait(10s);
  return {p.out(), p.err(), status_of(e)};
}

void expect_like_reference(const Scenario& s, std::string_view want_out, std::string_view want_status) {
  Outcome ours = play(bin("inotifywait"), s);
  EXPECT_EQ(ours.out, want_out);
  EXPECT_EQ(ours.status, want_status);
  if (auto ref = reference_bin("inotifywait")) {
    Outcome theirs = play(*ref, s);
    EXPECT_EQ(ours.out, theirs.out) << "differs from the reference";
    EXPECT_EQ(ours.err, theirs.err) << "differs from the reference";
    EXPECT_EQ(ours.status, theirs.status) << "differs from the reference";
  }
}

void mount_tmpfs(const TempDir& t) {
  mkdir_p(t / "mnt");
  RunResult r = run({"/bin/mount", "-t", "tmpfs", "rel-faults", t / "mnt"});
  ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.err;
  mkdir_p(t / "mnt/sub/deep");
  touch(t / "mnt/sub/f");
}

void unmount(const TempDir& t) {
  RunResult r = run({"/bin/umount", t / "mnt"});
  ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.err;
}

TEST(RealFaults, TmpfsUnmounted) {
  NEED_ROOT("mounts a tmpfs");
  // Not asked for: the single-event mode ends with status 1 and prints nothing.
  expect_like_reference({{"mnt"}, mount_tmpfs, unmount, ""}, "", "exit 1");
  expect_like_reference({{"-r", "mnt"}, mount_tmpfs, unmount, ""}, "", "exit 1");
  // Asked for: printed, status 0.
  expect_like_reference({{"-e", "unmount", "mnt"}, mount_tmpfs, unmount, ""}, "mnt/ UNMOUNT,ISDIR \n", "exit 0");
  // -m -r: every watch reports it and goes away; the program stays, as the reference does.
  expect_like_reference(
      {{"-m", "-r", "-e", "unmount,ignored", "mnt"}, mount_tmpfs, unmount, "mnt/ IGNORED \n"},
      "mnt/sub/deep/ UNMOUNT,ISDIR \nmnt/sub/deep/ IGNORED \nmnt/sub/ UNMOUNT,ISDIR \nmnt/sub/ IGNORED \n"
      "mnt/ UNMOUNT,ISDIR \nmnt/ IGNORED \n",
      "signal 15");
}

TEST(RealFaults, WatchedRootDeleted) {
  auto prepare = [](const TempDir& t) {
    mkdir_p(t / "w/sub/deep");
    touch(t / "w/sub/f");
  };
  // One system call per entry, deepest first, nothing held open: the kernel's order of events is
  // then fixed (rm -r keeps directories open, which delays DELETE_SELF).
  auto remove = [](const TempDir& t) {
    ::unlink((t / "w/sub/f").c_str());
    ::rmdir((t / "w/sub/deep").c_str());
    ::rmdir((t / "w/sub").c_str());
    ::rmdir((t / "w").c_str());
  };
  expect_like_reference({{"-e", "delete_self", "w"}, prepare, remove, ""}, "w/ DELETE_SELF \n", "exit 0");
  expect_like_reference({{"-r", "-e", "delete_self,ignored", "w/sub/deep"}, prepare, remove, ""},
                        "w/sub/deep/ DELETE_SELF \n", "exit 0");
  expect_like_reference({{"-m", "-r", "-e", "delete,delete_self,ignored", "w"}, prepare, remove, "w/ IGNORED \n"},
                        "w/sub/ DELETE f\nw/sub/deep/ DELETE_SELF \nw/sub/deep/ IGNORED \nw/sub/ DELETE,ISDIR deep\n"
                        "w/sub/ DELETE_SELF \nw/sub/ IGNORED \nw/ DELETE,ISDIR sub\nw/ DELETE_SELF \nw/ IGNORED \n",
                        "signal 15");
}

// The -o file is on a file system that fills up: the real ENOSPC comes after a short write, in the
// middle of a line. Expected as for the injected one: the message, exit 1, whole lines only.
TEST(RealFaults, OutfileOnFullTmpfs) {
  NEED_ROOT("mounts a tmpfs");
  TempDir t("rel-faults");
  mkdir_p(t / "d");
  mkdir_p(t / "small");
  RunResult m = run({"/bin/mount", "-t", "tmpfs", "-o", "size=12k", "rel-faults", t / "small"});
  ASSERT_TRUE(m.exit.exited && m.exit.code == 0) << m.err;
  struct Unmount {
    std::string p;
    ~Unmount() { run({"/bin/umount", p}); }
  } unmount_later{t / "small"};
  Process p({bin("inotifywait"), "-m", "-e", "create", "-o", t / "small/events", "d"}, in(t.path()));
  ASSERT_TRUE(p.wait_stderr(kEstablished)) << p.describe();
  for (int i = 0; i < 5000 && p.err().find("Couldn't write") == std::string::npos; ++i) {
    touch(t / "d/a-somewhat-longer-name-" + std::to_string(i));
    if (i % 100 == 99) p.pump(10ms);
  }
  Exit e = p.wait(10s);
  EXPECT_TRUE(e.exited && e.code == 1) << p.describe();
  EXPECT_EQ(p.err(),
            std::string(kSetup) + std::string(kEstablished) + "Couldn't write events: No space left on device\n");
  std::string events = read_file(t / "small/events");
  EXPECT_FALSE(events.empty());
  EXPECT_TRUE(events.empty() || events.back() == '\n')
      << "a partial line was left in the file, ending with '"
      << events.substr(events.size() > 40 ? events.size() - 40 : 0) << "'";
}

// A directory turns unreadable between the moment its parent is listed and the moment the walk
// opens it. Root reads anything, so the programs run without CAP_DAC_OVERRIDE/DAC_READ_SEARCH.
// Expected, as when the directory was unreadable from the start (and as the reference does): no
// message, the rest of the tree watched, the unreadable directory not.
TEST(RealFaults, DirectoryUnreadableDuringWalk) {
  NEED_ROOT("drops capabilities with setpriv");
  const std::vector<std::string> drop{"/usr/bin/setpriv", "--inh-caps=-dac_override,-dac_read_search",
                                      "--bounding-set=-dac_override,-dac_read_search"};
  for (bool during : {false, true}) {
    TempDir t("rel-faults");
    for (const char* d : {"d/a/x", "d/b/x", "d/c/x"}) mkdir_p(t / d);
    ::chmod(t.path().c_str(), 0755);
    auto env = during ? shim(t, {{"FAULT_CHMOD_ON_OPEN", "d:" + (t / "d/b")}}) : std::map<std::string, std::string>{};
    if (!during) ::chmod((t / "d/b").c_str(), 0);
    std::vector<std::string> argv = drop;
    for (std::string a : {bin("inotifywait"), std::string("-m"), std::string("-r"), std::string("-e"),
                          std::string("create"), std::string("--format"), std::string("%w%f"), std::string("d")})
      argv.push_back(a);
    Process p(argv, in(t.path(), env));
    ASSERT_TRUE(p.wait_stderr(kEstablished)) << p.describe();
    if (during) {
      EXPECT_EQ(injected(t, "chmod 0"), 1);
    }
    struct stat st;
    ASSERT_EQ(::stat((t / "d/b").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0u);
    touch(t / "d/b/x/hidden");  // root (this test) can; the watcher has no watch there
    touch(t / "d/a/x/one");
    touch(t / "d/c/x/two");
    touch(t / "d/three");
    ASSERT_TRUE(p.wait_stdout("d/three\n")) << p.describe();
    p.signal(SIGTERM);
    p.wait();
    EXPECT_EQ(p.out(), "d/a/x/one\nd/c/x/two\nd/three\n") << (during ? "during the walk" : "before the walk");
    EXPECT_EQ(p.err(), std::string(kSetupR) + std::string(kEstablished));
    ::chmod((t / "d/b").c_str(), 0755);
  }
}

// ---- deeper than PATH_MAX ----------------------------------------------------------------------

// Directories are made and entered by descriptor: no path of the tree fits in PATH_MAX.
int open_chain(const std::string& root, int depth, const std::string& name, bool create) {
  if (create) mkdir_p(root);
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (int i = 0; i < depth && fd >= 0; ++i) {
    if (create) ::mkdirat(fd, name.c_str(), 0755);
    int next = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(fd);
    fd = next;
  }
  return fd;
}

// Failure messages with each 200-byte name shown as "D+".
std::string shorten(std::string s) {
  const std::string name(200, 'd');
  for (std::size_t pos; (pos = s.find(name)) != std::string::npos;) s.replace(pos, name.size(), "D+");
  return s;
}

void touch_at(int dirfd, const char* name) { ::close(::openat(dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)); }

TEST(RealFaults, TreeDeeperThanPathMax) {
  TempDir t("rel-faults");
  const std::string name(200, 'd');
  const int depth = 30;  // 30 * 201 bytes: 6,030, well past PATH_MAX (4096)
  int leaf = open_chain(t / "deep", depth, name, true);
  ASSERT_GE(leaf, 0);
  ::close(leaf);
  std::string deep_path = "deep/";
  for (int i = 0; i < depth; ++i) deep_path += name + "/";

  Process p({bin("inotifywait"), "-m", "-r", "-e", "create,moved_to", "--format", "%w%f", "deep"}, in(t.path()));
  ASSERT_TRUE(p.wait_stderr(kEstablished)) << p.describe();
  EXPECT_EQ(p.err(), std::string(kSetupR) + std::string(kEstablished));

  // An event at the bottom: the whole path, beyond PATH_MAX (D15: long lines are printed whole).
  leaf = open_chain(t / "deep", depth, name, false);
  ASSERT_GE(leaf, 0);
  touch_at(leaf, "leaf");
  ASSERT_TRUE(p.wait_stdout(deep_path + "leaf\n")) << shorten(p.describe());
  // A new directory at the bottom is watched too (its path is longer than PATH_MAX).
  ASSERT_EQ(::mkdirat(leaf, "newdir", 0755), 0);
  ASSERT_TRUE(p.wait_stdout(deep_path + "newdir\n")) << shorten(p.describe());
  int nd = ::openat(leaf, "newdir", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  touch_at(nd, "inside");
  ::close(nd);
  ASSERT_TRUE(p.wait_stdout(deep_path + "newdir/inside\n")) << shorten(p.describe());
  ::close(leaf);

  // Rename a directory near the top: the events below carry the new name.
  int top = open_chain(t / "deep", 1, name, false);
  ASSERT_EQ(::renameat(top, name.c_str(), top, "renamed"), 0);
  ASSERT_TRUE(p.wait_stdout("deep/" + name + "/renamed\n")) << shorten(p.describe());
  int bottom = ::openat(top, "renamed", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (int i = 2; i < depth && bottom >= 0; ++i) {
    int next = ::openat(bottom, name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(bottom);
    bottom = next;
  }
  ::close(top);
  ASSERT_GE(bottom, 0);
  touch_at(bottom, "after-rename");
  ::close(bottom);
  std::string renamed_path = "deep/" + name + "/renamed/";
  for (int i = 2; i < depth; ++i) renamed_path += name + "/";
  ASSERT_TRUE(p.wait_stdout(renamed_path + "after-rename\n")) << shorten(p.describe());
  p.signal(SIGTERM);
  p.wait();
  EXPECT_EQ(p.err(), std::string(kSetupR) + std::string(kEstablished));
  // TempDir's clean-up walks by path: cut the tree by descriptor first.
  RunResult rm = run({"/bin/rm", "-rf", t / "deep"});
  EXPECT_TRUE(rm.exit.exited && rm.exit.code == 0) << rm.err;
}

TEST(RealFaults, TreeDeeperThanPathMaxInotifywatch) {
  TempDir t("rel-faults");
  const std::string name(200, 'd');
  int leaf = open_chain(t / "deep", 30, name, true);
  ASSERT_GE(leaf, 0);
  Process p({bin("inotifywatch"), "-r", "-e", "create", "deep"}, in(t.path()));
  ASSERT_TRUE(p.wait_stderr("now collecting statistics.\n")) << p.describe();
  ASSERT_TRUE(wait_handler(p.pid(), SIGUSR1));
  touch_at(leaf, "leaf");
  ::close(leaf);
  for (int tries = 0;
       tries < 100 && p.out().find("leaf") == std::string::npos && p.out().find("1  ") == std::string::npos; ++tries) {
    p.signal(SIGUSR1);
    p.pump(100ms);
  }
  p.signal(SIGINT);
  Exit e = p.wait();
  EXPECT_TRUE(e.exited && e.code == 0) << shorten(p.describe());
  std::string want_row = "1      1       deep/";
  for (int i = 0; i < 30; ++i) want_row += name + "/";
  EXPECT_NE(p.out().find(want_row + "\n"), std::string::npos) << shorten(p.out());
  RunResult rm = run({"/bin/rm", "-rf", t / "deep"});
  EXPECT_TRUE(rm.exit.exited && rm.exit.code == 0) << rm.err;
}

// ---- 200,000 entries while the consumer is stopped ----------------------------------------------

char proc_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = s.rfind(')');
  return close == std::string::npos || close + 2 >= s.size() ? '?' : s[close + 2];
}

long read_long(const char* path) {
  long v = -1;
  std::ifstream(path) >> v;
  return v;
}

void write_long(const char* path, long v) { std::ofstream(path) << v << "\n"; }

TEST(RealFaults, BurstOf200000WhileStopped) {
  // The kernel takes max_queued_events when the inotify instance is created. When it is raised far
  // above the default (other suites and benchmarks do), it is lowered to the default only while
  // the watcher starts, and put back unless somebody changed it meanwhile.
  constexpr const char* kLimit = "/proc/sys/fs/inotify/max_queued_events";
  const long limit = read_long(kLimit);
  long lowered = 0;
  if (limit >= 150000) {
    if (!is_root()) GTEST_SKIP() << "max_queued_events is " << limit << " and only root can lower it";
    write_long(kLimit, 16384);
    lowered = 16384;
  }
  // tmpfs: 200,000 entries are created and removed in a second or two.
  std::string base = "/dev/shm/rel-faults-burst.XXXXXX";
  ASSERT_NE(::mkdtemp(base.data()), nullptr);
  struct Cleanup {
    std::string p;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } cleanup{base};
  for (int i = 0; i < 4; ++i) mkdir_p(base + "/d/s" + std::to_string(i));

  Process p({bin("inotifywait"), "-m", "-r", "-e", "create", "-e", "q_overflow", "--format", "%e %w%f", "d"}, in(base));
  const bool ready = p.wait_stderr(kEstablished);
  if (lowered) {
    const long now = read_long(kLimit);
    if (now == lowered) write_long(kLimit, limit);
    if (now != lowered) GTEST_SKIP() << "max_queued_events was changed by someone else while the watcher started";
  }
  ASSERT_TRUE(ready) << p.describe();
  ::kill(p.pid(), SIGSTOP);
  for (int i = 0; i < 1000 && proc_state(p.pid()) != 'T'; ++i) ::usleep(1000);
  ASSERT_EQ(proc_state(p.pid()), 'T');

  // 200,000 entries. First 20,000 files in a watched directory: more events than the kernel
  // queue holds, so it overflows. Then, with events being dropped, 1,000 new directories (with 9
  // files each): nobody hears of them until the rescan. Then 170,000 more files.
  constexpr int kDirs = 1000;
  char name[64];
  int d = ::open((base + "/d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  auto files = [&](const char* dir, int count) {
    int fd = ::openat(d, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (int j = 0; j < count; ++j) {
      std::snprintf(name, sizeof name, "f%06d", j);
      touch_at(fd, name);
    }
    ::close(fd);
  };
  files("s0", 20000);
  for (int i = 0; i < kDirs; ++i) {
    std::snprintf(name, sizeof name, "n%04d", i);
    ASSERT_EQ(::mkdirat(d, name, 0755), 0);
    files(name, 9);
  }
  for (const char* s : {"s1", "s2", "s3"}) files(s, 170000 / 3 + (s[1] == '1' ? 170000 % 3 : 0));
  ::close(d);

  ::kill(p.pid(), SIGCONT);
  if (!p.wait_stdout("Q_OVERFLOW \n", 60s)) {
    const std::string& o = p.out();
    FAIL() << "no overflow reported; " << std::count(o.begin(), o.end(), '\n') << " lines, ending with\n"
           << o.substr(o.size() > 500 ? o.size() - 500 : 0) << "\nstderr: " << p.err();
  }
  ASSERT_TRUE(
      p.wait_stderr("Warning: the event queue overflowed and some events were lost; rescanning the watched trees.\n"))
      << p.err();
  // An event printed after the overflow means the rescan is done (it runs before the next event
  // is delivered): from then on the new directories are watched.
  touch(base + "/d/marker");
  ASSERT_TRUE(p.wait_stdout("CREATE d/marker\n", 60s)) << shorten(p.describe());
  std::string want;
  for (int i = 0; i < kDirs; ++i) {
    std::snprintf(name, sizeof name, "n%04d", i);
    touch(base + "/d/" + name + "/probe");
    want += std::string("CREATE d/") + name + "/probe\n";
  }
  mkdir_p(base + "/d/late/x");  // created after the overflow: reported, contents too (D1)
  touch(base + "/d/late/x/f");
  ASSERT_TRUE(p.wait_stdout("CREATE d/late/x/f\n", 60s)) << shorten(p.describe());
  p.signal(SIGTERM);
  p.wait();
  const std::string& out = p.out();
  std::string after = out.substr(out.find("CREATE d/marker\n") + 16);
  std::string probes;
  for (std::size_t pos = 0; pos < after.size();) {
    std::size_t nl = after.find('\n', pos);
    std::string line = after.substr(pos, nl - pos + 1);
    if (line.find("/probe\n") != std::string::npos) probes += line;
    pos = nl + 1;
  }
  EXPECT_EQ(probes, want) << "events in directories created during the overflow were lost";
  EXPECT_NE(after.find("CREATE,ISDIR d/late\n"), std::string::npos);
  EXPECT_EQ(p.err().find("Couldn't"), std::string::npos) << p.err();
}

}  // namespace
