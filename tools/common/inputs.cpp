#include "toolcommon/inputs.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "toolcommon/messages.hpp"

namespace toolcommon {

std::optional<Mask> parse_event_list(std::string_view list) {
  Mask mask = 0;
  while (true) {
    std::size_t comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    if (!name.empty()) {  // D10: "modify," and ",modify" mean "modify"
      auto m = libwatch::parse_event_name(name);
      if (!m) return std::nullopt;
      mask |= *m;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return mask;
}

Mask event_list_or_fail(std::string_view list) {
  auto m = parse_event_list(list);
  if (!m) throw Failure(invalid_event_message(list));
  return *m;
}

std::uint32_t parse_timeout(std::string_view arg) {
  constexpr std::string_view kLongInt = "Please specify a long int value.\n";
  if (arg.empty()) throw Failure(fmt::format("The provided value is not a valid timeout value.\n{}", kLongInt));
  // strtol(3) reads a C string: a NUL inside the argument cannot come from argv anyway.
  std::string s(arg);
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s.c_str(), &end, 10);
  if (errno == ERANGE)
    throw Failure(fmt::format("Something went wrong with the timeout value you provided.\n{}\n", error_text(ERANGE)));
  if (end == s.c_str() || *end != '\0')
    throw Failure(fmt::format("'{}' is not a valid timeout value.\n{}", s, kLongInt));
  if (v < 0 || static_cast<unsigned long>(v) > kMaxTimeout)  // D9
    throw Failure(fmt::format("'{}' is not a valid timeout value.\nPlease specify a number of seconds from 0 to {}.\n",
                              s, kMaxTimeout));
  return static_cast<std::uint32_t>(v);
}

namespace {

void add_entry(WatchList& list, std::string entry) {
  if (entry.empty() || entry == "@") return;
  if (entry[0] == '@')
    list.exclusions.push_back(entry.substr(1));
  else
    list.paths.push_back(std::move(entry));
}

void read_fromfile(WatchList& list, const std::string& file) {
  bool use_stdin = file == "-";
  std::FILE* f = use_stdin ? stdin : std::fopen(file.c_str(), "re");
  if (!f) {
    list.diagnostics += fmt::format("Couldn't open {}: {}\n", file, error_text(errno));
    return;
  }
  // One entry per fgets(3) into a 4096-byte buffer, as the reference reads the file: a line
  // longer than 4095 bytes becomes several entries, and an entry ends at a NUL byte.
  char buf[4096];
  while (std::fgets(buf, sizeof buf, f)) {
    std::size_t n = std::strlen(buf);
    if (n > 0 && buf[n - 1] == '\n') --n;
    add_entry(list, std::string(buf, n));
  }
  if (!use_stdin) std::fclose(f);
}

}  // namespace

WatchList build_watch_list(const std::optional<std::string>& fromfile, std::span<const std::string> operands) {
  WatchList list;
  if (fromfile) read_fromfile(list, *fromfile);
  for (const auto& op : operands) add_entry(list, op);
  return list;
}

}  // namespace toolcommon
