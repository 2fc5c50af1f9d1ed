#include "options.hpp"

#include <array>
#include <cstdint>

#include <fmt/format.h>
#include <toolcommon/cli.hpp>
#include <toolcommon/messages.hpp>

namespace inotifybatch {
namespace {

using toolcommon::ArgKind;
using toolcommon::Failure;

constexpr std::int64_t kMaxSeconds = 31536000;  // a year: plenty for any delay
constexpr std::size_t kMaxBatch = 999999999;

enum Id { kDelay, kMaxBatchOpt, kExclude, kExcludeFrom, kOut, kMerge, kHelp, kVersion, kSnapshotMax };
const std::array<toolcommon::OptionSpec, 9> kTable{{
    {kDelay, 0, "delay", ArgKind::required},
    {kMaxBatchOpt, 0, "max-batch", ArgKind::required},
    {kExclude, 0, "exclude", ArgKind::required},
    {kExcludeFrom, 0, "exclude-from", ArgKind::required},
    {kOut, 0, "out", ArgKind::required},
    {kMerge, 0, "merge", ArgKind::required},
    {kHelp, 'h', "help"},
    {kVersion, 'V', "version"},
    {kSnapshotMax, 0, "snapshot-max", ArgKind::required},
}};

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
    "  --out DIR            where the batch lists go\n"
    "  --merge OUT          merge mode (see above)\n"
    "  -h, --help           show this help and exit\n"
    "  -V, --version        show the version and exit\n";

std::chrono::microseconds parse_seconds(const std::string& v, const std::string& option) {
  std::int64_t whole = 0, frac = 0;
  std::size_t i = 0, digits = 0;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i, ++digits) {
    whole = whole * 10 + (v[i] - '0');
    if (whole > kMaxSeconds)
      usage_error(fmt::format("{}: '{}' is too large (at most {} seconds)", option, v, kMaxSeconds));
  }
  if (digits == 0) usage_error(fmt::format("{}: '{}' is not a number of seconds", option, v));
  if (i < v.size() && v[i] == '.') {
    std::size_t n = 0;
    for (++i; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i, ++n)
      if (n < 6) frac = frac * 10 + (v[i] - '0');
    if (n == 0) usage_error(fmt::format("{}: '{}' is not a number of seconds", option, v));
    for (; n < 6; ++n) frac *= 10;
  }
  if (i != v.size()) usage_error(fmt::format("{}: '{}' is not a number of seconds", option, v));
  return std::chrono::microseconds(whole * 1000000 + frac);
}

Options parse_options(int argc, char** argv) {
  Options o;
  auto r = toolcommon::parse_command_line(argc, argv, kTable, [&](int id, const std::optional<std::string>& value) {
    const std::string v = value.value_or("");
    switch (id) {
      case kDelay:
        o.delay = parse_seconds(v, "--delay");
        break;
      case kMaxBatchOpt: {
        std::size_t n = 0;
        bool ok = !v.empty() && v.size() <= 9 && v[0] != '0';
        for (char c : v) ok = ok && c >= '0' && c <= '9';
        if (ok) n = std::stoul(v);
        if (!ok || n == 0 || n > kMaxBatch) usage_error(fmt::format("--max-batch: '{}' is not a positive integer", v));
        o.max_batch = n;
        break;
      }
      case kSnapshotMax: {
        bool ok = !v.empty() && v.size() <= 9;
        for (char c : v) ok = ok && c >= '0' && c <= '9';
        if (!ok) usage_error(fmt::format("--snapshot-max: '{}' is not a number of entries", v));
        o.snapshot_max = std::stoul(v);
        break;
      }
      case kExclude:
        o.excludes.push_back(v);
        break;
      case kExcludeFrom:
        o.exclude_files.push_back(v);
        break;
      case kOut:
        o.out = v;
        break;
      case kMerge:
        o.merge = v;
        break;
      case kHelp:
        o.help = true;
        break;
      case kVersion:
        o.version = true;
        break;
      default:
        break;
    }
  });
  if (r.error) throw Failure(r.diagnostic + "Try 'inotifybatch --help' for more information.\n");
  o.operands = std::move(r.operands);
  if (o.help || o.version) return o;
  if (!o.merge.empty()) {
    if (o.operands.size() < 2) usage_error("--merge needs OUT, a SOURCE and at least one BATCH");
  } else {
    if (o.out.empty()) usage_error("--out DIR is required");
    if (o.operands.size() != 1) usage_error("need exactly one SOURCE");
  }
  return o;
}

}  // namespace inotifybatch
