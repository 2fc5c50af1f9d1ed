#include "options.hpp"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <toolcommon/messages.hpp>

namespace inotifybatch {
namespace {

using toolcommon::Failure;

constexpr std::int64_t kMaxSeconds = 31536000;  // a year: plenty for any delay
constexpr std::size_t kMaxBatch = 999999999;

[[noreturn]] void usage_error(const std::string& text) {
  throw Failure(fmt::format("inotifybatch: {}\nTry 'inotifybatch --help' for more information.\n", text));
}

}  // namespace

const char* const kUsage =
    "Usage: inotifybatch [options] --out DIR SOURCE\n"
    "       inotifybatch --merge OUT SOURCE BATCH...\n"
    "Watch SOURCE recursively and write its changes as NUL-separated lists, one batch at a time,\n"
    "into DIR (N.paths, N.moves); print one line per batch on stdout. --merge joins batches\n"
    "(DIR/N prefixes) into OUT.send, OUT.deleted and OUT.moves for one rsync.\n"
    "\n"
    "Options:\n"
    "  --delay SECONDS      collect events for this long before a batch (default 1)\n"
    "  --max-batch N        cut a batch early at N paths (default 10000)\n"
    "  --exclude PATTERN    rsync exclude rule; excluded directories are not watched\n"
    "  --exclude-from FILE  read exclude rules from FILE\n"
    "  --snapshot-max N     after an overflow, find the changes by comparing the tree with a\n"
    "                       snapshot of at most N entries (default 1000000; 0: off, full sync)\n"
    "  --snapshot-on-signal take the snapshot at SIGUSR1 (after the driver's full sync), not at\n"
    "                       once after the watches or an overflow's full-sync line\n"
    "  --fanotify           watch with a fanotify filesystem mark (root only): no inotify watch per\n"
    "                       directory (used by itself when the tree needs more than max_user_watches)\n"
    "  --out DIR            where the batch lists go\n"
    "  --merge OUT          merge mode (see above)\n"
    "  -h, --help           show this help and exit\n"
    "  -V, --version        show the version and exit\n";

std::chrono::microseconds parse_seconds(const std::string& v, const std::string& option) {
  double seconds = 0;
  // CLI11's conversion: the whole text must be a number (no "1s", no trailing blank).
  if (!CLI::detail::lexical_cast(v, seconds) || !std::isfinite(seconds))
    usage_error(fmt::format("{}: '{}' is not a number of seconds", option, v));
  if (seconds < 0 || seconds > double(kMaxSeconds))
    usage_error(fmt::format("{}: '{}' is out of range (0 to {} seconds)", option, v, kMaxSeconds));
  return std::chrono::microseconds(std::llround(seconds * 1e6));
}

// CLI11 scans the command line (GNU-style: options anywhere, "--opt=value", "--" ends them),
// converts and range-checks the numbers; its one-line complaint becomes our usage error.
Options parse_options(int argc, char** argv) {
  Options o;
  std::string delay;
  CLI::App app{"inotifybatch"};
  app.set_help_flag();  // kUsage, printed by main, is the help
  app.add_flag("-h,--help", o.help);
  app.add_flag("-V,--version", o.version);
  app.add_option("--delay", delay);
  app.add_option("--max-batch", o.max_batch)->check(CLI::Range(std::size_t{1}, kMaxBatch));
  app.add_option("--snapshot-max", o.snapshot_max)->check(CLI::Range(std::size_t{0}, kMaxBatch));
  app.add_flag("--snapshot-on-signal", o.snapshot_on_signal);
  // Each --exclude takes exactly one rule, so what follows it is the next option or an operand.
  app.add_option("--exclude", o.excludes)->allow_extra_args(false);
  app.add_option("--exclude-from", o.exclude_files)->allow_extra_args(false);
  app.add_flag("--fanotify", o.fanotify);
  app.add_option("--out", o.out);
  app.add_option("--merge", o.merge);
  app.add_option("operands", o.operands);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    usage_error(e.what());
  }
  if (o.help || o.version) return o;
  if (!delay.empty()) o.delay = parse_seconds(delay, "--delay");
  if (!o.merge.empty()) {
    if (o.operands.size() < 2) usage_error("--merge needs OUT, a SOURCE and at least one BATCH");
  } else {
    if (o.out.empty()) usage_error("--out DIR is required");
    if (o.operands.size() != 1) usage_error("need exactly one SOURCE");
  }
  return o;
}

}  // namespace inotifybatch
