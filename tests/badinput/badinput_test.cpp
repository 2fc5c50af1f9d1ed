// Bad invocations of inotifywait, inotifywatch and inotifysync, one table: each must print the
// expected lines on stderr (one line naming the problem; the reference's wording where it has
// one), exit with the documented status, not dump core and not hang. For the two inotify-tools
// clones, the reference (when installed) is run with the same arguments and must agree, except
// where COMPATIBILITY.md lists a deliberate difference (the case says which).
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support.hpp"

namespace {

using namespace testsupport;
using namespace std::chrono_literals;

enum Ref {
  kSame,     // the reference prints the same and exits the same way
  kDiffers,  // a deliberate difference (COMPATIBILITY.md D-number in the comment)
  kNoRef,    // nothing to compare with (inotifysync, or an addition)
};
enum Flags : unsigned {
  kExact = 0,
  kPrefix = 1,      // stderr is one line starting with err (the wording of the rest is free)
  kUnreadable = 2,  // needs mode 000 to mean something: as root, run without the DAC capabilities
  kUsageHint = 4,   // inotifysync usage errors: err, then "Try 'inotifysync --help' ..."
};

struct Case {
  const char* name;
  const char* tool;
  std::vector<std::string> args;
  std::string err;
  int code;
  Ref ref = kSame;
  unsigned flags = kExact;
};

// ctest lists the test names with their parameter: show the command line, not the bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << c.tool;
  for (const auto& a : c.args) *os << " '" << (a.size() > 40 ? a.substr(0, 40) + "..." : a) << "'";
}

const std::string kLong(5000, 'x');  // one --fromfile line longer than a 4096-byte fgets buffer
const std::string kLongEntry(4095, 'x');

constexpr const char* kNoFiles = "No files specified to watch!\n";
constexpr const char* kLongInt = "Please specify a long int value.\n";
constexpr const char* kRange = "Please specify a number of seconds from 0 to 4294967295.\n";

std::vector<Case> cases() {
  std::vector<Case> v;
  for (const char* tool : {"inotifywait", "inotifywatch"}) {
    const std::string t = tool;
    const bool w = t == "inotifywait";
    auto S = [&](const std::string& s) { return s; };
    const std::string watch_fail = w ? "Couldn't watch " : "Failed to watch ";
    const std::string setup = w ? "Setting up watches.\n" : "Establishing watches...\n";
    const std::string setup_r = w ? "Setting up watches.  Beware: since -r was given, this may take a while!\n" : setup;
    auto add = [&](const char* name, std::vector<std::string> args, std::string err, int code = 1, Ref ref = kSame,
                   unsigned flags = kExact) {
      v.push_back(Case{name, tool, std::move(args), std::move(err), code, ref, flags});
    };
    // getopt_long's diagnostics
    add("UnknownShortOption", {"-x", "d"}, t + ": invalid option -- 'x'\n");
    add("UnknownLongOption", {"--bogus", "d"}, t + ": unrecognized option '--bogus'\n");
    add("UnknownLongOptionWithValue", {"--bogus=1", "d"}, t + ": unrecognized option '--bogus=1'\n");
    add("MissingEventValue", {"d", "-e"}, t + ": option requires an argument -- 'e'\n");
    add("MissingLongEventValue", {"--event"}, t + ": option '--event' requires an argument\n");
    add("MissingTimeoutValue", {"d", "-t"}, t + ": option requires an argument -- 't'\n");
    add("MissingFromfileValue", {"--fromfile"}, t + ": option '--fromfile' requires an argument\n");
    add("AmbiguousPrefix", {"--e", "d"},
        t + ": option '--e' is ambiguous; possibilities: '--event' '--exclude' '--excludei'\n");
    add("FlagWithValue", {"--help=1"}, t + ": option '--help' doesn't allow an argument\n");
    // events
    add("UnknownEvent", {"-e", "foo", "d"},
        "'foo' is not a valid event!  Run with the '--help' option to see a list of events.\n");
    add("UnknownEventInList", {"-e", "modify,foo", "d"},
        "'modify,foo' is not a valid event!  Run with the '--help' option to see a list of events.\n");
    add("EventNameWithTail", {"-e", "close_writex", "d"},
        "'close_writex' is not a valid event!  Run with the '--help' option to see a list of events.\n");
    // regular expressions
    add("BadExcludeRegex", {"--exclude", "(", "d"}, "Error in `exclude' regular expression.\n");
    add("BadIncludeRegex", {"--include", "[", "d"}, "Error in `include' regular expression.\n");
    add("BadExcludeiRegex", {"--excludei", "*", "d"}, "Error in `exclude' regular expression.\n");
    add("BadIntervalRegex", {"-r", "--exclude", "a{1", "d"}, "Error in `exclude' regular expression.\n");
    add("ExcludeAndInclude", {"--exclude", "a", "--include", "b", "d"},
        "include and exclude regexp cannot both be specified.\n");
    add("ExcludeAndExcludei", {"--exclude", "a", "--excludei", "b", "d"},
        "--exclude and --excludei cannot both be specified.\n");
    // -t
    add("NegativeTimeout", {"-t", "-1", "d"}, S("'-1' is not a valid timeout value.\n") + kRange, 1, kDiffers);  // D9
    add("TimeoutOf2To32", {"-t", "4294967296", "d"}, S("'4294967296' is not a valid timeout value.\n") + kRange, 1,
        kDiffers);  // D9
    add("OverflowingTimeout", {"-t", "99999999999999999999", "d"},
        "Something went wrong with the timeout value you provided.\nNumerical result out of range\n");
    add("EmptyTimeout", {"-t", "", "d"}, S("The provided value is not a valid timeout value.\n") + kLongInt);
    add("FractionalTimeout", {"-t", "1.5", "d"}, S("'1.5' is not a valid timeout value.\n") + kLongInt);
    add("HexTimeout", {"-t", "0x10", "d"}, S("'0x10' is not a valid timeout value.\n") + kLongInt);
    add("TimeoutWithUnit", {"-t", "5s", "d"}, S("'5s' is not a valid timeout value.\n") + kLongInt);
    // paths
    add("NoOperands", {}, kNoFiles);
    add("MissingPath", {"nonexistent"}, setup + watch_fail + "nonexistent: No such file or directory\n");
    add("MissingPathAfterAGoodOne", {"d", "nonexistent"},
        setup + watch_fail + "nonexistent: No such file or directory\n");
    add("MissingPathRecursive", {"-r", "nonexistent"},
        setup_r + watch_fail + "nonexistent: No such file or directory\n");
    add("UnreadablePath", {"unreadable"}, setup + watch_fail + "unreadable: Permission denied\n", 1, kSame,
        kUnreadable);
    add("UnreadablePathRecursive", {"-r", "unreadable"}, setup_r + watch_fail + "unreadable: Permission denied\n", 1,
        kSame, kUnreadable);
    add("OnlyAnExclusion", {"@d"}, kNoFiles);
    // --fromfile
    add("FromfileMissing", {"--fromfile", "missing"},
        S("Couldn't open missing: No such file or directory\n") + kNoFiles);
    add("FromfileUnreadable", {"--fromfile", "ff_unreadable"},
        S("Couldn't open ff_unreadable: Permission denied\n") + kNoFiles, 1, kSame, kUnreadable);
    add("FromfileOnlyBlankLines", {"--fromfile", "ff_blank"}, kNoFiles);
    add("FromfileVeryLongLine", {"--fromfile", "ff_long"}, setup + watch_fail + kLongEntry + ": File name too long\n");
    add("FromfileTwice", {"--fromfile", "ff_blank", "--fromfile", "ff_blank"}, "Multiple --fromfile options given.\n");
    add("FromfileIsADirectory", {"--fromfile", "d"}, kNoFiles);
  }
  auto add_wait = [&](const char* name, std::vector<std::string> args, const char* err, Ref ref = kSame) {
    v.push_back(Case{name, "inotifywait", std::move(args), err, 1, ref, kExact});
  };
  add_wait("DaemonWithoutOutfile", {"-d", "d"}, "-o must be specified with -d.\n");
  add_wait("CsvAndFormat", {"-c", "--format", "x", "d"}, "-c and --format cannot both be specified.\n");
  add_wait("NoNewlineWithoutFormat", {"--no-newline", "d"}, "--no-newline cannot be specified without --format.\n");
  add_wait("TimefmtWithoutFormat", {"--timefmt", "%Y", "d"}, "--timefmt cannot be specified without --format.\n");
  add_wait("TimeConversionWithoutTimefmt", {"--format", "%T", "d"},
           "%T is in --format string, but --timefmt was not specified.\n");
  add_wait("EscapedTimeConversionWithoutTimefmt", {"--format", "%%T", "d"},
           "%T is in --format string, but --timefmt was not specified.\n");
  add_wait("FilenameOption", {"--filename", "d"},
           "The '--filename' option no longer exists.  The option it enabled in earlier\n"
           "versions of inotifywait is now turned on by default.\n");
  add_wait("OutfileTwice", {"-o", "a", "-o", "b", "d"}, "Multiple --outfile options given.\n");
  add_wait("OutfileInMissingDirectory", {"-o", "nodir/out", "d"}, "Failed to open output file nodir/out\n");
  add_wait("OutfileIsADirectory", {"-o", "d", "d"}, "Failed to open output file d\n");
  add_wait("MissingFormatValue", {"--format"}, "inotifywait: option '--format' requires an argument\n");
  add_wait("AmbiguousExc", {"--exc", "d"},
           "inotifywait: option '--exc' is ambiguous; possibilities: '--exclude' '--excludei'\n");

  auto add_watch = [&](const char* name, std::vector<std::string> args, const char* err, Ref ref = kSame) {
    v.push_back(Case{name, "inotifywatch", std::move(args), err, 1, ref, kExact});
  };
  add_watch("SortKeyTwice", {"-a", "total", "-a", "total", "d"}, "Please specify -a or -d once only!\n");
  add_watch("UnknownSortKey", {"-a", "foo", "d"}, "'foo' is not a valid key for sorting!\n");
  add_watch("SortByClose", {"-d", "close", "d"},
            "Cannot sort by `close' event; please use `close_write' or `close_nowrite'.\n",
            kDiffers);  // D6
  add_watch("SortByMove", {"-d", "move", "d"}, "Cannot sort by `move' event; please use `moved_from' or `moved_to'.\n",
            kDiffers);  // D6
  add_watch("SortByTwoEvents", {"-a", "modify,access", "d"}, "'modify,access' is not a valid key for sorting!\n",
            kDiffers);  // D6
  add_watch("SortByIgnored", {"-d", "ignored", "-e", "ignored", "d"}, "'ignored' is not a valid key for sorting!\n",
            kDiffers);  // D6
  add_watch("SortByUnwatchedEvent", {"-e", "modify", "-a", "access", "d"},
            "Can't sort by an event which isn't being watched for!\n");
  add_watch("MissingSortKey", {"-a"}, "inotifywatch: option requires an argument -- 'a'\n");
  add_watch("ZeroWithValue", {"--zero=1", "d"}, "inotifywatch: option '--zero' doesn't allow an argument\n");
  // --live is an addition (long option only): nothing to compare with.
  add_watch("LiveZero", {"--live=0", "d"}, "'0' is not a valid number of seconds for --live.\n", kNoRef);
  add_watch("LiveNotANumber", {"--live=abc", "d"}, "'abc' is not a valid number of seconds for --live.\n", kNoRef);
  add_watch("LiveExponent", {"--live=1e3", "d"}, "'1e3' is not a valid number of seconds for --live.\n", kNoRef);
  add_watch("LiveTooLong", {"--live=86401", "d"}, "'86401' is not a valid number of seconds for --live.\n", kNoRef);

  // inotifysync: usage errors (exit 1, the problem, then the --help hint) and setup errors.
  auto add_sync = [&](const char* name, std::vector<std::string> args, const char* err, unsigned flags = kExact) {
    v.push_back(Case{name, "inotifysync", std::move(args), err, 1, kNoRef, flags});
  };
  add_sync("NoArguments", {}, "inotifysync: need a SOURCE and at least one TARGET\n", kUsageHint);
  add_sync("NoTarget", {"src"}, "inotifysync: need a SOURCE and at least one TARGET\n", kUsageHint);
  add_sync("UnknownOption", {"--bogus", "src", "tgt"}, "inotifysync: unknown option '--bogus'\n", kUsageHint);
  add_sync("UnknownShortOption", {"-x", "src", "tgt"}, "inotifysync: unknown option '-x'\n", kUsageHint);
  add_sync("MissingValue", {"--delay"}, "inotifysync: option '--delay' needs a value\n", kUsageHint);
  add_sync("DelayNotANumber", {"--delay", "abc", "src", "tgt"},
           "inotifysync: --delay: 'abc' is not a number of seconds\n", kUsageHint);
  add_sync("NegativeDelay", {"--delay", "-1", "src", "tgt"}, "inotifysync: --delay: '-1' is not a number of seconds\n",
           kUsageHint);
  add_sync("DelayTwoDots", {"--delay=1.5.5", "src", "tgt"},
           "inotifysync: --delay: '1.5.5' is not a number of seconds\n", kUsageHint);
  // Bash arithmetic wraps silently past 2^63: a delay that overflows must be refused, not wrapped.
  add_sync("OverflowingDelay", {"--once", "--delay", "99999999999999999999", "src", "tgt"},
           "inotifysync: --delay: '99999999999999999999'", kPrefix | kUsageHint);
  add_sync("OverflowingFullSyncInterval", {"--once", "--full-sync-interval", "99999999999999999999", "src", "tgt"},
           "inotifysync: --full-sync-interval: '99999999999999999999'", kPrefix | kUsageHint);
  add_sync("OverflowingRetryMax", {"--once", "--retry-max", "99999999999999999999", "src", "tgt"},
           "inotifysync: --retry-max: '99999999999999999999'", kPrefix | kUsageHint);
  add_sync("ZeroMaxBatch", {"--max-batch", "0", "src", "tgt"},
           "inotifysync: --max-batch: '0' is not a positive integer\n", kUsageHint);
  add_sync("ExponentMaxBatch", {"--max-batch", "1e3", "src", "tgt"},
           "inotifysync: --max-batch: '1e3' is not a positive integer\n", kUsageHint);
  add_sync("BadDeleteMode", {"--delete", "maybe", "src", "tgt"},
           "inotifysync: --delete: 'maybe' is not one of true, false, startup, running\n", kUsageHint);
  add_sync("ZeroRetryMax", {"--retry-max", "0", "src", "tgt"}, "inotifysync: --retry-max must be more than 0\n",
           kUsageHint);
  add_sync("BadFullSyncInterval", {"--full-sync-interval", "x", "src", "tgt"},
           "inotifysync: --full-sync-interval: 'x' is not a number of seconds\n", kUsageHint);
  add_sync("MissingSource", {"missing", "tgt"}, "inotifysync: source 'missing' does not exist\n");
  add_sync("SourceIsAFile", {"f", "tgt"}, "inotifysync: source 'f' is not a directory\n");
  add_sync("SourceLooksLikeAnOption", {"--", "-src", "tgt"}, "inotifysync: source '-src' does not exist\n");
  add_sync("EmptyTarget", {"src", ""}, "inotifysync: empty target\n");
  add_sync("DaemonTargetWithoutModule", {"src", "rsync://host"},
           "inotifysync: bad target 'rsync://host': no module (rsync://host/module)\n");
  add_sync("DaemonTargetWithoutHost", {"src", "rsync:///mod"}, "inotifysync: bad target 'rsync:///mod': no host\n");
  add_sync(
      "PasswordInTarget", {"src", "rsync://user:pw@host/mod"},
      "inotifysync: bad target 'rsync://user:***@host/mod': put the password in --password-file or RSYNC_PASSWORD, "
      "not in the target\n");
  add_sync("ModuleTargetWithoutModule", {"src", "host::"},
           "inotifysync: bad target 'host::': no module (host::module)\n");
  add_sync("ModuleTargetWithoutHost", {"src", "::mod"}, "inotifysync: bad target '::mod': no host\n");
  add_sync("SshTargetWithoutHost", {"src", ":path"}, "inotifysync: bad target ':path': no host\n");
  add_sync("TargetInsideSource", {"src", "src/inner"},
           "inotifysync: bad target 'src/inner': it is inside the source\n");
  add_sync("TargetContainsSource", {"src", "."}, "inotifysync: bad target '.': it contains the source\n");
  add_sync("TargetIsAFile", {"src", "f"}, "inotifysync: bad target 'f': exists and is not a directory\n");
  add_sync("TargetParentMissing", {"src", "nodir/sub"},
           "inotifysync: bad target 'nodir/sub': parent directory 'nodir' does not exist\n");
  add_sync(
      "PasswordFileMode644", {"--password-file", "pw644", "src", "rsync://h/m"},
      "inotifysync: password file 'pw644' has mode 644; it must not be accessible by group or others (chmod 600)\n");
  add_sync("PasswordFileMissing", {"--password-file", "pwmissing", "src", "rsync://h/m"},
           "inotifysync: password file 'pwmissing' does not exist\n");
  add_sync("PasswordFileUnreadable", {"--password-file", "pwunread", "src", "rsync://h/m"},
           "inotifysync: cannot read password file 'pwunread'\n", kUnreadable);
  add_sync("PasswordFileIsADirectory", {"--password-file", "src", "src", "rsync://h/m"},
           "inotifysync: password file 'src' is not a regular file\n");
  add_sync("ExcludeFromMissing", {"--exclude-from", "missing", "src", "tgt"},
           "inotifysync: cannot read exclude file 'missing'\n");
  add_sync("ExcludeFromDirectory", {"--exclude-from", "d", "src", "tgt"},
           "inotifysync: cannot read exclude file 'd'\n");
  add_sync("LogIsADirectory", {"--log", "d", "--once", "src", "tgt"},
           "inotifysync: log file 'd' is not a regular file\n");
  add_sync("LogIsASymlink", {"--log", "loglink", "--once", "src", "tgt"},
           "inotifysync: log file 'loglink' is a symbolic link; refusing to follow it\n");
  // One line from us, not mktemp's own complaint before it.
  add_sync("PidFileInMissingDirectory", {"--pid-file", "nodir/p", "--once", "src", "tgt"},
           "inotifysync: cannot write pid file 'nodir/p'", kPrefix);
  return v;
}

class BadInput : public ::testing::TestWithParam<Case> {};

void prepare(const TempDir& t) {
  mkdir_p(t / "d");
  mkdir_p(t / "src");
  mkdir_p(t / "unreadable");
  ::chmod((t / "unreadable").c_str(), 0);
  touch(t / "f");
  write_file(t / "ff_blank", "\n\n\n");
  write_file(t / "ff_long", kLong + "\n");
  write_file(t / "ff_unreadable", "d\n");
  ::chmod((t / "ff_unreadable").c_str(), 0);
  write_file(t / "pw644", "secret\n");
  ::chmod((t / "pw644").c_str(), 0644);
  write_file(t / "pwunread", "secret\n");
  ::chmod((t / "pwunread").c_str(), 0);
  ::symlink("/etc/passwd", (t / "loglink").c_str());
}

std::vector<std::string> command(const Case& c, const std::string& program) {
  std::vector<std::string> argv;
  if ((c.flags & kUnreadable) && ::geteuid() == 0) {
    // Root reads anything; without these capabilities, mode 000 applies to root too.
    argv = {"/usr/bin/setpriv", "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search"};
  }
  if (std::string(c.tool) == "inotifysync") argv.push_back("/bin/bash");
  argv.push_back(program);
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  return argv;
}

Process::Options options(const Case& c, const TempDir& t) {
  Process::Options o;
  o.cwd = t.path();
  o.argv0 = std::string(c.tool) == "inotifysync" ? "" : c.tool;  // getopt names the program as invoked
  o.env["INOTIFYSYNC_INOTIFYWAIT"] = bin("inotifywait");
  o.env["XDG_RUNTIME_DIR"] = t.path();
  return o;
}

std::string describe(const RunResult& r) {
  std::string s = r.exit.timed_out ? "timed out"
                  : r.exit.exited  ? "exit " + std::to_string(r.exit.code)
                                   : "signal " + std::to_string(r.exit.signal);
  return s + "\n--- stderr ---\n" + r.err + "---";
}

TEST_P(BadInput, OneClearMessageAndTheDocumentedStatus) {
  const Case& c = GetParam();
  TempDir t("rel-badinput");
  prepare(t);
  const std::string program =
      std::string(c.tool) == "inotifysync" ? std::string(LIBWATCH_SOURCE_DIR) + "/scripts/inotifysync" : bin(c.tool);
  // setpriv execs the program by path: argv0 only matters for the tools' getopt messages.
  Process::Options o = options(c, t);
  if (!o.argv0.empty() && (c.flags & kUnreadable) && ::geteuid() == 0) o.argv0.clear();
  RunResult r = run(command(c, program), o, 15s);
  ASSERT_FALSE(r.exit.timed_out) << "hangs\n" << describe(r);
  ASSERT_TRUE(r.exit.exited) << "killed by a signal (core dump?)\n" << describe(r);
  EXPECT_EQ(r.exit.code, c.code) << describe(r);
  std::string want = c.err;
  std::string got = r.err;
  if (c.flags & kUsageHint) {
    const std::string hint = "Try 'inotifysync --help' for more information.\n";
    EXPECT_TRUE(got.size() >= hint.size() && got.compare(got.size() - hint.size(), hint.size(), hint) == 0)
        << "no --help hint\n"
        << describe(r);
    if (got.size() >= hint.size()) got.resize(got.size() - hint.size());
  }
  if (c.flags & kPrefix) {
    EXPECT_EQ(got.rfind(want, 0), 0u) << "expected one line starting with: " << want << "\n" << describe(r);
    EXPECT_TRUE(!got.empty() && got.find('\n') == got.size() - 1) << "expected exactly one line\n" << describe(r);
  } else {
    EXPECT_EQ(got, want);
  }
  if (std::string(c.tool) != "inotifysync") {
    EXPECT_EQ(r.out, "") << "stdout is for events and tables";
  }

  if (c.ref != kSame) return;
  auto ref = reference_bin(c.tool);
  if (!ref) return;  // compared where inotify-tools is installed (scripts/setup installs it)
  RunResult theirs = run(command(c, *ref), o, 15s);
  EXPECT_EQ(r.err, theirs.err) << "the reference says otherwise";
  EXPECT_TRUE(theirs.exit.exited && theirs.exit.code == r.exit.code) << "the reference: " << describe(theirs);
}

INSTANTIATE_TEST_SUITE_P(, BadInput, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return std::string(info.param.tool) + "_" + info.param.name; });

TEST(BadInputTable, HasAtLeast60Cases) { EXPECT_GE(cases().size(), 60u); }

}  // namespace
