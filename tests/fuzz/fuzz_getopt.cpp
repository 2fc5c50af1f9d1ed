// toolcommon::parse_command_line against glibc's own getopt_long, with both tools' option tables
// and argument vectors as input: the same options (ids and values, in order), the same operands,
// the same error and the same diagnostic, byte for byte (tools/common/README.md promises this).
// Input: a byte (bit 0: POSIXLY_CORRECT, bit 1: inotifywatch's table), then NUL-separated args.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <toolcommon/cli.hpp>

#include "fuzz_input.hpp"

namespace {

using toolcommon::ArgKind;
using toolcommon::OptionSpec;

// The tools' tables (tools/inotifywait/options.cpp, tools/inotifywatch/options.cpp), ids local.
const OptionSpec kWait[] = {
    {0, 'h', "help"},
    {1, 'e', "event", ArgKind::required},
    {2, 'm', "monitor"},
    {3, 'q', "quiet"},
    {4, 't', "timeout", ArgKind::required},
    {5, 'f', "filename"},
    {6, 'r', "recursive"},
    {7, 'I', "inotify"},
    {8, 'F', "fanotify"},
    {9, 'S', "filesystem"},
    {10, 'c', "csv"},
    {11, 'd', "daemon"},
    {12, 's', "syslog"},
    {13, 'P', "no-dereference"},
    {14, 0, "format", ArgKind::required},
    {15, 0, "no-newline"},
    {16, 0, "timefmt", ArgKind::required},
    {17, 0, "fromfile", ArgKind::required},
    {18, 'o', "outfile", ArgKind::required},
    {19, 0, "exclude", ArgKind::required},
    {20, 0, "excludei", ArgKind::required},
    {21, 0, "include", ArgKind::required},
    {22, 0, "includei", ArgKind::required},
};
const OptionSpec kWatch[] = {
    {0, 'h', "help"},
    {1, 'e', "event", ArgKind::required},
    {2, 0, "exclude", ArgKind::required},
    {3, 0, "excludei", ArgKind::required},
    {4, 'I', "inotify"},
    {5, 0, "include", ArgKind::required},
    {6, 0, "includei", ArgKind::required},
    {7, 'F', "fanotify"},
    {8, 'S', "filesystem"},
    {9, 0, "fromfile", ArgKind::required},
    {10, 'v', "verbose"},
    {11, 'z', "zero"},
    {12, 'r', "recursive"},
    {13, 'P', "no-dereference"},
    {14, 't', "timeout", ArgKind::required},
    {15, 'a', "ascending", ArgKind::required},
    {16, 'd', "descending", ArgKind::required},
    {17, 0, "live", ArgKind::optional},
};

struct Outcome {
  std::vector<std::string> seen;
  std::vector<std::string> operands;
  std::string diagnostic;
  bool error = false;
  bool operator==(const Outcome&) const = default;
};

std::string show(const Outcome& o) {
  std::string s = "options:";
  for (const auto& x : o.seen) s += " [" + x + "]";
  s += " operands:";
  for (const auto& x : o.operands) s += " [" + x + "]";
  s += " error: " + std::to_string(o.error) + " diagnostic: " + o.diagnostic;
  return s;
}

Outcome ours(std::span<const OptionSpec> table, const std::vector<std::string>& args) {
  Outcome o;
  auto r = toolcommon::parse_command_line("prog", args, table, [&](int id, const std::optional<std::string>& v) {
    o.seen.push_back(std::to_string(id) + (v ? "=" + *v : ""));
  });
  o.operands = r.operands;
  o.diagnostic = r.diagnostic;
  o.error = r.error;
  if (o.error) o.operands.clear();
  return o;
}

Outcome glibc(std::span<const OptionSpec> table, const std::vector<std::string>& args) {
  std::vector<option> longopts;
  for (const auto& s : table) {
    if (s.long_name.empty()) continue;
    int has = s.arg == ArgKind::none ? no_argument : s.arg == ArgKind::required ? required_argument : optional_argument;
    longopts.push_back({s.long_name.data(), has, nullptr, 1000 + s.id});  // names are literals: NUL-terminated
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

  // getopt prints to stderr: catch it in memory.
  char* buf = nullptr;
  std::size_t len = 0;
  std::FILE* mem = ::open_memstream(&buf, &len);
  std::FILE* saved = stderr;
  stderr = mem;
  Outcome o;
  optind = 0;
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
  stderr = saved;
  std::fclose(mem);
  o.diagnostic.assign(buf, len);
  std::free(buf);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::Input in(data, size);
  const std::uint8_t flags = in.byte();
  if (flags & 1)
    ::setenv("POSIXLY_CORRECT", "1", 1);
  else
    ::unsetenv("POSIXLY_CORRECT");
  std::span<const OptionSpec> table =
      (flags & 2) ? std::span<const OptionSpec>(kWatch) : std::span<const OptionSpec>(kWait);
  std::vector<std::string> args = in.split_rest();
  if (args.size() > 64) return 0;
  Outcome a = ours(table, args);
  Outcome b = glibc(table, args);
  if (!(a == b)) {
    std::string argv_text;
    for (const auto& x : args) argv_text += " [" + x + "]";
    fuzz::fail("parse_command_line differs from getopt_long on" + argv_text + (flags & 1 ? " (POSIXLY_CORRECT)" : "") +
               "\n ours:  " + show(a) + "\n glibc: " + show(b));
  }
  return 0;
}
