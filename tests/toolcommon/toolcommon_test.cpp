// Unit tests for tools/common: the getopt_long-compatible parser (checked against glibc's own
// getopt_long in-process), event lists, timeouts, the watch list and the regex filter.
#include <getopt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support.hpp"
#include "toolcommon/cli.hpp"
#include "toolcommon/inputs.hpp"
#include "toolcommon/messages.hpp"

namespace {

using toolcommon::ArgKind;
using toolcommon::OptionSpec;

// inotifywait's table, in the reference's long-option order.
enum Id {
  kHelp,
  kEvent,
  kMonitor,
  kQuiet,
  kTimeout,
  kFilename,
  kRecursive,
  kInotify,
  kFanotify,
  kFilesystem,
  kCsv,
  kDaemon,
  kSyslog,
  kNoDeref,
  kFormat,
  kNoNewline,
  kTimefmt,
  kFromfile,
  kOutfile,
  kExclude,
  kExcludei,
  kInclude,
  kIncludei,
  kLive,
  kVerbose,  // inotifywatch's, for the exact_only tests
  kVersion,
};
const OptionSpec kTable[] = {
    {kHelp, 'h', "help"},
    {kEvent, 'e', "event", ArgKind::required},
    {kMonitor, 'm', "monitor"},
    {kQuiet, 'q', "quiet"},
    {kTimeout, 't', "timeout", ArgKind::required},
    {kFilename, 'f', "filename"},
    {kRecursive, 'r', "recursive"},
    {kInotify, 'I', "inotify"},
    {kFanotify, 'F', "fanotify"},
    {kFilesystem, 'S', "filesystem"},
    {kCsv, 'c', "csv"},
    {kDaemon, 'd', "daemon"},
    {kSyslog, 's', "syslog"},
    {kNoDeref, 'P', "no-dereference"},
    {kFormat, 0, "format", ArgKind::required},
    {kNoNewline, 0, "no-newline"},
    {kTimefmt, 0, "timefmt", ArgKind::required},
    {kFromfile, 0, "fromfile", ArgKind::required},
    {kOutfile, 'o', "outfile", ArgKind::required},
    {kExclude, 0, "exclude", ArgKind::required},
    {kExcludei, 0, "excludei", ArgKind::required},
    {kInclude, 0, "include", ArgKind::required},
    {kIncludei, 0, "includei", ArgKind::required},
    {kLive, 0, "live", ArgKind::optional},
};

struct Outcome {
  std::vector<std::string> seen;  // "id" or "id=value", in order
  std::vector<std::string> operands;
  std::string diagnostic;
  bool error = false;
  bool operator==(const Outcome&) const = default;
};

std::string show(const Outcome& o) {
  std::string s = "options:";
  for (const auto& x : o.seen) s += " [" + x + "]";
  s += "\noperands:";
  for (const auto& x : o.operands) s += " [" + x + "]";
  s += "\nerror: " + std::to_string(o.error) + "\ndiagnostic: " + o.diagnostic;
  return s;
}

Outcome ours(const std::vector<std::string>& args, std::span<const OptionSpec> table = kTable) {
  Outcome o;
  auto r = toolcommon::parse_command_line("prog", args, table, [&](int id, const std::optional<std::string>& v) {
    o.seen.push_back(std::to_string(id) + (v ? "=" + *v : ""));
  });
  o.operands = r.operands;
  o.diagnostic = r.diagnostic;
  o.error = r.error;
  if (o.error) o.operands.clear();  // not meaningful after an error (the tools exit)
  return o;
}

// The same arguments through glibc getopt_long, stopping at the first '?' as the tools do.
Outcome glibc(const std::vector<std::string>& args, std::span<const OptionSpec> table = kTable) {
  std::vector<option> longopts;
  for (const auto& s : table) {
    if (s.long_name.empty()) continue;
    int has = s.arg == ArgKind::none ? no_argument : s.arg == ArgKind::required ? required_argument : optional_argument;
    longopts.push_back({strdup(std::string(s.long_name).c_str()), has, nullptr, 1000 + s.id});
  }
  longopts.push_back({nullptr, 0, nullptr, 0});
  std::string shortopts;
  for (const auto& s : table) {
    if (!s.short_name) continue;
    shortopts += s.short_name;
    if (s.arg == ArgKind::required) shortopts += ':';
    if (s.arg == ArgKind::optional) shortopts += "::";
  }
  std::vector<std::string> storage{"prog"};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  // Capture what getopt_long prints on stderr.
  std::fflush(stderr);
  int saved = ::dup(2);
  std::FILE* tmp = std::tmpfile();
  ::dup2(::fileno(tmp), 2);

  Outcome o;
  optind = 0;  // full re-initialisation (also re-reads POSIXLY_CORRECT)
  opterr = 1;
  int c;
  while ((c = getopt_long(static_cast<int>(storage.size()), argv.data(), shortopts.c_str(), longopts.data(),
                          nullptr)) != -1) {
    if (c == '?') {
      o.error = true;
      break;
    }
    int id = -1;
    if (c >= 1000) {
      id = c - 1000;
    } else {
      for (const auto& s : table)
        if (s.short_name == c) id = s.id;
    }
    o.seen.push_back(std::to_string(id) + (optarg ? "=" + std::string(optarg) : ""));
  }
  if (!o.error)
    for (int i = optind; i < static_cast<int>(storage.size()); ++i) o.operands.push_back(argv[i]);

  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::rewind(tmp);
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, tmp)) > 0) o.diagnostic.append(buf, n);
  std::fclose(tmp);
  for (auto& lo : longopts) std::free(const_cast<char*>(lo.name));
  return o;
}

const std::vector<std::vector<std::string>> kCases = {
    {},
    {"d"},
    {"-m", "d"},
    {"d", "-m"},
    {"-mrq", "d", "-q"},
    {"-t5", "d"},
    {"-t", "5", "d"},
    {"-mt5", "d"},
    {"-mt", "5"},
    {"-ecreate,modify", "-e", "delete", "x"},
    {"-e", "-x", "d"},
    {"-t", "-5"},
    {"--timeout=7", "d"},
    {"--timeout", "7", "d"},
    {"--timeout=", "d"},
    {"--event="},
    {"--mon", "d"},
    {"--m", "d"},
    {"--ex", "d"},
    {"--ex=foo", "d"},
    {"--exclude", "x", "d"},
    {"--exclude=x", "--excludei=y"},
    {"--e", "d"},
    {"--f"},
    {"--t", "d"},
    {"--time", "d"},
    {"--timeo"},
    {"--foo"},
    {"--foo=bar"},
    {"--help=x"},
    {"--hel=x"},
    {"--=x"},
    {"-x"},
    {"-mxq", "d"},
    {"d", "-x", "-m"},
    {"-e"},
    {"d", "--format"},
    {"--", "-m", "--x"},
    {"d", "--", "-m"},
    {"-", "d"},
    {"-m", "-", "--", "--"},
    {"-m-"},
    {"-:"},
    {"--live", "d"},
    {"--live=3", "d"},
    {"--live", "3"},
    {"--li=", "d"},
    {"--no-newline", "--format", "%w"},
    {"--no", "x"},
    {"--fromfile", "-", "@x", ""},
    {"--format", "", "d"},
    {"-o", "", "d"},
    {"-oout", "d"},
    {"-q", "-q", "--quiet"},
    {"--csv=", "d"},
    {"-I", "-F", "-S", "-P", "-c", "-d", "-s", "-f", "-h"},
    {"a", "b", "-t", "1", "c"},
    {"--include", "--exclude"},
};

TEST(ToolcommonGetoptHarness, CapturesGlibcDiagnostics) {
  ::unsetenv("POSIXLY_CORRECT");
  EXPECT_EQ(glibc({"-x"}).diagnostic, "prog: invalid option -- 'x'\n");
  EXPECT_EQ(glibc({"a", "-m"}).operands, std::vector<std::string>{"a"});
}

class ToolcommonGetopt : public testing::TestWithParam<bool> {};

TEST_P(ToolcommonGetopt, MatchesGlibcGetoptLong) {
  bool posix = GetParam();
  if (posix)
    ::setenv("POSIXLY_CORRECT", "1", 1);
  else
    ::unsetenv("POSIXLY_CORRECT");
  for (const auto& args : kCases) {
    Outcome a = ours(args), b = glibc(args);
    std::string argv;
    for (const auto& x : args) argv += " '" + x + "'";
    EXPECT_EQ(a, b) << "argv:" << argv << "\n--- ours ---\n" << show(a) << "\n--- glibc ---\n" << show(b);
  }
  ::unsetenv("POSIXLY_CORRECT");
}

INSTANTIATE_TEST_SUITE_P(Modes, ToolcommonGetopt, testing::Values(false, true),
                         [](const auto& info) { return info.param ? "PosixlyCorrect" : "Permuting"; });

// An addition marked exact_only (inotifywatch's "--version" beside the reference's "--verbose")
// changes nothing for any other argument: with it, our parser gives exactly what glibc gives
// without it. "--v", "--ve", "--ver" stay --verbose, "--vers" to "--versio" stay unrecognized,
// and the ambiguity lists stay the reference's.
TEST(ToolcommonCli, ExactOnlyOptionLeavesEveryAbbreviationAsItWas) {
  ::unsetenv("POSIXLY_CORRECT");
  std::vector<OptionSpec> reference(std::begin(kTable), std::end(kTable));
  reference.push_back({kVerbose, 'v', "verbose"});
  std::vector<OptionSpec> with_version = reference;
  with_version.push_back({kVersion, 0, "version", ArgKind::none, /*exact_only=*/true});
  std::vector<std::vector<std::string>> cases = kCases;
  for (std::vector<std::string> c : std::vector<std::vector<std::string>>{{"--v", "d"},
                                                                          {"--ve"},
                                                                          {"--ver", "d"},
                                                                          {"--verb"},
                                                                          {"--verbos"},
                                                                          {"--verbose", "d"},
                                                                          {"--vers"},
                                                                          {"--versi", "d"},
                                                                          {"--versio"},
                                                                          {"--ver=1"},
                                                                          {"--v=x", "d"},
                                                                          {"-v", "--ver", "--verbose"},
                                                                          {"--versions"},
                                                                          {"--e", "x"},
                                                                          {"d", "--vers", "-m"}})
    cases.push_back(c);
  for (const auto& args : cases) {
    Outcome a = ours(args, with_version), b = glibc(args, reference);
    std::string argv;
    for (const auto& x : args) argv += " '" + x + "'";
    EXPECT_EQ(a, b) << "argv:" << argv << "\n--- ours ---\n" << show(a) << "\n--- glibc ---\n" << show(b);
  }
  // In full it is an ordinary flag.
  Outcome v = ours({"-m", "--version", "d"}, with_version);
  EXPECT_EQ(v.seen, (std::vector<std::string>{std::to_string(kMonitor), std::to_string(kVersion)}));
  EXPECT_EQ(v.operands, std::vector<std::string>{"d"});
  EXPECT_FALSE(v.error);
  EXPECT_EQ(ours({"--version=x"}, with_version).diagnostic, "prog: option '--version' doesn't allow an argument\n");
  EXPECT_EQ(ours({"--", "--version"}, with_version).operands, std::vector<std::string>{"--version"});
  EXPECT_TRUE(ours({"--version"}, reference).error);  // the harness itself tells them apart
}

TEST(ToolcommonCli, DiagnosticUsesArgv0AsGiven) {
  std::vector<std::string> args{"-x"};
  auto r = toolcommon::parse_command_line("/usr/local/bin/inotifywait", args, kTable, [](int, const auto&) {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.diagnostic, "/usr/local/bin/inotifywait: invalid option -- 'x'\n");
}

TEST(ToolcommonCli, AmbiguousPrefixListsPossibilitiesInTableOrder) {
  std::vector<std::string> args{"--ex"};
  auto r = toolcommon::parse_command_line("inotifywait", args, kTable, [](int, const auto&) {});
  EXPECT_EQ(r.diagnostic, "inotifywait: option '--ex' is ambiguous; possibilities: '--exclude' '--excludei'\n");
}

TEST(ToolcommonCli, OptionsReachTheHandlerInCommandLineOrderWithValuesIntact) {
  std::vector<std::string> args{"-qq", "--event=", "d", "-t", "-5", "--format", "a\nb \"c\"", "--live", "-e=x"};
  std::vector<std::string> seen;
  auto r = toolcommon::parse_command_line("p", args, kTable, [&](int id, const std::optional<std::string>& v) {
    seen.push_back(std::to_string(id) + (v ? ":" + *v : "!"));
  });
  EXPECT_FALSE(r.error);
  EXPECT_EQ(seen, (std::vector<std::string>{"3!", "3!", "1:", "4:-5", "14:a\nb \"c\"", "23!", "1:=x"}));
  EXPECT_EQ(r.operands, std::vector<std::string>{"d"});
}

TEST(ToolcommonCli, HandlerExceptionStopsParsingBeforeLaterOptions) {
  std::vector<std::string> args{"-m", "-e", "bogus", "-q", "-x"};
  std::vector<int> seen;
  EXPECT_THROW(toolcommon::parse_command_line("p", args, kTable,
                                              [&](int id, const auto& v) {
                                                seen.push_back(id);
                                                if (id == kEvent) toolcommon::event_list_or_fail(*v);
                                              }),
               toolcommon::Failure);
  EXPECT_EQ(seen, (std::vector<int>{kMonitor, kEvent}));
}

TEST(ToolcommonEventList, NamesAreCaseInsensitiveAndOred) {
  EXPECT_EQ(toolcommon::parse_event_list("modify"), IN_MODIFY);
  EXPECT_EQ(toolcommon::parse_event_list("MODIFY,Attrib"), IN_MODIFY | IN_ATTRIB);
  EXPECT_EQ(toolcommon::parse_event_list("close"), IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
  EXPECT_EQ(toolcommon::parse_event_list("move"), IN_MOVED_FROM | IN_MOVED_TO);
  EXPECT_EQ(toolcommon::parse_event_list("all_events"), IN_ALL_EVENTS);
  EXPECT_EQ(toolcommon::parse_event_list("isdir,oneshot,q_overflow,ignored,unmount"),
            IN_ISDIR | IN_ONESHOT | IN_Q_OVERFLOW | IN_IGNORED | IN_UNMOUNT);
}

TEST(ToolcommonEventList, EmptyElementsAreIgnoredD10) {
  EXPECT_EQ(toolcommon::parse_event_list(""), 0u);
  EXPECT_EQ(toolcommon::parse_event_list(","), 0u);
  EXPECT_EQ(toolcommon::parse_event_list("modify,"), IN_MODIFY);
  EXPECT_EQ(toolcommon::parse_event_list(",modify"), IN_MODIFY);
  EXPECT_EQ(toolcommon::parse_event_list("modify,,attrib"), IN_MODIFY | IN_ATTRIB);
}

TEST(ToolcommonEventList, UnknownNamesAnywhereAreRejectedWithTheWholeArgument) {
  EXPECT_EQ(toolcommon::parse_event_list("modify,foo"), std::nullopt);
  EXPECT_EQ(toolcommon::parse_event_list("modify,,foo"), std::nullopt);
  EXPECT_EQ(toolcommon::parse_event_list(" modify"), std::nullopt);
  EXPECT_EQ(toolcommon::parse_event_list("modify, attrib"), std::nullopt);
  try {
    toolcommon::event_list_or_fail("modify,foo");
    FAIL() << "no exception";
  } catch (const toolcommon::Failure& f) {
    EXPECT_EQ(f.message(),
              "'modify,foo' is not a valid event!  Run with the '--help' option to see a list of events.\n");
    EXPECT_EQ(f.status(), 1);
  }
}

std::string timeout_error(const std::string& arg) {
  try {
    toolcommon::parse_timeout(arg);
  } catch (const toolcommon::Failure& f) {
    return std::string(f.message());
  }
  return "accepted";
}

TEST(ToolcommonTimeout, AcceptsWhatStrtolAcceptsWhole) {
  EXPECT_EQ(toolcommon::parse_timeout("5"), 5u);
  EXPECT_EQ(toolcommon::parse_timeout(" 1"), 1u);
  EXPECT_EQ(toolcommon::parse_timeout("+7"), 7u);
  EXPECT_EQ(toolcommon::parse_timeout("-0"), 0u);
  EXPECT_EQ(toolcommon::parse_timeout("0"), 0u);
  EXPECT_EQ(toolcommon::parse_timeout("4294967295"), 4294967295u);
}

TEST(ToolcommonTimeout, ReferenceMessages) {
  EXPECT_EQ(timeout_error(""), "The provided value is not a valid timeout value.\nPlease specify a long int value.\n");
  EXPECT_EQ(timeout_error("1.5"), "'1.5' is not a valid timeout value.\nPlease specify a long int value.\n");
  EXPECT_EQ(timeout_error("1 "), "'1 ' is not a valid timeout value.\nPlease specify a long int value.\n");
  EXPECT_EQ(timeout_error("0x10"), "'0x10' is not a valid timeout value.\nPlease specify a long int value.\n");
  EXPECT_EQ(timeout_error("-"), "'-' is not a valid timeout value.\nPlease specify a long int value.\n");
  EXPECT_EQ(timeout_error("99999999999999999999"),
            "Something went wrong with the timeout value you provided.\nNumerical result out of range\n");
  EXPECT_EQ(timeout_error("-99999999999999999999x"),
            "Something went wrong with the timeout value you provided.\nNumerical result out of range\n");
}

TEST(ToolcommonTimeout, NegativeAndWrappingValuesAreRejectedD9) {
  EXPECT_EQ(timeout_error("-1"),
            "'-1' is not a valid timeout value.\nPlease specify a number of seconds from 0 to 4294967295.\n");
  EXPECT_EQ(timeout_error("4294967296"),
            "'4294967296' is not a valid timeout value.\nPlease specify a number of seconds from 0 to 4294967295.\n");
}

TEST(ToolcommonWatchList, OperandsAndExclusions) {
  std::vector<std::string> ops{"a", "", "@", "@x/y", "b", "./@c"};
  auto l = toolcommon::build_watch_list(std::nullopt, ops);
  EXPECT_EQ(l.paths, (std::vector<std::string>{"a", "b", "./@c"}));
  EXPECT_EQ(l.exclusions, (std::vector<std::string>{"x/y"}));
  EXPECT_EQ(l.diagnostics, "");
}

TEST(ToolcommonWatchList, FromfileComesFirstLineByLine) {
  testsupport::TempDir dir;
  std::string long_line(5000, 'L');
  testsupport::write_file(dir / "list", "f1\n\n@\n@ex\ntrail \ncr\r\n" + long_line + "\nlast");
  std::vector<std::string> ops{"op"};
  auto l = toolcommon::build_watch_list(dir / "list", ops);
  EXPECT_EQ(l.paths, (std::vector<std::string>{"f1", "trail ", "cr\r", std::string(4095, 'L'), std::string(905, 'L'),
                                               "last", "op"}));
  EXPECT_EQ(l.exclusions, std::vector<std::string>{"ex"});
}

TEST(ToolcommonWatchList, UnreadableFromfileIsReportedAndOperandsStillCount) {
  testsupport::TempDir dir;
  std::vector<std::string> ops{"op"};
  auto l = toolcommon::build_watch_list(dir / "missing", ops);
  EXPECT_EQ(l.paths, std::vector<std::string>{"op"});
  EXPECT_EQ(l.diagnostics, "Couldn't open " + (dir / "missing") + ": No such file or directory\n");
}

TEST(ToolcommonRegex, ConflictsInReferenceOrder) {
  toolcommon::RegexOptions o;
  EXPECT_EQ(o.conflict(), "");
  o.set_exclude("a");
  o.set_include("b");
  EXPECT_EQ(o.conflict(), "include and exclude regexp cannot both be specified.\n");
  o.set_includei("c");
  EXPECT_EQ(o.conflict(), "--include and --includei cannot both be specified.\n");
  o.set_excludei("d");
  EXPECT_EQ(o.conflict(), "--exclude and --excludei cannot both be specified.\n");
}

// D18: every occurrence counts (the reference keeps the last and warns about the others).
TEST(ToolcommonRegex, EveryOccurrenceIsKept) {
  toolcommon::RegexOptions o;
  o.set_exclude("a");
  o.set_exclude("b");
  o.set_excludei("c");
  ASSERT_EQ(o.excludes.size(), 3u);
  EXPECT_EQ(o.excludes[1].regex, "b");
  EXPECT_TRUE(o.excludes[2].icase);
  o.set_include("x");
  o.set_include("y");
  ASSERT_EQ(o.includes.size(), 2u);
  EXPECT_EQ(o.includes[0].regex, "x");
}

TEST(ToolcommonRegex, ExcludeIncludeAndCase) {
  toolcommon::RegexOptions ex;
  ex.set_exclude("first");
  ex.set_exclude("\\.tmp$");  // D18: both count
  toolcommon::Filter f(ex);
  EXPECT_TRUE(f.active());
  EXPECT_FALSE(f.passes("d/a.tmp"));
  EXPECT_TRUE(f.passes("d/a.TMP"));
  EXPECT_FALSE(f.passes("d/first"));

  toolcommon::RegexOptions exi;
  exi.set_excludei("\\.tmp$");
  toolcommon::Filter fi(exi);
  EXPECT_FALSE(fi.passes("d/a.TMP"));

  toolcommon::RegexOptions in;
  in.set_include("(a|b)+c");  // extended syntax
  toolcommon::Filter g(in);
  EXPECT_TRUE(g.passes("d/xababcx"));
  EXPECT_FALSE(g.passes("d/x"));

  toolcommon::Filter none;
  EXPECT_FALSE(none.active());
  EXPECT_TRUE(none.passes("anything"));

  toolcommon::Filter moved = std::move(g);
  EXPECT_TRUE(moved.passes("abc"));
  EXPECT_FALSE(g.active());
}

TEST(ToolcommonRegex, BadPatternMessages) {
  toolcommon::RegexOptions ex;
  ex.set_exclude("(");
  try {
    toolcommon::Filter f(ex);
    FAIL() << "no exception";
  } catch (const toolcommon::Failure& e) {
    EXPECT_EQ(e.message(), "Error in `exclude' regular expression.\n");
  }
  toolcommon::RegexOptions in;
  in.set_includei("a{1");
  try {
    toolcommon::Filter f(in);
    FAIL() << "no exception";
  } catch (const toolcommon::Failure& e) {
    EXPECT_EQ(e.message(), "Error in `include' regular expression.\n");
  }
}

TEST(ToolcommonMessages, WatchErrors) {
  EXPECT_EQ(toolcommon::watch_error_message("nonexist", ENOENT),
            "Couldn't watch nonexist: No such file or directory\n");
  EXPECT_EQ(toolcommon::watch_error_message("x", EACCES, true), "Failed to watch x: Permission denied\n");
  EXPECT_EQ(
      toolcommon::watch_error_message("d", ENOSPC),
      "Failed to watch d; upper limit on inotify watches reached!\n"
      "Please increase the amount of inotify watches allowed per user via `/proc/sys/fs/inotify/max_user_watches'.\n");
  EXPECT_EQ(toolcommon::init_error_message(EMFILE),
            "Couldn't initialize inotify: Too many open files\n"
            "Try increasing the value of /proc/sys/fs/inotify/max_user_instances\n");
  // -F: one line each, naming -I as the way out.
  EXPECT_EQ(toolcommon::fanotify_init_error_message(EPERM),
            "Couldn't initialize fanotify: Operation not permitted (-I uses inotify)\n");
  EXPECT_EQ(toolcommon::fanotify_init_error_message(EINVAL),
            "Couldn't initialize fanotify: Invalid argument (needs Linux 5.17 or later; -I uses inotify)\n");
  EXPECT_FALSE(toolcommon::version().empty());
}

}  // namespace
