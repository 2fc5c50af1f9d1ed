#include "toolcommon/cli.hpp"

#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <fmt/format.h>

namespace toolcommon {
namespace {

// getopt_long's val for a long option: this plus the option's id (above any char). Two entries with
// the same id and argument kind are then one option to getopt: a prefix of both is not ambiguous.
constexpr int kLongBase = 0x1000;

// getopt_long prints its diagnostics on stderr itself; for one call, stderr is a memory stream so
// that the caller gets them as text (inotifywatch prints them after its own checks).
class CapturedStderr {
 public:
  CapturedStderr() : mem_(::open_memstream(&buf_, &len_)), saved_(stderr) {
    if (mem_ == nullptr) throw std::runtime_error("open_memstream failed");
    stderr = mem_;
  }
  CapturedStderr(const CapturedStderr&) = delete;
  CapturedStderr& operator=(const CapturedStderr&) = delete;
  ~CapturedStderr() {
    stderr = saved_;
    std::fclose(mem_);
    std::free(buf_);  // NOLINT(cppcoreguidelines-no-malloc): open_memstream's buffer
  }
  std::string text() {
    std::fflush(mem_);
    return {buf_, len_};
  }

 private:
  char* buf_ = nullptr;
  std::size_t len_ = 0;
  std::FILE* mem_;
  std::FILE* saved_;
};

int has_arg(ArgKind kind) {
  switch (kind) {
    case ArgKind::none:
      return no_argument;
    case ArgKind::required:
      return required_argument;
    case ArgKind::optional:
      return optional_argument;
  }
  return no_argument;
}

// The table in getopt_long's terms. exact_only options stay out of it: getopt then neither
// abbreviates them nor counts them in an ambiguity, and reports them as unrecognized, which
// parse_command_line takes back when the name was spelled out in full.
class GetoptTable {
 public:
  explicit GetoptTable(std::span<const OptionSpec> table) : table_(table) {
    names_.reserve(table.size());  // longopts_ points into names_: no reallocation
    for (const auto& s : table) {
      if (s.short_name) {
        shortopts_ += s.short_name;
        if (s.arg != ArgKind::none) shortopts_ += s.arg == ArgKind::required ? ":" : "::";
      }
      if (s.long_name.empty() || s.exact_only) continue;
      names_.emplace_back(s.long_name);
      longopts_.push_back({names_.back().c_str(), has_arg(s.arg), nullptr, kLongBase + s.id});
    }
    longopts_.push_back({nullptr, 0, nullptr, 0});
    for (const auto& s : table)
      if (s.exact_only)
        for (const auto& other : table)
          if (&other != &s && other.long_name.starts_with(s.long_name))
            // getopt would take the full spelling as an abbreviation of the other option.
            throw std::logic_error(
                fmt::format("exact_only option --{} is a prefix of --{}", s.long_name, other.long_name));
  }

  const char* shortopts() const { return shortopts_.c_str(); }
  const option* longopts() const { return longopts_.data(); }

  // The id of what getopt_long's return value c (not '?' or -1) stands for.
  int id_for(int c) const {
    if (c >= kLongBase) return c - kLongBase;
    for (const auto& s : table_)
      if (s.short_name == c) return s.id;
    throw std::logic_error(fmt::format("getopt_long returned {} outside the table", c));
  }

  // The exact_only option that the element "--name" or "--name=value" spells out in full.
  const OptionSpec* exact_only_for(std::string_view element) const {
    if (!element.starts_with("--")) return nullptr;
    std::string_view name = element.substr(2, element.find('=') - 2);
    for (const auto& s : table_)
      if (s.exact_only && s.long_name == name) return &s;
    return nullptr;
  }

 private:
  std::span<const OptionSpec> table_;
  std::string shortopts_;
  std::vector<std::string> names_;
  std::vector<option> longopts_;
};

// getopt_long's message for element when spec (exact_only) misuses its argument: getopt itself
// on that one element with a table of that one option, so the words are glibc's. The outer scan's
// state is lost, which is fine: parsing ends at this error.
std::string exact_only_error(std::string_view argv0, std::string_view element, const OptionSpec& spec) {
  std::string name(spec.long_name);
  const option one[] = {{name.c_str(), has_arg(spec.arg), nullptr, 1}, {nullptr, 0, nullptr, 0}};
  std::string a0(argv0), el(element);
  char* argv[] = {a0.data(), el.data(), nullptr};
  CapturedStderr captured;
  optind = 0;
  opterr = 1;
  getopt_long(2, argv, "", one, nullptr);
  return captured.text();
}

}  // namespace

ParseResult parse_command_line(std::string_view argv0, std::span<const std::string> args,
                               std::span<const OptionSpec> table, const OptionHandler& handler) {
  const GetoptTable getopt_table(table);
  std::vector<std::string> storage{std::string(argv0)};
  storage.insert(storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  argv.reserve(storage.size() + 1);
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(storage.size());

  ParseResult result;
  optind = 0;  // a full re-initialisation of getopt's global state (also re-reads POSIXLY_CORRECT)
  opterr = 1;
  for (;;) {
    int c = 0;
    std::string said;
    {
      CapturedStderr captured;
      c = getopt_long(argc, argv.data(), getopt_table.shortopts(), getopt_table.longopts(), nullptr);
      said = captured.text();
    }
    if (c == -1) break;
    if (c != '?') {
      handler(getopt_table.id_for(c), optarg ? std::optional<std::string>(optarg) : std::nullopt);
      continue;
    }
    // An unrecognized long option (optopt 0) may be an exact_only one spelled out in full.
    const std::string_view element = optopt == 0 ? argv[optind - 1] : "";
    const OptionSpec* spec = optopt == 0 ? getopt_table.exact_only_for(element) : nullptr;
    if (spec) {
      const std::size_t eq = element.find('=');
      std::optional<std::string> value;
      if (eq != std::string_view::npos) value = std::string(element.substr(eq + 1));
      if (spec->arg == ArgKind::required && !value && optind < argc) value = argv[optind++];  // "--name value"
      const bool misused = spec->arg == ArgKind::none ? value.has_value() : spec->arg == ArgKind::required && !value;
      if (!misused) {
        handler(spec->id, value);
        continue;
      }
      said = exact_only_error(argv0, element, *spec);
    }
    result.error = true;
    result.diagnostic = said;
    return result;
  }
  for (int i = optind; i < argc; ++i) result.operands.emplace_back(argv[i]);
  return result;
}

ParseResult parse_command_line(int argc, char** argv, std::span<const OptionSpec> table, const OptionHandler& handler) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_command_line(argc > 0 && argv[0] ? argv[0] : "", args, table, handler);
}

}  // namespace toolcommon
