// Side by side with the reference: every scenario runs /usr/bin/inotifywait and our
// build/bin/inotifywait in two fresh directories with the same layout, performs the same actions
// once each program is ready, and requires identical stdout, stderr, exit status (and -o file).
//
// Scenarios only cover behaviour the contract says is identical; the deliberate differences
// (D1-D16) have their own tests in integration_test.cpp. Cookie values differ between runs, so no
// scenario prints the cookie of a move.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "iwtest.hpp"
#include "support.hpp"

namespace {

using namespace std::chrono_literals;
using testsupport::Process;

struct Scenario {
  std::string name{};
  std::string setup{};  // sh, in the work directory (which already holds d/ and f) before the start
  std::vector<std::string> args{};
  std::string actions{};  // sh, once the program is ready
  std::string until{};    // -m runs: stop (SIGTERM) once stdout contains this; empty: it ends by itself
  bool stop = false;      // -m runs: stop (SIGTERM) once the actions are done (they wait for a fact)
  int watches = 0;        // ready = this many inotify watches; 0: "Watches established." on stderr
  std::optional<std::string> stdin_data{};
  std::string outfile{};  // also compare this file
  std::map<std::string, std::string> env{};
  std::string argv0 = "inotifywait";
  std::vector<std::string> wrap{};  // run the program through this command (its argv[0] stays as is)
};

// Test names in ctest's list: the scenario's name, not its bytes.
void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

struct Side {
  testsupport::Exit exit;
  std::string out, err, file;
  std::string problem;  // harness trouble (not a difference)
};

std::string show_exit(const testsupport::Exit& e) {
  if (e.timed_out) return "timed out";
  if (e.exited) return "exit " + std::to_string(e.code);
  return "signal " + std::to_string(e.signal);
}

Side run_side(const std::string& program, const Scenario& s) {
  Side side;
  testsupport::TempDir dir("iwcompare");
  testsupport::mkdir_p(dir / "d");
  testsupport::write_file(dir / "f", "hi\n");
  if (!s.setup.empty()) {
    testsupport::Process::Options o;
    o.cwd = dir.path();
    auto r = testsupport::run({"/bin/sh", "-c", "set -e\n" + s.setup}, o);
    if (!r.exit.exited || r.exit.code != 0) {
      side.problem = "setup failed: " + r.err;
      return side;
    }
  }
  Process::Options o;
  o.cwd = dir.path();
  o.env = s.env;
  o.stdin_data = s.stdin_data;
  std::vector<std::string> argv = s.wrap;
  if (s.wrap.empty()) o.argv0 = s.argv0;
  argv.push_back(program);
  argv.insert(argv.end(), s.args.begin(), s.args.end());
  Process p(argv, o);

  bool ready = s.watches > 0 ? iwtest::wait_watches(p, s.watches, 20s) : p.wait_stderr("Watches established.", 20s);
  if (ready && !s.actions.empty()) {
    testsupport::Process::Options ao;
    ao.cwd = dir.path();
    auto r = testsupport::run({"/bin/sh", "-c", "set -e\n" + s.actions}, ao);
    if (!r.exit.exited || r.exit.code != 0) side.problem = "actions failed: " + r.err;
  }
  if (!s.until.empty()) {
    if (!p.wait_stdout(s.until, 20s)) side.problem += "never printed '" + s.until + "'";
    p.signal(SIGTERM);
  }
  if (s.stop) p.signal(SIGTERM);
  side.exit = p.wait(20s);
  if (side.exit.timed_out) side.problem += "did not end (killed)";
  side.out = p.out();
  side.err = p.err();
  if (!s.outfile.empty()) {
    try {
      side.file = testsupport::read_file(dir / s.outfile);
    } catch (const std::exception&) {
      side.file = "(missing)";
    }
  }
  return side;
}

std::vector<Scenario> scenarios() {
  std::vector<Scenario> v;
  auto add = [&v](Scenario s) { v.push_back(std::move(s)); };
  const std::string touch_end = "touch d/zz_end";
  const std::string end_line = "d/ CLOSE_WRITE,CLOSE zz_end\n";

  // ---- command line: getopt diagnostics and the validation order (section 1.1-1.3) ----
  add({.name = "NoOperands", .args = {}});
  add({.name = "InvalidShortOption", .args = {"-x", "d"}});
  add({.name = "InvalidOptionArgv0AsInvoked", .args = {"-x", "d"}, .argv0 = "/opt/bin/inotifywait"});
  add({.name = "InvalidOptionInBundle", .args = {"-mxq", "d"}});
  add({.name = "UnrecognizedLongOption", .args = {"--foo", "d"}});
  add({.name = "UnrecognizedLongOptionWithValue", .args = {"--foo=bar", "d"}});
  add({.name = "MissingShortArgument", .args = {"d", "-e"}});
  add({.name = "MissingLongArgument", .args = {"d", "--timeout"}});
  add({.name = "AbbreviatedMissingArgument", .args = {"d", "--timeo"}});
  add({.name = "FlagWithArgument", .args = {"--help=x", "d"}});
  add({.name = "AbbreviatedFlagWithArgument", .args = {"--rec=1", "d"}});
  add({.name = "AmbiguousExclude", .args = {"--ex", "x", "d"}});
  add({.name = "AmbiguousWithValue", .args = {"--time=5", "d"}});
  add({.name = "AmbiguousEmptyName", .args = {"--=x", "d"}});
  add({.name = "AmbiguousF", .args = {"--f", "d"}});
  // --version is an addition that only counts when spelled out: its prefixes stay unrecognized.
  add({.name = "VersionPrefixV", .args = {"--v", "d"}});
  add({.name = "VersionPrefixVers", .args = {"--vers", "d"}});
  add({.name = "VersionPrefixVersio", .args = {"--versio=1", "d"}});
  add({.name = "VersionLonger", .args = {"--versions", "d"}});
  add({.name = "InvalidOptionThenConsistencyCheck", .args = {"--no-newline", "-x", "d"}});
  add({.name = "OptionsAfterInvalidAreIgnored", .args = {"-x", "--no-newline", "d"}});
  add({.name = "InvalidEvent", .args = {"-e", "foo", "d"}});
  add({.name = "InvalidEventInList", .args = {"-e", "modify,foo", "d"}});
  add({.name = "InvalidEventWithSpace", .args = {"--event=modify, attrib", "d"}});
  add({.name = "InvalidEventBeforeInvalidOption", .args = {"-e", "nope", "-x", "d"}});
  add({.name = "TimeoutGarbage", .args = {"-t", "1.5", "d"}});
  add({.name = "TimeoutEmpty", .args = {"-t", "", "d"}});
  add({.name = "TimeoutAttachedGarbage", .args = {"-t5x", "d"}});
  add({.name = "TimeoutOutOfRange", .args = {"--timeout=99999999999999999999", "d"}});
  add({.name = "TimeoutHex", .args = {"-t", "0x10", "d"}});
  add({.name = "MultipleFromfile", .args = {"--fromfile", "a", "--fromfile", "b", "d"}});
  add({.name = "MultipleOutfile", .args = {"-o", "a", "--outfile=b", "d"}});
  add({.name = "FilenameOptionRemoved", .args = {"-f", "d"}});
  add({.name = "ExcludeAndExcludei", .args = {"--exclude", "a", "--excludei", "b", "d"}});
  add({.name = "IncludeAndIncludei", .args = {"--include", "a", "--includei", "b", "d"}});
  add({.name = "IncludeAndExclude", .args = {"--include", "a", "--exclude", "b", "d"}});
  add({.name = "CsvAndFormat", .args = {"-c", "--format", "%w", "d"}});
  add({.name = "NoNewlineWithoutFormat", .args = {"--no-newline", "d"}});
  add({.name = "TimefmtWithoutFormat", .args = {"--timefmt", "%H", "d"}});
  add({.name = "CsvAndTimefmt", .args = {"-c", "--timefmt", "%H", "d"}});
  add({.name = "PercentTWithoutTimefmt", .args = {"--format", "%T", "d"}});
  add({.name = "DoublePercentTWithoutTimefmt", .args = {"--format", "%%T", "d"}});
  add({.name = "DaemonWithoutOutfile", .args = {"-d", "d"}});
  add({.name = "ConflictBeforeDaemonCheck", .args = {"-d", "-c", "--format", "x", "d"}});
  add({.name = "BadExcludeRegex", .args = {"--exclude", "(", "d"}});
  add({.name = "BadIncludeiRegex", .args = {"--includei", "a{1", "d"}});
  add({.name = "RepeatedExcludeWarns",
       .args = {"--exclude", "a", "--exclude", "b", "--excludei", "c", "-t", "1", "d"}});
  add({.name = "RepeatedExcludeiWarnsThenConflict",
       .args = {"--excludei", "a", "--excludei", "b", "--exclude", "c", "d"}});

  // ---- what to watch: operands, --fromfile, '@' ----
  add({.name = "MissingPath", .args = {"nonexist"}});
  add({.name = "MissingSecondPath", .args = {"d", "nonexist"}});
  add({.name = "MissingPathQuietQuiet", .args = {"-qq", "d", "nonexist"}});
  add({.name = "EmptyOperandOnly", .args = {""}});
  add({.name = "ExclusionOnly", .args = {"@d"}});
  add({.name = "BrokenSymlink", .setup = "ln -s nowhere bl", .args = {"bl"}});
  add({.name = "DoubleDashOperand", .args = {"-t", "1", "d", "--", "-m"}});
  add({.name = "PosixlyCorrectStopsAtOperand", .args = {"d", "-x"}, .env = {{"POSIXLY_CORRECT", "1"}}});
  add({.name = "FromfileMissing", .args = {"--fromfile", "nofile"}});
  add({.name = "FromfileMissingThenOperand", .args = {"--fromfile", "nofile", "-t", "1", "d"}});
  add({.name = "FromfileEntries",
       .setup = "printf 'f\\n@x\\n\\n@\\n' > list",
       .args = {"--fromfile", "list", "-e", "attrib"},
       .actions = "touch f"});
  add({.name = "FromfileTrailingSpaceIsPartOfName",
       .setup = "printf 'd\\nf \\n' > list",
       .args = {"--fromfile", "list"}});
  add({.name = "FromfileStdin",
       .args = {"--fromfile", "-", "-e", "create"},
       .actions = "touch d/a",
       .stdin_data = "d\n"});
  add({.name = "OutfileUnwritable", .args = {"-o", "/nonexistent/dir/x", "d"}});
  // As nobody (setpriv) and in a user namespace with a tiny watch limit (unshare): needs root.
  const std::vector<std::string> as_nobody{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
  add({.name = "UnreadableDirectory",
       .setup = "chmod 755 .; mkdir locked; chmod 000 locked",
       .args = {"locked"},
       .wrap = as_nobody});
  add({.name = "UnreadableSubdirectorySkippedSilently",
       .setup = "chmod 755 . d; mkdir d/locked d/open; chmod 000 d/locked",
       .args = {"-r", "-t", "1", "d"},
       .wrap = as_nobody});
  add({.name = "WatchLimitReached",
       .setup = "mkdir -p d/a/b/c",
       .args = {"-r", "d"},
       .wrap = {"/usr/bin/unshare", "-U", "-r", "/bin/sh", "-c",
                "echo 3 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\""}});

  // ---- single-event mode and exit statuses (section 1.4) ----
  add({.name = "SingleCreate", .args = {"d"}, .actions = "touch d/a"});
  add({.name = "PermutedOperand", .args = {"d", "-e", "create"}, .actions = "touch d/a"});
  add({.name = "Timeout", .args = {"-t", "1", "d"}});
  add({.name = "TimeoutAttached", .args = {"-t1", "-ecreate", "d"}});
  add({.name = "TimeoutEventNotInKernelMask", .args = {"--timeout", "1", "-e", "delete", "d"}, .actions = "touch d/a"});
  add({.name = "UnrequestedIgnoredEndsWithStatus1", .args = {"-e", "modify", "f"}, .actions = "rm f"});
  add({.name = "FileRemovedAttribFirst", .args = {"f"}, .actions = "rm f"});
  add({.name = "DeleteSelf", .args = {"-e", "delete_self", "f"}, .actions = "rm f"});
  add({.name = "IgnoredRequested", .args = {"-e", "ignored", "f"}, .actions = "rm f"});
  add({.name = "DirectoryRemovedNotRequested", .args = {"-e", "modify", "d"}, .actions = "rm -r d"});
  add({.name = "QuietQuietPrintsNothing", .args = {"-qq", "d"}, .actions = "touch d/a", .watches = 1});
  add({.name = "QuietPrintsEvent", .args = {"-q", "d"}, .actions = "touch d/a", .watches = 1});
  add({.name = "UppercaseEventName", .args = {"-e", "CREATE", "d"}, .actions = "echo x > d/a"});
  add({.name = "AllEventsName", .args = {"-e", "all_events", "f"}, .actions = "cat f > /dev/null"});
  add({.name = "EventOred", .args = {"-e", "delete", "--event", "modify", "f"}, .actions = "echo y >> f"});
  add({.name = "IsdirRequested",
       .setup = "mkdir d/s",
       .args = {"-e", "isdir,attrib", "d"},
       .actions = "chmod 700 d/s"});

  // ---- paths as typed (section 2.8) ----
  add({.name = "DotSlashDir", .args = {"./d"}, .actions = "touch d/a"});
  add({.name = "DoubleSlashDir", .args = {"d//"}, .actions = "touch d/a"});
  add({.name = "DotDir", .args = {"-e", "create", "."}, .actions = "touch a"});
  add({.name = "CsvWatchedFile", .args = {"-c", "f"}, .actions = "touch f"});
  add({.name = "SymlinkDirWithoutSlash", .setup = "ln -s d dl", .args = {"dl"}, .actions = "touch d/a"});
  add({.name = "SymlinkDirRecursive", .setup = "ln -s d dl", .args = {"-r", "dl"}, .actions = "touch d/a"});
  add({.name = "NoDereferenceLink", .setup = "ln -s f fl", .args = {"-P", "-t", "2", "fl"}, .actions = "touch -h fl"});
  add({.name = "NoDereferenceTargetUnseen",
       .setup = "ln -s f fl",
       .args = {"-P", "-t", "1", "fl"},
       .actions = "echo z >> f"});
  add({.name = "SameInodeFirstPathWins",
       .args = {"-m", "-e", "create", "d", "./d"},
       .actions = "touch d/a d/zz_end",
       .until = "zz_end\n"});

  // ---- monitor mode, formats ----
  add({.name = "MonitorSequence",
       .args = {"-m", "d", "f"},
       .actions = "cat f > /dev/null; echo x >> f; touch d/g; chmod 600 d/g; mv d/g d/h; mkdir d/sub; rmdir d/sub; "
                  "rm d/h; " +
                  touch_end,
       .until = end_line});
  add({.name = "MonitorAbbreviatedLongOptions",
       .args = {"--mon", "--ev=create", "--ev", "delete", "d"},
       .actions = "touch d/a; rm d/a; touch d/zz_end",
       .until = "CREATE zz_end\n"});
  add({.name = "MonitorBundledQuiet",
       .args = {"-mq", "-e", "modify", "d"},
       .actions = "echo 1 > d/a; echo 2 > d/zz_end",
       .until = "zz_end\n",
       .watches = 1});
  add({.name = "Csv", .args = {"-c", "d"}, .actions = "mkdir d/s"});
  add({.name = "CsvQuoting",
       .args = {"-m", "-c", "-e", "create", "d"},
       .actions = "touch 'd/a b' 'd/c,d' 'd/e\"f' 'd/ lead' 'd/trail ' \"$(printf 'd/tab\\tx')\" \"$(printf "
                  "'d/nl\\nx')\"; mkdir d/sd; touch d/zz_end",
       .until = "zz_end\n"});
  add({.name = "CsvQuotedWatchPaths",
       .setup = "mkdir 'sp ace' 'co,mma' ' lead' 'q\"uote'",
       .args = {"-m", "-c", "-e", "create", "sp ace", "co,mma", " lead", "q\"uote", "d"},
       .actions = "touch 'sp ace/x' 'co,mma/y' ' lead/z' 'q\"uote/w' d/zz_end",
       .until = "zz_end\n"});
  add({.name = "FormatAllConversions",
       .args = {"--format", "[%w][%f][%e][%:e][%Xe][%c][%%][%z][%0][%n][%we][%.e%T]", "--timefmt", "<%%>", "d"},
       .actions = "touch d/a"});
  add({.name = "FormatEventSeparators",
       .args = {"-m", "--format", "%:e|%Xe|%%e|%%%e|% e|%e%", "-e", "create", "d"},
       .actions = "mkdir d/x; touch d/zz_end",
       .until = "CREATE|CREATE|%e|%CREATE|CREATE|CREATE%\n"});
  add({.name = "FormatTrailingPercent", .args = {"--format", "abc%", "d"}, .actions = "touch d/a"});
  add({.name = "FormatEmptyPrintsEmptyLine", .args = {"--format", "", "d"}, .actions = "touch d/a"});
  add({.name = "FormatNoNewlineTimeout", .args = {"--format", "x", "--no-newline", "-t", "1", "d"}});
  add({.name = "FormatNulDelimited",
       .args = {"-m", "--format", "%w%f%0", "--no-newline", "-e", "create", "-e", "moved_to", "-e", "moved_from", "d"},
       .actions = "touch d/src; mv d/src d/dst; touch d/zz_end",
       .until = std::string("d/zz_end\0", 9)});
  add({.name = "FormatCookieZeroOnCreate", .args = {"--format", "%c|%f", "d"}, .actions = "touch d/a"});
  add({.name = "FormatNewlineConversion", .args = {"--format", "%w%n%f", "--no-newline", "d"}, .actions = "touch d/a"});
  add({.name = "FormatWatchedFile", .args = {"--format", "%w|%f|%e", "f"}, .actions = "touch f"});
  add({.name = "TimefmtLiteral", .args = {"--format", "%T", "--timefmt", "%%|%n", "d"}, .actions = "touch d/a"});
  add({.name = "EventsCloseAndMove",
       .args = {"-m", "-e", "close", "-e", "move", "d"},
       .actions = "cat f > /dev/null; echo x > d/a; mv d/a d/b; mv d/b d/zz_end",
       .until = "MOVED_TO zz_end\n"});
  add({.name = "ExcludeRegex",
       .args = {"-m", "-e", "create", "--exclude", "\\.tmp$", "d"},
       .actions = "touch d/a.tmp d/b.txt d/c.TMP d/zz_end",
       .until = "zz_end\n"});
  add({.name = "ExcludeiRegex",
       .args = {"-m", "-e", "create", "--excludei", "\\.tmp$", "d"},
       .actions = "touch d/a.tmp d/b.txt d/c.TMP d/zz_end",
       .until = "zz_end\n"});
  add({.name = "IncludeRegex",
       .args = {"-m", "-e", "create", "--include", "(txt|end)$", "d"},
       .actions = "touch d/a.tmp d/b.txt d/c.TXT d/zz_end",
       .until = "zz_end\n"});
  add({.name = "IncludeiRegexMatchesWatchPath",
       .args = {"-m", "-e", "create", "--includei", "^D/(B|ZZ)", "d"},
       .actions = "touch d/a d/b d/zz_end",
       .until = "zz_end\n"});
  add({.name = "ExcludeMatchesWatchedFile", .args = {"-t", "1", "--exclude", "^f$", "f"}, .actions = "touch f"});

  // ---- recursion (section 4.1), outputs ----
  add({.name = "RecursiveSingle", .setup = "mkdir -p d/s/t", .args = {"-r", "d"}, .actions = "touch d/s/t/a"});
  add({.name = "RecursiveExclusion",
       .setup = "mkdir -p d/s/t",
       .args = {"-m", "-r", "-e", "create", "d", "@d/s/t"},
       .actions = "touch d/s/t/a d/s/zz_end",
       .until = "zz_end\n"});
  add({.name = "RecursiveExclusionTrailingSlash",
       .setup = "mkdir -p d/s/t",
       .args = {"-m", "-r", "-e", "create", "d", "@d/s/t/"},
       .actions = "touch d/s/t/a d/s/zz_end",
       .until = "zz_end\n"});
  add({.name = "RecursiveExclusionOtherSpellingIgnored",
       .setup = "mkdir -p d/s/t",
       .args = {"-m", "-r", "-e", "create", "d", "@s/t", "@./d/s/t"},
       .actions = "touch d/s/t/a; touch d/s/zz_end",
       .until = "zz_end\n"});
  add({.name = "RecursiveRenameInsideTree",
       .setup = "mkdir -p d/x/y",
       .args = {"-m", "-r", "-e", "create,moved_from,moved_to", "d"},
       .actions = "mv d/x d/z; touch d/z/f1 d/z/y/f2 d/zz_end",
       .until = "d/ CREATE zz_end\n"});
  add({.name = "RecursiveFileOperand", .args = {"-r", "f"}, .actions = "touch f"});
  add({.name = "Outfile",
       .args = {"-m", "-o", "log", "-e", "create", "d"},
       .actions = "touch d/a d/zz_end; until grep -q zz_end log; do sleep 0.05; done",
       .stop = true,
       .outfile = "log"});
  add({.name = "OutfileAppends",
       .setup = "echo before > log",
       .args = {"-q", "-o", "log", "d"},
       .actions = "touch d/a",
       .watches = 1,
       .outfile = "log"});
  add({.name = "SyslogKeepsStderrQuiet", .args = {"-s", "-e", "create", "d"}, .actions = "touch d/a", .watches = 1});
  add({.name = "EmptyExcludeRegexDropsEverything", .args = {"--exclude", "", "-t", "1", "d"}, .actions = "touch d/a"});
  add({.name = "EmptyIncludeRegexKeepsEverything", .args = {"--include", "", "d"}, .actions = "touch d/a"});
  add({.name = "EmptyEventListMeansAllEvents", .args = {"-e", "", "d"}, .actions = "touch d/a"});
  add({.name = "FileAndItsDirectoryBothReport",
       .setup = "touch d/x",
       .args = {"-m", "d", "d/x"},
       .actions = "chmod 600 d/x; " + touch_end,
       .until = end_line});
  add({.name = "DeletedFileThenInactivityTimeout",
       .args = {"-m", "-t", "1", "f", "d", "-e", "delete_self,delete"},
       .actions = "rm f"});
  add({.name = "SameOperandTwice", .args = {"d", "d"}, .actions = "touch d/a"});
  add({.name = "RecursiveRmdir",
       .setup = "mkdir d/s",
       .args = {"-m", "-r", "d"},
       .actions = "rmdir d/s; " + touch_end,
       .until = end_line});
  add({.name = "RecursiveRenameDefaultEvents",
       .setup = "mkdir d/s",
       .args = {"-m", "-r", "d"},
       .actions = "mv d/s d/t; touch d/t/x; " + touch_end,
       .until = end_line});
  add({.name = "OneshotReportsOnce",
       .args = {"-e", "oneshot", "-e", "create", "-m", "-t", "1", "d"},
       .actions = "touch d/a; touch d/b"});
  add({.name = "NewDirectoryCannotBeWatched",
       .args = {"-m", "-r", "-e", "create", "d"},
       .actions = "mkdir d/a; mkdir d/b; touch d/zz_end",
       .until = "d/ CREATE zz_end\n",
       .wrap = {"/usr/bin/unshare", "-U", "-r", "/bin/sh", "-c",
                "echo 2 > /proc/sys/user/max_inotify_watches && exec \"$0\" \"$@\""}});
  add({.name = "InotifyOptionsAccepted", .args = {"-I", "-F", "-S", "-t", "1", "d"}});
  return v;
}

class InotifywaitCompare : public testing::TestWithParam<Scenario> {};

TEST_P(InotifywaitCompare, SameBytesAndStatusAsReference) {
  auto reference = testsupport::reference_bin("inotifywait");
  if (!reference) GTEST_SKIP() << "/usr/bin/inotifywait (inotify-tools) is not installed: nothing to compare with";
  const Scenario& s = GetParam();
  if (!s.wrap.empty()) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (runs through " << s.wrap[0] << ")";
    if (::access(s.wrap[0].c_str(), X_OK) != 0) GTEST_SKIP() << s.wrap[0] << " is not installed";
    for (const auto& program : {*reference, testsupport::bin("inotifywait")}) {
      std::vector<std::string> check = s.wrap;
      if (check[0] == "/usr/bin/setpriv")
        check.resize(4);  // just the user switch
      else
        check.clear();
      if (check.empty()) continue;
      check.insert(check.end(), {"/usr/bin/test", "-x", program});
      if (testsupport::run(check).exit.code != 0) GTEST_SKIP() << program << " cannot be run as nobody";
    }
  }
  Side ref, ours;
  std::thread t([&] { ref = run_side(*reference, s); });
  ours = run_side(testsupport::bin("inotifywait"), s);
  t.join();
  ASSERT_EQ(ref.problem, "") << "reference run";
  ASSERT_EQ(ours.problem, "") << "our run\nstdout:\n" << ours.out << "\nstderr:\n" << ours.err;
  EXPECT_EQ(ours.out, ref.out) << "stdout differs";
  // The line we add after the watch-limit message is an intended difference (see the man page).
  EXPECT_EQ(testsupport::without_watch_limit_line(ours.err), ref.err) << "stderr differs";
  EXPECT_EQ(show_exit(ours.exit), show_exit(ref.exit)) << "exit status differs";
  EXPECT_EQ(ours.file, ref.file) << s.outfile << " differs";
}

INSTANTIATE_TEST_SUITE_P(Scenarios, InotifywaitCompare, testing::ValuesIn(scenarios()),
                         [](const testing::TestParamInfo<Scenario>& info) { return info.param.name; });

}  // namespace
