#include "options.hpp"

#include <strings.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include <toolcommon/cli.hpp>
#include <toolcommon/messages.hpp>
#include <toolcommon/program.hpp>

namespace inotifywatch {
namespace {

using toolcommon::ArgKind;
using toolcommon::Failure;

enum Id {
  kHelp,
  kVerbose,
  kFromfile,
  kExclude,
  kExcludei,
  kInclude,
  kIncludei,
  kZero,
  kRecursive,
  kNoDereference,
  kTimeout,
  kEvent,
  kAscending,
  kDescending,
  kInotify,
  kFanotify,
  kFilesystem,
  kLive,
  kVersion,
  kExcludeFrom,
  kPrune,
  kJson,
};

// The reference's long-option table order decides the order of the possibilities listed for an
// ambiguous prefix ("--e": event exclude excludei; "--i": inotify include includei; "--f":
// fanotify filesystem fromfile). -I/-F/-S choose the backend (toolcommon::apply_backend_option).
constexpr toolcommon::OptionSpec kOptions[] = {
    {kHelp, 'h', "help"},
    {kEvent, 'e', "event", ArgKind::required},
    {kExclude, 0, "exclude", ArgKind::required},
    {kExcludei, 0, "excludei", ArgKind::required},
    {kInotify, 'I', "inotify"},
    {kInclude, 0, "include", ArgKind::required},
    {kIncludei, 0, "includei", ArgKind::required},
    {kFanotify, 'F', "fanotify"},
    {kFilesystem, 'S', "filesystem"},
    {kFromfile, 0, "fromfile", ArgKind::required},
    {kVerbose, 'v', "verbose"},
    {kZero, 'z', "zero"},
    {kRecursive, 'r', "recursive"},
    {kNoDereference, 'P', "no-dereference"},
    {kTimeout, 't', "timeout", ArgKind::required},
    {kAscending, 'a', "ascending", ArgKind::required},
    {kDescending, 'd', "descending", ArgKind::required},
    {kLive, 0, "live", ArgKind::optional, /*exact_only=*/true},  // an addition: no new abbreviations
    // --version must be spelled out in full: "--v", "--ve" and "--ver" still mean --verbose, and
    // "--vers" ... "--versio" are still unrecognized, exactly as with the reference.
    {kVersion, 0, "version", ArgKind::none, /*exact_only=*/true},
    // More additions, only in full: every abbreviation keeps the meaning it has with the reference.
    {kExcludeFrom, 0, "exclude-from", ArgKind::required, /*exact_only=*/true},
    {kPrune, 0, "prune", ArgKind::required, /*exact_only=*/true},
    {kJson, 0, "json", ArgKind::none, /*exact_only=*/true},
};

constexpr std::string_view kHelpBody =
    "Options:\n"
    "\t-h|--help    \tShow this help text.\n"
    "\t-v|--verbose \tBe verbose.\n"
    "\t@<file>       \tExclude the specified file from being watched.\n"
    "\t--fromfile <file>\n"
    "\t\tRead files to watch from <file> or `-' for stdin.\n"
    "\t--exclude <pattern>\n"
    "\t\tExclude all events on files matching the extended regular\n"
    "\t\texpression <pattern>.\n"
    "\t--excludei <pattern>\n"
    "\t\tLike --exclude but case insensitive.\n"
    "\t--include <pattern>\n"
    "\t\tExclude all events on files except the ones\n"
    "\t\tmatching the extended regular expression\n"
    "\t\t<pattern>.\n"
    "\t--includei <pattern>\n"
    "\t\tLike --include but case insensitive.\n"
    "\t-z|--zero\n"
    "\t\tIn the final table of results, output rows and columns even\n"
    "\t\tif they consist only of zeros (the default is to not output\n"
    "\t\tthese rows and columns).\n"
    "\t-r|--recursive\tWatch directories recursively.\n"
    "\t-P|--no-dereference\n"
    "\t\tDo not follow symlinks.\n"
    "\t-t|--timeout <seconds>\n"
    "\t\tListen only for specified amount of time in seconds; if\n"
    "\t\tomitted or zero, inotifywatch will execute until receiving an\n"
    "\t\tinterrupt signal.\n"
    "\t-e|--event <event1> [ -e|--event <event2> ... ]\n"
    "\t\tListen for specific event(s).  If omitted, all events are \n"
    "\t\tlistened for.\n"
    "\t-a|--ascending <event>\n"
    "\t\tSort ascending by a particular event, or `total'.\n"
    "\t-d|--descending <event>\n"
    "\t\tSort descending by a particular event, or `total'.\n"
    "\t--live[=<seconds>]\n"
    "\t\tShow the statistics while they are collected: on a terminal\n"
    "\t\tredrawn in place every <seconds> (default 1), otherwise\n"
    "\t\tprinted with a timestamp every <seconds>.\n"
    "\t--json\n"
    "\t\tPrint the final table as one JSON document.\n"
    "\t--exclude-from <file>\n"
    "\t\tLike --exclude, for each line of <file> (blank lines and\n"
    "\t\tlines starting with # are skipped). Every --exclude,\n"
    "\t\t--excludei, --include and --includei given counts.\n"
    "\t--prune <pattern>\n"
    "\t\tWith -r, do not watch the directories whose path matches\n"
    "\t\t<pattern> at all.\n"
    "\n"
    "Exit status:\n"
    "\t0  -  Exited normally.\n"
    "\t1  -  Some error occurred.\n"
    "\n"
    "Events:\n"
    "\taccess\t\tfile or directory contents were read\n"
    "\tmodify\t\tfile or directory contents were written\n"
    "\tattrib\t\tfile or directory attributes changed\n"
    "\tclose_write\tfile or directory closed, after being opened in\n"
    "\t           \twritable mode\n"
    "\tclose_nowrite\tfile or directory closed, after being opened in\n"
    "\t           \tread-only mode\n"
    "\tclose\t\tfile or directory closed, regardless of read/write mode\n"
    "\topen\t\tfile or directory opened\n"
    "\tmoved_to\tfile or directory moved to watched directory\n"
    "\tmoved_from\tfile or directory moved from watched directory\n"
    "\tmove\t\tfile or directory moved to or from watched directory\n"
    "\tmove_self\t\tA watched file or directory was moved.\n"
    "\tcreate\t\tfile or directory created within watched directory\n"
    "\tdelete\t\tfile or directory deleted within watched directory\n"
    "\tdelete_self\tfile or directory was deleted\n"
    "\tunmount\t\tfile system containing file or directory unmounted\n";

constexpr std::string_view kCloseMessage =
    "Cannot sort by `close' event; please use `close_write' or `close_nowrite'.\n";
constexpr std::string_view kMoveMessage = "Cannot sort by `move' event; please use `moved_from' or `moved_to'.\n";

std::string invalid_key_message(std::string_view arg) {
  return fmt::format("'{}' is not a valid key for sorting!\n", arg);
}

// The sort key as given: "total" (any case) or an event list. The mask 0 (an empty list) means
// the total too, as in the reference.
struct KeyArg {
  std::string text;
  Mask mask = 0;
  bool ascending = false;
};

KeyArg parse_key(const std::string& arg, bool ascending) {
  KeyArg k{arg, 0, ascending};
  if (::strcasecmp(arg.c_str(), "total") == 0) return k;
  auto m = toolcommon::parse_event_list(arg);
  if (!m) throw Failure(invalid_key_message(arg));
  k.mask = *m;
  return k;
}

}  // namespace

std::string help_text(std::string_view program) {
  return fmt::format(
      "{0} (libwatch) {1}\nGather filesystem usage statistics using {0}.\nUsage: {0} [ options ] file1 [ file2 ] [ ... "
      "]\n{2}",
      program, toolcommon::version(), kHelpBody);
}

std::optional<double> parse_live_seconds(std::string_view arg) {
  if (arg.empty()) return std::nullopt;
  std::string s(arg);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end != '\0' || !std::isfinite(v) || v <= 0 || v > 86400) return std::nullopt;
  // Digits, at most one '.', nothing else: no hex floats, exponents or "inf".
  if (s.find_first_not_of("0123456789.") != std::string::npos) return std::nullopt;
  return v;
}

Options parse_options(int argc, char** argv) {
  Options o;
  const toolcommon::Program program = toolcommon::program_for(argc > 0 ? argv[0] : nullptr, "watch");
  o.backend = program.default_backend;
  std::optional<KeyArg> key;
  bool sort_once_guard = false;  // set by -a only, checked by both, as in the reference
  auto handler = [&](int id, const std::optional<std::string>& value) {
    const std::string v = value.value_or(std::string());
    switch (static_cast<Id>(id)) {
      case kHelp:
        std::fputs(help_text(program.name).c_str(), stdout);
        std::fflush(stdout);
        throw Failure("", toolcommon::kExitFailure);
      case kVerbose:
        ++o.verbose;
        break;
      case kFromfile:
        if (o.fromfile) throw Failure("Multiple --fromfile options given.\n");
        o.fromfile = v;
        break;
      case kExclude:
        o.regex.set_exclude(v);
        break;
      case kExcludei:
        o.regex.set_excludei(v);
        break;
      case kInclude:
        o.regex.set_include(v);
        break;
      case kIncludei:
        o.regex.set_includei(v);
        break;
      case kZero:
        o.zero = true;
        break;
      case kRecursive:
        o.recursive = true;
        break;
      case kNoDereference:
        o.no_dereference = true;
        break;
      case kTimeout:
        o.timeout = toolcommon::parse_timeout(v);
        break;
      case kEvent:
        o.events |= toolcommon::event_list_or_fail(v);
        break;
      case kAscending: {
        if (sort_once_guard) throw Failure("Please specify -a or -d once only!\n");
        KeyArg k = parse_key(v, true);
        if (::strcasecmp(v.c_str(), "move") == 0) throw Failure(std::string(kMoveMessage));
        if (::strcasecmp(v.c_str(), "close") == 0) throw Failure(std::string(kCloseMessage));
        key = std::move(k);
        sort_once_guard = true;
        break;
      }
      case kDescending:
        // -d is refused after -a, but does not itself count: "-d X -a Y" and "-d X -d Y" pass.
        if (sort_once_guard) throw Failure("Please specify -a or -d once only!\n");
        key = parse_key(v, false);
        break;
      case kInotify:
        toolcommon::apply_backend_option(o.backend, 'I');
        break;
      case kFanotify:
        toolcommon::apply_backend_option(o.backend, 'F');
        break;
      case kFilesystem:
        toolcommon::apply_backend_option(o.backend, 'S');
        break;
      case kLive:
        if (!value) {
          o.live = kDefaultLiveSeconds;
        } else if (auto s = parse_live_seconds(*value)) {
          o.live = *s;
        } else {
          throw Failure(fmt::format("'{}' is not a valid number of seconds for --live.\n", *value));
        }
        break;
      case kVersion:
        toolcommon::print_version(program.name);
        throw Failure("", toolcommon::kExitOk);
      case kExcludeFrom:
        o.regex.add_exclude_file(v);
        break;
      case kPrune:
        o.prune.push_back(v);
        break;
      case kJson:
        o.json = true;
        break;
    }
  };
  toolcommon::ParseResult r = toolcommon::parse_command_line(argc, argv, kOptions, handler);

  // After the options, as the reference: the getopt message (if any), then the first failing
  // consistency check; a getopt error alone still fails.
  std::string messages = r.diagnostic;
  auto fail = [&](std::string_view m) { throw Failure(messages + std::string(m)); };
  if (key && key->mask != 0) {
    if ((key->mask & o.requested()) == 0) fail("Can't sort by an event which isn't being watched for!\n");
    // D6: a key without a column of its own (a combination such as close or move, or a bit such
    // as ignored) makes the reference crash as soon as two rows are compared. Refuse it.
    if (column_for(key->mask) < 0) {
      if (key->mask == IN_CLOSE) fail(kCloseMessage);
      if (key->mask == IN_MOVE) fail(kMoveMessage);
      fail(invalid_key_message(key->text));
    }
  }
  if (auto c = o.regex.conflict(); !c.empty()) fail(c);
  if (r.error) throw Failure(messages);
  if (key) o.sort = SortKey{key->mask == 0 ? kTotalColumn : column_for(key->mask), key->ascending};
  o.operands = std::move(r.operands);
  return o;
}

}  // namespace inotifywatch
