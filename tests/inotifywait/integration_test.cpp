// build/bin/inotifywait against the real kernel: every option and conversion, the exit statuses,
// the error messages, the deliberate differences D1-D16, the output behaviour for pipes (each
// event at once, bursts in large writes, a reader that goes away, a stalled reader).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "iwtest.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using testsupport::Process;
using testsupport::RunResult;

class Inotifywait : public testing::Test {
 protected:
  testsupport::TempDir dir{"iwtest"};

  void SetUp() override {
    testsupport::mkdir_p(dir / "d");
    testsupport::write_file(dir / "f", "hi\n");
  }

  std::string at(const std::string& rel) const { return dir / rel; }

  Process::Options opts(Process::Options o = {}) const {
    if (o.cwd.empty()) o.cwd = dir.path();
    if (o.argv0.empty()) o.argv0 = iwtest::program();
    return o;
  }

  std::unique_ptr<Process> start(std::vector<std::string> args, Process::Options o = {}) {
    args.insert(args.begin(), testsupport::bin(iwtest::program()));
    return std::make_unique<Process>(args, opts(std::move(o)));
  }

  // Starts and waits for "Watches established.".
  std::unique_ptr<Process> ready(std::vector<std::string> args, Process::Options o = {}) {
    auto p = start(std::move(args), std::move(o));
    EXPECT_TRUE(p->wait_stderr("Watches established.")) << p->describe();
    return p;
  }

  RunResult run(std::vector<std::string> args, Process::Options o = {}) {
    args.insert(args.begin(), testsupport::bin(iwtest::program()));
    return testsupport::run(args, opts(std::move(o)));
  }

  void sh(const std::string& script) { iwtest::sh(dir.path(), script); }
};

std::string exit_text(const testsupport::Exit& e) {
  if (e.timed_out) return "timed out";
  return e.exited ? "exit " + std::to_string(e.code) : "signal " + std::to_string(e.signal);
}

#define EXPECT_EXIT_CODE(exit_value, code) EXPECT_EQ(exit_text(exit_value), "exit " + std::to_string(code))

// ---- messages and exit statuses ------------------------------------------------------------

TEST_F(Inotifywait, HelpNamesOurProgramInTheReferenceLayoutD16) {
  auto r = run({"--help"});
  EXPECT_EXIT_CODE(r.exit, 1);
  EXPECT_EQ(r.err, "");
  const std::string name = iwtest::program();  // fsnotifywait prints its own name
  EXPECT_EQ(r.out.rfind(name + " (libwatch) ", 0), 0u) << r.out;
  for (const std::string& part :
       {"\nUsage: " + name + " [ options ] file1 [ file2 ] [ file3 ] [ ... ]\nOptions:\n\t-h|--help",
        std::string("\n\nExit status:\n\t0  -  "), std::string("\n\nEvents:\n\taccess\t\t"),
        std::string("\tunmount\t\t")})
    EXPECT_NE(r.out.find(part), std::string::npos) << part;
  EXPECT_EQ(run({"-h", "d"}).out, r.out);
}

// --version is an addition: the first line of --help on stdout, exit 0, acted on when it is seen.
TEST_F(Inotifywait, VersionIsTheFirstLineOfHelp) {
  auto r = run({"--version"});
  EXPECT_EXIT_CODE(r.exit, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind(iwtest::program() + " (libwatch) ", 0), 0u) << r.out;
  auto h = run({"--help"});
  EXPECT_EQ(h.out.substr(0, h.out.find('\n') + 1), r.out);
  auto late = run({"-m", "--version", "-x", "nope"});
  EXPECT_EXIT_CODE(late.exit, 0);
  EXPECT_EQ(late.out, r.out);
  EXPECT_EQ(late.err, "");
  // Only in full: a prefix is still unrecognized, as with the reference (compare_test.cpp).
  auto prefix = run({"--versio", "d"});
  EXPECT_EXIT_CODE(prefix.exit, 1);
  EXPECT_EQ(prefix.err, iwtest::program() + ": unrecognized option '--versio'\n");
  auto with_value = run({"--version=1", "d"});
  EXPECT_EXIT_CODE(with_value.exit, 1);
  EXPECT_EQ(with_value.err, iwtest::program() + ": option '--version' doesn't allow an argument\n");
  EXPECT_EQ(with_value.out, "");
  // A stdout that cannot be written is an error, not a silent success.
  auto full = testsupport::run({"/bin/sh", "-c", "exec \"$0\" --version >/dev/full", testsupport::bin("inotifywait")});
  EXPECT_EXIT_CODE(full.exit, 1);
  EXPECT_EQ(full.err, "Couldn't write the version: No space left on device\n");
}

TEST_F(Inotifywait, NoOperands) {
  auto r = run({});
  EXPECT_EXIT_CODE(r.exit, 1);
  EXPECT_EQ(r.err, "No files specified to watch!\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(Inotifywait, MissingPath) {
  auto r = run({"d", "nonexist"});
  EXPECT_EXIT_CODE(r.exit, 1);
  EXPECT_EQ(r.err, "Setting up watches.\nCouldn't watch nonexist: No such file or directory\n");
  auto q = run({"-qq", "nonexist"});
  EXPECT_EQ(q.err, "Couldn't watch nonexist: No such file or directory\n");
}

TEST_F(Inotifywait, UnreadableDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to nobody with setpriv";
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "setpriv is not installed";
  sh("chmod 755 .; mkdir locked; chmod 000 locked");
  std::vector<std::string> args{"/usr/bin/setpriv",
                                "--reuid=65534",
                                "--regid=65534",
                                "--clear-groups",
                                testsupport::bin("inotifywait"),
                                "locked"};
  if (testsupport::run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/test", "-x",
                        testsupport::bin("inotifywait")})
          .exit.code != 0)
    GTEST_SKIP() << "the build directory is not reachable for nobody";
  Process::Options o;
  o.cwd = dir.path();
  auto r = testsupport::run(args, o);
  EXPECT_EXIT_CODE(r.exit, 1);
  EXPECT_EQ(r.err, "Setting up watches.\nCouldn't watch locked: Permission denied\n");
}

TEST_F(Inotifywait, InvalidEvent) {
  auto r = run({"-e", "modify,foo", "d"});
  EXPECT_EXIT_CODE(r.exit, 1);
  EXPECT_EQ(r.err, "'modify,foo' is not a valid event!  Run with the '--help' option to see a list of events.\n");
}

TEST_F(Inotifywait, BadRegex) {
  auto r = run({"--exclude", "(", "d"});
  EXPECT_EXIT_CODE(r.exit, 1);
  EXPECT_EQ(r.err, "Error in `exclude' regular expression.\n");
  auto i = run({"--includei", "a{1", "d"});
  EXPECT_EXIT_CODE(i.exit, 1);
  EXPECT_EQ(i.err, "Error in `include' regular expression.\n");
}

TEST_F(Inotifywait, DaemonWithoutOutfile) {
  auto r = run({"-d", "d"});
  EXPECT_EXIT_CODE(r.exit, 1);
  EXPECT_EQ(r.err, "-o must be specified with -d.\n");
}

TEST_F(Inotifywait, GetoptDiagnosticsUseArgv0) {
  Process::Options o;
  o.argv0 = "/some/where/inotifywait";
  auto r = run({"-x", "d"}, o);
  EXPECT_EXIT_CODE(r.exit, 1);
  EXPECT_EQ(r.err, "/some/where/inotifywait: invalid option -- 'x'\n");
  auto a = run({"--ex", "y", "d"});
  EXPECT_EQ(a.err, iwtest::program() + ": option '--ex' is ambiguous; possibilities: '--exclude' '--excludei'\n");
  auto m = run({"d", "--timeout"});
  EXPECT_EQ(m.err, iwtest::program() + ": option '--timeout' requires an argument\n");
  auto both = run({"--no-newline", "-x", "d"});
  EXPECT_EQ(both.err,
            iwtest::program() + ": invalid option -- 'x'\n--no-newline cannot be specified without --format.\n");
}

TEST_F(Inotifywait, TimeoutValuesD9) {
  auto neg = run({"-t", "-1", "d"});
  EXPECT_EXIT_CODE(neg.exit, 1);
  EXPECT_EQ(neg.err, "'-1' is not a valid timeout value.\nPlease specify a number of seconds from 0 to 4294967295.\n");
  auto wrap = run({"-t", "4294967297", "d"});
  EXPECT_EXIT_CODE(wrap.exit, 1);
  auto garbage = run({"-t", "1.5", "d"});
  EXPECT_EQ(garbage.err, "'1.5' is not a valid timeout value.\nPlease specify a long int value.\n");
}

TEST_F(Inotifywait, TimeoutExpiresWithStatus2) {
  auto r = run({"-t", "1", "d"});
  EXPECT_EXIT_CODE(r.exit, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "Setting up watches.\nWatches established.\n");
  auto m = run({"-m", "--timeout=1", "-q", "d"});
  EXPECT_EXIT_CODE(m.exit, 2);
}

TEST_F(Inotifywait, InotifyBackendOptionsAccepted) {
  auto r = run({"-I", "--inotify", "-F", "--filesystem", "-S", "-t", "1", "d"});
  EXPECT_EXIT_CODE(r.exit, 2);
  EXPECT_EQ(r.err, "Setting up watches.\nWatches established.\n");
}

TEST_F(Inotifywait, FilenameOptionNoLongerExists) {
  auto r = run({"--filename", "d"});
  EXPECT_EXIT_CODE(r.exit, 1);
  EXPECT_EQ(r.err,
            "The '--filename' option no longer exists.  The option it enabled in earlier\n"
            "versions of inotifywait is now turned on by default.\n");
}

// ---- single-event mode -----------------------------------------------------------------------

TEST_F(Inotifywait, SingleEventExitsZero) {
  auto p = ready({"d"});
  testsupport::touch(at("d/a"));
  auto e = p->wait();
  EXPECT_EXIT_CODE(e, 0);
  EXPECT_EQ(p->out(), "d/ CREATE a\n");
}

TEST_F(Inotifywait, UnrequestedIgnoredEndsWithStatus1) {
  auto p = ready({"-e", "modify", "f"});
  ASSERT_EQ(::unlink(at("f").c_str()), 0);
  EXPECT_EXIT_CODE(p->wait(), 1);
  EXPECT_EQ(p->out(), "");
}

TEST_F(Inotifywait, RequestedIgnoredAndDeleteSelf) {
  auto p = ready({"-e", "ignored", "f"});
  ASSERT_EQ(::unlink(at("f").c_str()), 0);
  EXPECT_EXIT_CODE(p->wait(), 0);
  EXPECT_EQ(p->out(), "f IGNORED \n");
  testsupport::write_file(at("f"), "x");
  auto q = ready({"-e", "delete_self", "f"});
  ASSERT_EQ(::unlink(at("f").c_str()), 0);
  EXPECT_EXIT_CODE(q->wait(), 0);
  EXPECT_EQ(q->out(), "f DELETE_SELF \n");
}

TEST_F(Inotifywait, QuietLevels) {
  auto q = start({"-q", "d"});
  ASSERT_TRUE(iwtest::wait_watches(*q, 1));
  testsupport::touch(at("d/a"));
  EXPECT_EXIT_CODE(q->wait(), 0);
  EXPECT_EQ(q->out(), "d/ CREATE a\n");
  EXPECT_EQ(q->err(), "");

  auto qq = start({"-q", "--quiet", "d"});
  ASSERT_TRUE(iwtest::wait_watches(*qq, 1));
  testsupport::touch(at("d/b"));
  EXPECT_EXIT_CODE(qq->wait(), 0);
  EXPECT_EQ(qq->out(), "");
  EXPECT_EQ(qq->err(), "");
}

TEST_F(Inotifywait, UnmountEndsTheWait) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a private mount namespace";
  if (::unshare(CLONE_NEWNS) != 0) GTEST_SKIP() << "unshare(CLONE_NEWNS): " << std::strerror(errno);
  ASSERT_EQ(::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  testsupport::mkdir_p(at("mnt"));
  for (bool requested : {true, false}) {
    ASSERT_EQ(::mount("tmpfs", at("mnt").c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
    std::vector<std::string> args{"mnt"};
    if (requested) args = {"-e", "unmount", "mnt"};
    auto p = ready(args);
    ASSERT_EQ(::umount(at("mnt").c_str()), 0) << std::strerror(errno);
    EXPECT_EXIT_CODE(p->wait(), requested ? 0 : 1);
    EXPECT_EQ(p->out(), requested ? "mnt/ UNMOUNT,ISDIR \n" : "");
  }
}

// ---- monitor mode, event selection, paths ----------------------------------------------------

TEST_F(Inotifywait, MonitorShowsEachEventAtOnce) {
  // A `while read` consumer must see every line as soon as it happens, without a later event
  // pushing it out.
  auto p = ready({"-m", "-e", "create", "d"});
  for (const char* name : {"one", "two", "three"}) {
    testsupport::touch(at(std::string("d/") + name));
    EXPECT_TRUE(p->wait_stdout(std::string("d/ CREATE ") + name + "\n")) << p->describe();
  }
  p->signal(SIGTERM);
  EXPECT_EQ(exit_text(p->wait()), "signal 15");
  EXPECT_EQ(p->out(), "d/ CREATE one\nd/ CREATE two\nd/ CREATE three\n");
}

TEST_F(Inotifywait, EventSelection) {
  auto p = ready({"-m", "-e", "close_write", "--event=MOVED_TO,delete", "d"});
  sh("echo x > d/a; mv d/a d/b; cat d/b >/dev/null; rm d/b; touch d/end");
  ASSERT_TRUE(p->wait_stdout("d/ CLOSE_WRITE,CLOSE end\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out(), "d/ CLOSE_WRITE,CLOSE a\nd/ MOVED_TO b\nd/ DELETE b\nd/ CLOSE_WRITE,CLOSE end\n");
}

TEST_F(Inotifywait, EmptyListElementsAreIgnoredD10) {
  auto p = ready({"-m", "-e", "modify,", "d"});
  sh("echo x > d/a; echo y > d/end");
  ASSERT_TRUE(p->wait_stdout("d/ MODIFY end\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out(), "d/ MODIFY a\nd/ MODIFY end\n");  // the reference prints every event here
}

TEST_F(Inotifywait, RecursiveWithExclusion) {
  sh("mkdir -p d/s/t d/u");
  auto p = ready({"-m", "-r", "-e", "create", "d", "@d/s/t"});
  EXPECT_EQ(p->err(),
            "Setting up watches.  Beware: since -r was given, this may take a while!\nWatches established.\n");
  sh("touch d/s/t/no d/u/yes d/s/end");
  ASSERT_TRUE(p->wait_stdout("d/s/ CREATE end\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out(), "d/u/ CREATE yes\nd/s/ CREATE end\n");
}

TEST_F(Inotifywait, NoDereference) {
  sh("ln -s f fl");
  auto p = ready({"-m", "-P", "fl"});
  sh("echo more >> f; touch -h fl");
  ASSERT_TRUE(p->wait_stdout("fl ATTRIB \n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out(), "fl ATTRIB \n");
  // Without -P the target is watched.
  auto q = ready({"-e", "modify", "fl"});
  sh("echo more >> f");
  EXPECT_EXIT_CODE(q->wait(), 0);
  EXPECT_EQ(q->out(), "fl MODIFY \n");
}

TEST_F(Inotifywait, FromfileAndOperands) {
  testsupport::write_file(at("list"), "f\n@ignored\n\n");
  Process::Options o;
  o.stdin_data = "d\n";
  auto p = ready({"-m", "-e", "attrib", "--fromfile", "-"}, o);
  sh("touch f d/x; chmod 600 d/x");
  ASSERT_TRUE(p->wait_stdout("d/ ATTRIB x\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  auto q = ready({"-e", "attrib", "--fromfile", "list"});
  sh("touch f");
  EXPECT_EXIT_CODE(q->wait(), 0);
  EXPECT_EQ(q->out(), "f ATTRIB \n");
}

TEST_F(Inotifywait, OutfileIsCreatedPrivateAndAppended) {
  auto p = start({"-q", "-o", "log", "d"});
  ASSERT_TRUE(iwtest::wait_watches(*p, 1));
  testsupport::touch(at("d/a"));
  EXPECT_EXIT_CODE(p->wait(), 0);
  EXPECT_EQ(p->out(), "");
  EXPECT_EQ(testsupport::read_file(at("log")), "d/ CREATE a\n");
  struct stat st {};
  ASSERT_EQ(::stat(at("log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto q = start({"-q", "--outfile", "log", "d"});
  ASSERT_TRUE(iwtest::wait_watches(*q, 1));
  testsupport::touch(at("d/b"));
  EXPECT_EXIT_CODE(q->wait(), 0);
  EXPECT_EQ(testsupport::read_file(at("log")), "d/ CREATE a\nd/ CREATE b\n");
  auto bad = run({"-o", "/nonexistent/dir/log", "d"});
  EXPECT_EXIT_CODE(bad.exit, 1);
  EXPECT_EQ(bad.err, "Failed to open output file /nonexistent/dir/log\n");
}

TEST_F(Inotifywait, Filters) {
  struct Case {
    std::vector<std::string> opt;
    std::string expected;
  };
  const Case cases[] = {
      {{"--exclude", "\\.tmp$"}, "d/ CREATE b.txt\nd/ CREATE c.TMP\nd/ CREATE end\n"},
      {{"--excludei", "\\.tmp$"}, "d/ CREATE b.txt\nd/ CREATE end\n"},
      {{"--include", "(txt|end)$"}, "d/ CREATE b.txt\nd/ CREATE end\n"},
      {{"--includei", "^D/(C|E)"}, "d/ CREATE c.TMP\nd/ CREATE end\n"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args{"-m", "-e", "create"};
    args.insert(args.end(), c.opt.begin(), c.opt.end());
    args.push_back("d");
    auto p = ready(args);
    sh("touch d/a.tmp d/b.txt d/c.TMP d/end");
    ASSERT_TRUE(p->wait_stdout("d/ CREATE end\n")) << p->describe();
    p->signal(SIGTERM);
    p->wait();
    EXPECT_EQ(p->out(), c.expected) << c.opt[0];
    sh("rm d/*");
  }
}

// ---- output formats --------------------------------------------------------------------------

TEST_F(Inotifywait, CsvQuoting) {
  auto p = ready({"-m", "-c", "-e", "create", "d"});
  for (const char* n : {"plain", "a,b", "q\"uote", " lead", "trail ", "sp ace", "nl\nx", "t\tab"})
    testsupport::touch(at(std::string("d/") + n));
  testsupport::mkdir_p(at("d/sub"));
  ASSERT_TRUE(p->wait_stdout("d/,\"CREATE,ISDIR\",sub\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out(),
            "d/,CREATE,plain\nd/,CREATE,\"a,b\"\nd/,CREATE,\"q\"\"uote\"\nd/,CREATE,\" lead\"\nd/,CREATE,\"trail \"\n"
            "d/,CREATE,sp ace\nd/,CREATE,\"nl\nx\"\nd/,CREATE,t\tab\nd/,\"CREATE,ISDIR\",sub\n");
  auto f = ready({"--csv", "-e", "attrib", "f"});
  ASSERT_EQ(::chmod(at("f").c_str(), 0600), 0);
  f->wait();
  EXPECT_EQ(f->out(), "f,ATTRIB,\n");
}

TEST_F(Inotifywait, FormatConversions) {
  Process::Options o;
  o.env["TZ"] = "UTC";
  auto p =
      ready({"--format", "[%w][%f][%e][%:e][%Xe][%c][%%][%z][%0][%n][%we][%.e][%T]", "--timefmt", "%Y-%m-%d", "d"}, o);
  std::time_t before = std::time(nullptr);
  testsupport::mkdir_p(at("d/x"));
  EXPECT_EXIT_CODE(p->wait(), 0);
  std::time_t after = std::time(nullptr);
  auto date = [](std::time_t t) {
    char buf[32];
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return std::string(buf);
  };
  std::string head = "[d/][x][CREATE,ISDIR][CREATE:ISDIR][CREATEXISDIR][0][%][%z][";
  head += '\0';
  head += "][\n][d/e][CREATE.ISDIR][";
  EXPECT_TRUE(p->out() == head + date(before) + "]\n" || p->out() == head + date(after) + "]\n") << p->out();
}

TEST_F(Inotifywait, CookiePairsMoves) {
  auto p = ready({"-m", "--format", "%e %c %f", "-e", "move", "d"});
  sh("touch d/a; mv d/a d/b");
  ASSERT_TRUE(p->wait_stdout(" b\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  std::smatch m;
  std::string out = p->out();
  ASSERT_TRUE(std::regex_match(out, m, std::regex("MOVED_FROM ([0-9a-f]+) a\nMOVED_TO ([0-9a-f]+) b\n"))) << out;
  EXPECT_EQ(m[1], m[2]);
  EXPECT_NE(m[1], "0");
}

TEST_F(Inotifywait, NoNewlineAndNulDelimited) {
  auto p = ready({"-m", "--format", "%w%f%0", "--no-newline", "-e", "create,moved_to,moved_from", "d"});
  sh("touch 'd/with\nnewline'; mv 'd/with\nnewline' d/dst");
  ASSERT_TRUE(p->wait_stdout(std::string("d/dst\0", 6))) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out(), std::string("d/with\nnewline\0d/with\nnewline\0d/dst\0", 36));
}

TEST_F(Inotifywait, TrailingPercentAndEmptyTimeD7) {
  auto p = ready({"--format", "abc%", "--no-newline", "d"});
  testsupport::touch(at("d/a"));
  EXPECT_EXIT_CODE(p->wait(), 0);
  EXPECT_EQ(p->out(), "abc%");
  auto q = ready({"--format", "<%T>%f", "--timefmt", "", "d"});
  testsupport::touch(at("d/b"));
  EXPECT_EXIT_CODE(q->wait(), 0);
  EXPECT_EQ(q->out(), "<>b\n");
}

TEST_F(Inotifywait, LastFormatWinsD11) {
  std::string longer(300, 'L');
  auto p = ready({"--format", "a", "--format", longer + "%f", "d"});
  testsupport::touch(at("d/a"));
  EXPECT_EXIT_CODE(p->wait(), 0);
  EXPECT_EQ(p->out(), longer + "a\n");
}

TEST_F(Inotifywait, QuietFormatsAreAcceptedD12) {
  auto p = ready({"--format", "", "--no-newline", "d"});
  testsupport::touch(at("d/a"));
  EXPECT_EXIT_CODE(p->wait(), 0);
  EXPECT_EQ(p->out(), "");
  auto q = ready({"-m", "--format", "%f", "--no-newline", "-e", "create", "d"});
  sh("touch d/b d/c");
  ASSERT_TRUE(q->wait_stdout("bc")) << q->describe();
  q->signal(SIGTERM);
  q->wait();
  EXPECT_EQ(q->out(), "bc");
}

TEST_F(Inotifywait, LongLinesArePrintedWholeD15) {
  std::string fmt(5000, 'X');
  std::string name(250, 'n');
  auto p = ready({"--format", fmt + "%w%f", "d"});
  testsupport::touch(at("d/" + name));
  EXPECT_EXIT_CODE(p->wait(), 0);
  EXPECT_EQ(p->out(), fmt + "d/" + name + "\n");
}

// ---- deliberate differences in monitor -r mode -------------------------------------------------

TEST_F(Inotifywait, NewTreesAreReportedCompletelyD1) {
  auto p = ready({"-m", "-r", "-e", "create", "d"});
  constexpr int kRounds = 50;
  for (int i = 0; i < kRounds; ++i) {
    std::string top = at("d/t" + std::to_string(i));
    ASSERT_EQ(::mkdir(top.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((top + "/b").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((top + "/b/c").c_str(), 0755), 0);
    testsupport::touch(top + "/b/c/f");
  }
  std::string last = "d/t" + std::to_string(kRounds - 1) + "/b/c/ CREATE f\n";
  ASSERT_TRUE(p->wait_stdout(last)) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  for (int i = 0; i < kRounds; ++i) {
    std::string t = "t" + std::to_string(i);
    for (std::string line : {"d/ CREATE,ISDIR " + t + "\n", "d/" + t + "/ CREATE,ISDIR b\n",
                             "d/" + t + "/b/ CREATE,ISDIR c\n", "d/" + t + "/b/c/ CREATE f\n"})
      EXPECT_NE(p->out().find(line), std::string::npos) << "missing: " << line;
  }
}

TEST_F(Inotifywait, PathsFollowRenamesAndMovesD2) {
  sh("mkdir -p d/a1/a2/a3/a4/a5/a6 outside");
  auto p = ready({"-m", "-r", "-e", "create", "d"});
  sh("mv d/a1 d/b1; touch d/b1/a2/a3/a4/a5/a6/deep");
  ASSERT_TRUE(p->wait_stdout("d/b1/a2/a3/a4/a5/a6/ CREATE deep\n")) << p->describe();
  // Moved out of the tree: its watches go (only d/ is left), and nothing more is heard from it.
  sh("mv d/b1 outside/b1");
  ASSERT_TRUE(iwtest::wait_watches_at_most(*p, 1)) << iwtest::inotify_watches(p->pid()) << " watches";
  sh("touch outside/b1/a2/gone");
  // Delete, re-create, rename: the new name.
  sh("mkdir d/x; rmdir d/x; mkdir d/x; mv d/x d/y; touch d/y/f");
  ASSERT_TRUE(p->wait_stdout("d/y/ CREATE f\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out().find("gone"), std::string::npos) << p->out();
  EXPECT_EQ(p->out().find("d/x/ CREATE f"), std::string::npos) << p->out();
}

TEST_F(Inotifywait, FiltersDoNotStopNewDirectoriesFromBeingWatchedD5) {
  auto p = ready({"-m", "-r", "--include", "\\.txt$", "-e", "create", "d"});
  sh("mkdir d/new; touch d/new/c.dat d/new/c.txt");
  ASSERT_TRUE(p->wait_stdout("d/new/ CREATE c.txt\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out(), "d/new/ CREATE c.txt\n");
}

TEST_F(Inotifywait, FilteredEventsDoNotExtendTheTimeoutD13) {
  auto p = ready({"-m", "-t", "2", "--exclude", "noise", "d"});
  auto start_time = testsupport::Clock::now();
  // The reference would never time out while "noise" keeps changing.
  while (testsupport::Clock::now() - start_time < 15s && !iwtest::ended(p->pid())) {
    testsupport::touch(at("d/noise"));
    p->pump(100ms);
  }
  auto e = p->wait(20s);
  EXPECT_EXIT_CODE(e, 2);
  EXPECT_LT(testsupport::Clock::now() - start_time, 10s);
  EXPECT_EQ(p->out(), "");
}

TEST_F(Inotifywait, OwnDirectoryReadsAreNotReportedOnTheNewWatchD14) {
  // The scan of a new directory reads it; its own watch must not report that read. (The parent's
  // watch still sees "d/ OPEN,ISDIR n" and friends, as with the reference: libwatch cannot tell
  // its own read from someone else's there.)
  auto p = ready({"-m", "-r", "d"});
  sh("mkdir d/n; touch d/n/x");
  // x may be made before or after d/n's watch: either way "CREATE x" comes (real or from the scan).
  ASSERT_TRUE(p->wait_stdout("d/n/ CREATE x\n")) << p->describe();
  // m is made once the scan is over, so its events queue behind any the scan's read caused.
  sh("touch d/n/m");
  ASSERT_TRUE(p->wait_stdout("d/n/ CLOSE_WRITE,CLOSE m\n")) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  for (const char* self : {"d/n/ OPEN,ISDIR", "d/n/ ACCESS,ISDIR", "d/n/ CLOSE_NOWRITE,CLOSE,ISDIR"})
    EXPECT_EQ(p->out().find(self), std::string::npos) << p->out();
  EXPECT_NE(p->out().find("d/ CREATE,ISDIR n\n"), std::string::npos) << p->out();
}

long queued_events_limit() {
  long queued = 16384;
  std::ifstream("/proc/sys/fs/inotify/max_queued_events") >> queued;
  return queued;
}

TEST_F(Inotifywait, OverflowIsReportedD4) {
  // The kernel takes max_queued_events when the instance is created. Other test suites on a
  // shared machine may change it for a moment, so it is read before and after the start.
  long before = queued_events_limit();
  if (before > 2'000'000) GTEST_SKIP() << "max_queued_events is " << before << ": too slow to overflow";
  // MODIFY must be in the kernel mask to fill the queue; the regex keeps those lines out (the
  // overflow's %w%f is empty, so it passes).
  auto p = ready({"-m", "-e", "q_overflow,modify", "--exclude", "/[ab]$", "d"});
  long after = queued_events_limit();
  long queued = std::max(before, after);
  if (queued > 2'000'000) GTEST_SKIP() << "max_queued_events is " << queued << ": too slow to overflow";
  // Stop the whole process (its reader thread too), so that the kernel queue overflows.
  p->signal(SIGSTOP);
  ASSERT_TRUE(iwtest::wait_stopped(p->pid()));
  int a = ::open(at("d/a").c_str(), O_WRONLY | O_CREAT, 0644);
  int b = ::open(at("d/b").c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (long i = 0; i < queued / 2 + 1000; ++i) {
    ASSERT_EQ(::pwrite(a, "x", 1, 0), 1);
    ASSERT_EQ(::pwrite(b, "x", 1, 0), 1);
  }
  ::close(a);
  ::close(b);
  p->signal(SIGCONT);
  if (!p->wait_stdout(" Q_OVERFLOW \n", 60s)) {
    if (before != after) GTEST_SKIP() << "max_queued_events changed from " << before << " to " << after << " meanwhile";
    FAIL() << p->describe();
  }
  ASSERT_TRUE(p->wait_stderr("overflow", 10s)) << p->describe();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(p->out(), " Q_OVERFLOW \n");
  EXPECT_EQ(p->err(),
            "Setting up watches.\nWatches established.\n"
            "Warning: the event queue overflowed and some events were lost; rescanning the watched trees.\n");
}

// ---- output for pipes ------------------------------------------------------------------------

// Alternating writes to two files: consecutive events differ, so the kernel merges none.
void alternate_modify(const std::string& a_path, const std::string& b_path, long pairs) {
  int a = ::open(a_path.c_str(), O_WRONLY | O_CREAT, 0644);
  int b = ::open(b_path.c_str(), O_WRONLY | O_CREAT, 0644);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  for (long i = 0; i < pairs; ++i) {
    ASSERT_EQ(::pwrite(a, "x", 1, 0), 1);
    ASSERT_EQ(::pwrite(b, "x", 1, 0), 1);
  }
  ::close(a);
  ::close(b);
}

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST_F(Inotifywait, BurstGoesOutInLargeWrites) {
  testsupport::touch(at("d/a"));
  testsupport::touch(at("d/b"));
  auto p = ready({"-m", "-e", "modify", "d"});
  std::size_t writes_before = 0;
  {
    std::ifstream io("/proc/" + std::to_string(p->pid()) + "/io");
    std::string key;
    while (io >> key >> writes_before && key != "syscw:") {
    }
  }
  p->signal(SIGSTOP);
  ASSERT_TRUE(iwtest::wait_stopped(p->pid()));
  alternate_modify(at("d/a"), at("d/b"), 2500);
  p->signal(SIGCONT);
  ASSERT_TRUE(p->wait_stdout_lines(5000, 60s)) << p->describe();
  std::size_t writes_after = 0;
  std::ifstream io("/proc/" + std::to_string(p->pid()) + "/io");
  std::string key;
  while (io >> key >> writes_after && key != "syscw:") {
  }
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(count_lines(p->out()), 5000u);
  // 5000 lines of 12 bytes: a handful of writes, not one per event.
  EXPECT_LT(writes_after - writes_before, 50u) << "write() calls for 5000 events";
}

TEST_F(Inotifywait, StalledReaderLosesNothing) {
  testsupport::touch(at("d/a"));
  testsupport::touch(at("d/b"));
  auto p = ready({"-m", "-e", "modify", "d"});
  // 200,000 events while nobody reads our stdout; then the reader wakes up after 5 seconds.
  // The producer runs at the lowest priority: inotifywait must win the CPU on a loaded machine.
  std::thread producer([&] {
    testsupport::lower_this_thread_priority();
    alternate_modify(at("d/a"), at("d/b"), 100'000);
  });
  producer.join();
  std::this_thread::sleep_for(5s);  // the stall itself is the scenario
  ASSERT_TRUE(p->wait_stdout_lines(200'000, 90s)) << count_lines(p->out()) << " lines\n" << p->err();
  p->signal(SIGTERM);
  p->wait();
  EXPECT_EQ(count_lines(p->out()), 200'000u);
  EXPECT_EQ(p->err(), "Setting up watches.\nWatches established.\n");
}

TEST_F(Inotifywait, ReaderThatGoesAwayEndsTheProgramQuietly) {
  if (::access("/bin/bash", X_OK) != 0) GTEST_SKIP() << "bash is not installed";
  // SIGPIPE at its default: killed by it on the next write, as the reference (shell status 141).
  // SIGPIPE ignored: EPIPE, exit status 1, nothing on stderr.
  for (bool ignore : {false, true}) {
    std::string script = std::string(ignore ? "trap '' PIPE; " : "") +
                         "\"$0\" -m -e create d | head -n 1; echo \"status=${PIPESTATUS[0]}\" >&2";
    const std::string prefix = ignore ? "d/ign" : "d/def";
    Process p({"/bin/bash", "-c", script, testsupport::bin(iwtest::program())}, opts());
    ASSERT_TRUE(p.wait_stderr("Watches established.")) << p.describe();
    for (int i = 0; i < 100 && !p.wait_stderr("status=", 50ms); ++i) testsupport::touch(at(prefix + std::to_string(i)));
    ASSERT_TRUE(p.wait_stderr("status=")) << p.describe();
    EXPECT_EXIT_CODE(p.wait(), 0);
    EXPECT_EQ(p.out(), "d/ CREATE " + prefix.substr(2) + "0\n");
    EXPECT_EQ(p.err(),
              std::string("Setting up watches.\nWatches established.\nstatus=") + (ignore ? "1" : "141") + "\n");
  }
}

// ---- syslog and daemon (D8) ------------------------------------------------------------------

// A private mount namespace in which /dev/log is a datagram socket of this test process.
class SyslogCapture {
 public:
  // Skips (returns false) when a private mount namespace cannot be made.
  bool start(const std::string& scratch, std::string& why) {
    if (::geteuid() != 0) return why = "needs root for a private mount namespace", false;
    if (::unshare(CLONE_NEWNS) != 0) return why = std::string("unshare: ") + std::strerror(errno), false;
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return why = "mount private", false;
    std::string dev = scratch + "/dev";
    testsupport::mkdir_p(dev);
    if (::mount("tmpfs", dev.c_str(), "tmpfs", 0, "mode=755") != 0) return why = "tmpfs", false;
    testsupport::touch(dev + "/null");
    if (::mount("/dev/null", (dev + "/null").c_str(), nullptr, MS_BIND, nullptr) != 0) return why = "bind null", false;
    if (::mount(dev.c_str(), "/dev", nullptr, MS_MOVE, nullptr) != 0) return why = "move /dev", false;
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, "/dev/log");
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return why = "bind /dev/log", false;
    return true;
  }
  ~SyslogCapture() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Collects datagrams until one contains needle (or the deadline passes).
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = testsupport::kDeadline) {
    auto deadline = testsupport::Clock::now() + timeout;
    while (testsupport::Clock::now() < deadline) {
      for (const auto& m : messages)
        if (m.find(needle) != std::string::npos) return true;
      timeval tv{0, 100'000};
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[8192];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) messages.emplace_back(buf, static_cast<std::size_t>(n));
    }
    return false;
  }
  std::vector<std::string> messages;

 private:
  int fd_ = -1;
};

TEST_F(Inotifywait, SyslogReceivesTheRoutableMessages) {
  SyslogCapture log;
  std::string why;
  if (!log.start(dir.path(), why)) GTEST_SKIP() << why;
  auto p = start({"-s", "d", "nonexist"});
  EXPECT_EXIT_CODE(p->wait(), 1);
  EXPECT_EQ(p->err(), "");
  ASSERT_TRUE(log.wait_for("Couldn't watch")) << p->describe();
  ASSERT_EQ(log.messages.size(), 2u);
  // "<30>Nov 25 19:35:21 inotifywait[22602]: Setting up watches.\n": daemon.info, newline kept.
  const std::string tail = "inotifywait[" + std::to_string(p->pid()) + "]: Setting up watches.\n";
  EXPECT_EQ(log.messages[0].rfind("<30>", 0), 0u) << log.messages[0];
  ASSERT_GE(log.messages[0].size(), tail.size());
  EXPECT_EQ(log.messages[0].substr(log.messages[0].size() - tail.size()), tail);
  EXPECT_NE(log.messages[1].find("inotifywait[" + std::to_string(p->pid()) +
                                 "]: Couldn't watch nonexist: No such file or directory\n"),
            std::string::npos)
      << log.messages[1];
}

TEST_F(Inotifywait, DaemonCreatesItsLogAndResolvesRelativePathsD8) {
  SyslogCapture log;
  std::string why;
  if (!log.start(dir.path() + "/ns", why)) GTEST_SKIP() << why;
  auto r = run({"-d", "-o", "events.log", "-e", "create", "d"});
  EXPECT_EXIT_CODE(r.exit, 0);  // the parent, once the daemon is forked
  EXPECT_EQ(r.out + r.err, "");
  ASSERT_TRUE(log.wait_for("Watches established.")) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log.messages.back(), m, std::regex("inotifywait\\[([0-9]+)\\]")));
  pid_t daemon_pid = std::stoi(m[1]);
  testsupport::touch(at("d/a"));
  std::string expected = at("d") + "/ CREATE a\n";
  std::string got;
  for (int i = 0; i < 600 && got != expected; ++i) {
    std::this_thread::sleep_for(50ms);  // polling a file the daemon appends to
    got = testsupport::read_file(at("events.log"));
  }
  ::kill(daemon_pid, SIGTERM);
  EXPECT_EQ(got, expected);
  struct stat st {};
  ASSERT_EQ(::stat(at("events.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
