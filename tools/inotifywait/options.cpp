#include "options.hpp"

#include <cstdio>

#include <fmt/format.h>
#include <toolcommon/cli.hpp>
#include <toolcommon/messages.hpp>
#include <toolcommon/program.hpp>

namespace inotifywait {
namespace {

using toolcommon::ArgKind;
using toolcommon::Failure;

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
  kNoDereference,
  kFormat,
  kNoNewline,
  kTimefmt,
  kFromfile,
  kOutfile,
  kExclude,
  kExcludei,
  kInclude,
  kIncludei,
  kVersion,
  kExcludeFrom,
  kPrune,
  kJson,
};

// The reference's long-option table order (it decides how an ambiguous prefix is reported) and its
// short options "mrhcdsPqt:fo:e:IFS".
constexpr toolcommon::OptionSpec kOptions[] = {
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
    {kNoDereference, 'P', "no-dereference"},
    {kFormat, 0, "format", ArgKind::required},
    {kNoNewline, 0, "no-newline"},
    {kTimefmt, 0, "timefmt", ArgKind::required},
    {kFromfile, 0, "fromfile", ArgKind::required},
    {kOutfile, 'o', "outfile", ArgKind::required},
    {kExclude, 0, "exclude", ArgKind::required},
    {kExcludei, 0, "excludei", ArgKind::required},
    {kInclude, 0, "include", ArgKind::required},
    {kIncludei, 0, "includei", ArgKind::required},
    // Additions (long options only). --version must be spelled out in full, so that it never turns
    // an abbreviation the reference rejects into something else.
    {kVersion, 0, "version", ArgKind::none, /*exact_only=*/true},
    // Also additions, also only in full: "--ex" stays ambiguous between exactly the reference's two.
    {kExcludeFrom, 0, "exclude-from", ArgKind::required, /*exact_only=*/true},
    {kPrune, 0, "prune", ArgKind::required, /*exact_only=*/true},
    {kJson, 0, "json", ArgKind::none, /*exact_only=*/true},
};

// Listed by the fanotify twin only, as 3.22's fsnotifywait build does.
constexpr std::string_view kBackendHelp =
    "\t-I|--inotify  \tWatch with inotify.\n"
    "\t-F|--fanotify \tWatch with fanotify (the default).\n"
    "\t-S|--filesystem\tWatch with a fanotify filesystem mark (root only).\n";

}  // namespace

std::string help_text(std::string_view program) {
  const bool fs = program.starts_with("fsnotify");
  return fmt::format(
      "{0} (libwatch) {1}\n"
      "Wait for filesystem events on files and directories, using {2}.\n"
      "Usage: {0} [ options ] file1 [ file2 ] [ file3 ] [ ... ]\n"
      "Options:\n"
      "\t-h|--help     \tPrint this text and exit (status 1).\n"
      "\t@<file>       \tDo not watch <file> (a subdirectory) under -r.\n"
      "\t--exclude <pattern>\n"
      "\t              \tDo not print events whose path matches the\n"
      "\t              \tPOSIX extended regular expression <pattern>.\n"
      "\t              \tGiven more than once, each one counts.\n"
      "\t--excludei <pattern>\n"
      "\t              \tAs --exclude, ignoring case.\n"
      "\t--include <pattern>\n"
      "\t              \tPrint only the events whose path matches the\n"
      "\t              \tPOSIX extended regular expression\n"
      "\t              \t<pattern>.\n"
      "\t--includei <pattern>\n"
      "\t              \tAs --include, ignoring case.\n"
      "\t--exclude-from <file>\n"
      "\t              \tAs --exclude, for each line of <file>\n"
      "\t              \t(blank lines and # comments skipped).\n"
      "\t--prune <pattern>\n"
      "\t              \tUnder -r, do not watch directories whose\n"
      "\t              \tpath matches <pattern> at all.\n"
      "\t-m|--monitor  \tKeep printing events until killed or until --timeout.\n"
      "\t              \tWithout it, the first event ends the program.\n"
      "\t-d|--daemon   \tLike --monitor, but detach and run in the background,\n"
      "\t              \twriting events to the --outfile file.\n"
      "\t              \tMessages go to syslog.\n"
      "\t-P|--no-dereference\n"
      "\t              \tWatch symbolic links themselves, not their targets.\n"
      "\t-r|--recursive\tWatch whole directory trees.\n"
      "{3}"
      "\t--fromfile <file>\n"
      "\t              \tRead the files to watch from <file> (`-' is stdin).\n"
      "\t-o|--outfile <file>\n"
      "\t              \tAppend events to <file> instead of stdout.\n"
      "\t-s|--syslog   \tSend messages to syslog instead of stderr.\n"
      "\t-q|--quiet    \tDo not print the setup messages.\n"
      "\t-qq           \tDo not print events either.\n"
      "\t--format <fmt>\tPrint events with a printf-like format\n"
      "\t              \t(conversions: see the manual page).\n"
      "\t--no-newline  \tDo not add a newline at the end of\n"
      "\t              \tthe --format string.\n"
      "\t--timefmt <fmt>\tstrftime(3) format for %T in\n"
      "\t              \tthe --format string.\n"
      "\t-c|--csv      \tPrint events as CSV.\n"
      "\t--json        \tPrint one JSON object per event.\n"
      "\t-t|--timeout <seconds>\n"
      "\t              \tExit with status 2 when no event arrives for\n"
      "\t              \t<seconds> seconds (with --monitor: no event printed).\n"
      "\t              \tZero (the default) means never.\n"
      "\t-e|--event <event1> [ -e|--event <event2> ... ]\n"
      "\t\tThe events to print (comma lists allowed).  Without -e,\n"
      "\t\tall events are printed.\n"
      "\n"
      "Exit status:\n"
      "\t0  -  An event that was asked for happened.\n"
      "\t1  -  An event that was not asked for ended the wait\n"
      "\t      (for example delete_self or unmount), or an error occurred.\n"
      "\t2  -  --timeout was given and it expired\n"
      "\t      before an event arrived.\n"
      "\n"
      "Events:\n"
      "\taccess\t\ta file was read\n"
      "\tmodify\t\ta file was written\n"
      "\tattrib\t\tmetadata changed (permissions, times, links, ...)\n"
      "\tclose_write\ta file opened for writing\n"
      "\t           \twas closed\n"
      "\tclose_nowrite\ta file or directory opened read-only\n"
      "\t           \twas closed\n"
      "\tclose\t\tclose_write or close_nowrite\n"
      "\topen\t\ta file or directory was opened\n"
      "\tmoved_to\tan entry was moved into a watched directory\n"
      "\tmoved_from\tan entry was moved out of a watched directory\n"
      "\tmove\t\tmoved_to or moved_from\n"
      "\tmove_self\t\tthe watched file or directory itself was moved\n"
      "\tcreate\t\tan entry was created in a watched directory\n"
      "\tdelete\t\tan entry was deleted from a watched directory\n"
      "\tdelete_self\tthe watched file or directory itself was deleted\n"
      "\tunmount\t\tthe file system of the watched object was unmounted\n",
      program, toolcommon::version(), fs ? "fanotify" : "inotify", fs ? kBackendHelp : "");
}

Options parse_options(int argc, char** argv) {
  Options o;
  const toolcommon::Program program = toolcommon::program_for(argc > 0 ? argv[0] : nullptr, "wait");
  o.backend = program.default_backend;
  bool format_seen = false;
  auto handler = [&](int id, const std::optional<std::string>& value) {
    switch (id) {
      case kHelp:
        std::fputs(help_text(program.name).c_str(), stdout);
        std::fflush(stdout);
        throw Failure("");
      case kEvent:
        o.events |= toolcommon::event_list_or_fail(*value);
        break;
      case kMonitor:
        o.monitor = true;
        break;
      case kQuiet:
        ++o.quiet;
        break;
      case kTimeout:
        o.timeout = toolcommon::parse_timeout(*value);
        break;
      case kFilename:
        throw Failure(
            "The '--filename' option no longer exists.  The option it enabled in earlier\n"
            "versions of inotifywait is now turned on by default.\n");
      case kRecursive:
        o.recursive = true;
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
      case kCsv:
        o.csv = true;
        break;
      case kDaemon:
        o.daemon = true;
        o.monitor = true;
        o.syslog = true;
        break;
      case kSyslog:
        o.syslog = true;
        break;
      case kNoDereference:
        o.no_dereference = true;
        break;
      case kFormat:
        o.format = *value;  // D11: the last one wins
        format_seen = true;
        break;
      case kNoNewline:
        o.no_newline = true;
        break;
      case kTimefmt:
        o.timefmt = *value;
        break;
      case kFromfile:
        if (o.fromfile) throw Failure("Multiple --fromfile options given.\n");
        o.fromfile = *value;
        break;
      case kOutfile:
        if (o.outfile) throw Failure("Multiple --outfile options given.\n");
        o.outfile = *value;
        break;
      case kExclude:
        o.regex.set_exclude(*value);
        break;
      case kExcludei:
        o.regex.set_excludei(*value);
        break;
      case kInclude:
        o.regex.set_include(*value);
        break;
      case kIncludei:
        o.regex.set_includei(*value);
        break;
      case kVersion:
        toolcommon::print_version(program.name);
        throw Failure("", toolcommon::kExitOk);
      case kExcludeFrom:
        o.regex.add_exclude_file(*value);
        break;
      case kPrune:
        o.prune.push_back(*value);
        break;
      case kJson:
        o.json = true;
        break;
    }
  };
  auto parsed = toolcommon::parse_command_line(argc, argv, kOptions, handler);
  std::fputs(parsed.diagnostic.c_str(), stderr);

  // The consistency checks run even after a getopt error, in this order.
  if (auto conflict = o.regex.conflict(); !conflict.empty()) throw Failure(conflict);
  if (o.csv && format_seen) throw Failure("-c and --format cannot both be specified.\n");
  if (o.json) {  // an addition: its own words, before the reference's checks that it would also trip
    if (format_seen) throw Failure("--json and --format cannot both be specified.\n");
    if (o.csv) throw Failure("--json and -c cannot both be specified.\n");
    if (o.no_newline) throw Failure("--json and --no-newline cannot both be specified.\n");
    if (o.timefmt) throw Failure("--json and --timefmt cannot both be specified (its times are RFC 3339).\n");
  }
  if (o.no_newline && !format_seen) throw Failure("--no-newline cannot be specified without --format.\n");
  if (o.timefmt && !format_seen) throw Failure("--timefmt cannot be specified without --format.\n");
  if (format_seen && !o.timefmt && o.format->find("%T") != std::string::npos)
    throw Failure("%T is in --format string, but --timefmt was not specified.\n");
  if (o.daemon && !o.outfile) throw Failure("-o must be specified with -d.\n");
  // D18: repeated --exclude/--excludei all count, so the reference's warning that only the last
  // one does ("--exclude: only the last option will be taken into consideration.") is not printed.
  if (parsed.error) throw Failure("");
  o.operands = std::move(parsed.operands);
  return o;
}

}  // namespace inotifywait
