#include "toolcommon/cli.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace toolcommon {
namespace {

// What the front end recognised, in command-line order.
struct Occurrence {
  const OptionSpec* spec;
  std::optional<std::string> value;
};

// Canonical tokens for CLI11 carry a marker before the value, so that any value survives CLI11's
// own classification: an empty value ("--event=" would make CLI11 take the next token), a value
// that looks like an option ("-t -5"), or an optional argument that was not given at all.
constexpr char kValueGiven = 'v';
constexpr char kValueAbsent = 'n';

std::string cli_name(const OptionSpec& spec) {
  if (!spec.short_name) return fmt::format("--{}", spec.long_name);
  if (spec.long_name.empty()) return fmt::format("-{}", spec.short_name);
  return fmt::format("-{},--{}", spec.short_name, spec.long_name);
}

std::string canonical_token(const Occurrence& o) {
  std::string t =
      o.spec->long_name.empty() ? fmt::format("-{}", o.spec->short_name) : fmt::format("--{}", o.spec->long_name);
  if (o.spec->arg == ArgKind::none) return t;
  // CLI11 accepts "=" only after a long name; a short-only option gets its value attached.
  if (!o.spec->long_name.empty()) t += '=';
  t += o.value ? kValueGiven : kValueAbsent;
  if (o.value) t += *o.value;
  return t;
}

// Stage 1: getopt_long's scan (glibc posix/getopt.c semantics, messages and all).
class Scanner {
 public:
  Scanner(std::string_view argv0, std::span<const std::string> args, std::span<const OptionSpec> table)
      : argv0_(argv0), args_(args), table_(table), posix_(std::getenv("POSIXLY_CORRECT") != nullptr) {}

  void run(std::vector<Occurrence>& out, ParseResult& result) {
    std::size_t i = 0;
    while (i < args_.size()) {
      const std::string& a = args_[i];
      if (a == "--") {  // end of options: everything after it is an operand
        for (++i; i < args_.size(); ++i) result.operands.push_back(args_[i]);
        return;
      }
      if (a.size() < 2 || a[0] != '-') {  // an operand ("-" alone is one too)
        if (posix_) {                     // POSIXLY_CORRECT: the first operand ends option processing
          for (; i < args_.size(); ++i) result.operands.push_back(args_[i]);
          return;
        }
        result.operands.push_back(a);
        ++i;
        continue;
      }
      bool ok = a[1] == '-' ? long_option(i, out, result) : short_options(i, out, result);
      if (!ok) {
        result.error = true;
        return;
      }
    }
  }

 private:
  void diagnose(ParseResult& result, const std::string& text) {
    result.diagnostic = fmt::format("{}: {}\n", argv0_, text);
  }

  // "--name", "--name=value", "--name value" (required arguments only), with unambiguous prefixes.
  bool long_option(std::size_t& i, std::vector<Occurrence>& out, ParseResult& result) {
    const std::string& a = args_[i];
    std::string_view rest = std::string_view(a).substr(2);
    std::size_t eq = rest.find('=');
    std::string_view name = rest.substr(0, eq);

    const OptionSpec* found = nullptr;
    for (const auto& spec : table_)
      if (!spec.long_name.empty() && spec.long_name == name) {
        found = &spec;
        break;
      }
    if (!found) {
      // Abbreviations. As in glibc, two prefix matches are ambiguous unless they are the same
      // option (same id and argument kind); the possibilities are listed in table order.
      std::vector<bool> ambiguous(table_.size(), false);
      bool any_ambiguous = false;
      std::size_t found_index = 0;
      for (std::size_t k = 0; k < table_.size(); ++k) {
        const OptionSpec& spec = table_[k];
        if (spec.long_name.empty() || spec.exact_only || !spec.long_name.starts_with(name)) continue;
        if (!found) {
          found = &spec;
          found_index = k;
        } else if (found->arg != spec.arg || found->id != spec.id) {
          ambiguous[found_index] = true;
          ambiguous[k] = true;
          any_ambiguous = true;
        }
      }
      if (any_ambiguous) {
        std::string text = fmt::format("option '{}' is ambiguous; possibilities:", a);
        for (std::size_t k = 0; k < table_.size(); ++k)
          if (ambiguous[k]) text += fmt::format(" '--{}'", table_[k].long_name);
        diagnose(result, text);
        return false;
      }
    }
    if (!found) {
      diagnose(result, fmt::format("unrecognized option '{}'", a));
      return false;
    }
    ++i;
    const std::string full = fmt::format("--{}", found->long_name);
    if (eq != std::string_view::npos) {
      if (found->arg == ArgKind::none) {
        diagnose(result, fmt::format("option '{}' doesn't allow an argument", full));
        return false;
      }
      out.push_back({found, std::string(rest.substr(eq + 1))});
      return true;
    }
    if (found->arg == ArgKind::required) {
      if (i >= args_.size()) {
        diagnose(result, fmt::format("option '{}' requires an argument", full));
        return false;
      }
      out.push_back({found, args_[i++]});
      return true;
    }
    out.push_back({found, std::nullopt});
    return true;
  }

  // "-m", "-mrq", "-t5", "-t 5", "-mt5": characters until one takes an argument.
  bool short_options(std::size_t& i, std::vector<Occurrence>& out, ParseResult& result) {
    const std::string& a = args_[i];
    for (std::size_t pos = 1; pos < a.size(); ++pos) {
      char c = a[pos];
      const OptionSpec* found = nullptr;
      for (const auto& spec : table_)
        if (spec.short_name && spec.short_name == c) {
          found = &spec;
          break;
        }
      if (!found) {
        diagnose(result, fmt::format("invalid option -- '{}'", c));
        return false;
      }
      bool last = pos + 1 == a.size();
      if (found->arg == ArgKind::none) {
        out.push_back({found, std::nullopt});
        continue;
      }
      if (!last) {  // the rest of the word is the value
        out.push_back({found, a.substr(pos + 1)});
        ++i;
        return true;
      }
      if (found->arg == ArgKind::optional) {  // an optional value must be attached
        out.push_back({found, std::nullopt});
        break;
      }
      if (i + 1 >= args_.size()) {
        diagnose(result, fmt::format("option requires an argument -- '{}'", c));
        return false;
      }
      out.push_back({found, args_[i + 1]});
      i += 2;
      return true;
    }
    ++i;
    return true;
  }

  std::string_view argv0_;
  std::span<const std::string> args_;
  std::span<const OptionSpec> table_;
  bool posix_;
};

std::optional<std::string> decode(const std::string& token) {
  if (token.empty() || token[0] == kValueAbsent) return std::nullopt;
  return token.substr(1);
}

}  // namespace

ParseResult parse_command_line(std::string_view argv0, std::span<const std::string> args,
                               std::span<const OptionSpec> table, const OptionHandler& handler) {
  ParseResult result;
  std::vector<Occurrence> occurrences;
  Scanner(argv0, args, table).run(occurrences, result);

  // Stage 2: CLI11 holds the option table and delivers each occurrence, in order, to the handler.
  CLI::App app;
  app.set_help_flag();  // --help is an ordinary option of the table (it prints our text, exit 1)
  for (const auto& spec : table) {
    int id = spec.id;
    if (spec.arg == ArgKind::none) {
      app.add_flag_callback(cli_name(spec), [id, &handler] { handler(id, std::nullopt); })
          ->trigger_on_parse()
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    } else {
      app.add_option_function<std::string>(cli_name(spec),
                                           [id, &handler](const std::string& token) { handler(id, decode(token)); })
          ->trigger_on_parse()
          ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
          ->allow_extra_args(false);
    }
  }
  std::vector<std::string> tokens;
  tokens.reserve(occurrences.size() + 1);
  for (const auto& o : occurrences) tokens.push_back(canonical_token(o));
  // CLI11's parse(vector) takes the arguments in reverse order.
  std::reverse(tokens.begin(), tokens.end());
  try {
    app.parse(tokens);
  } catch (const CLI::ParseError& e) {
    // The front end only produces tokens of the table, so this is a bug in this file.
    throw std::logic_error(std::string("command-line canonicalisation rejected by CLI11: ") + e.what());
  }
  return result;
}

ParseResult parse_command_line(int argc, char** argv, std::span<const OptionSpec> table, const OptionHandler& handler) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse_command_line(argc > 0 && argv[0] ? argv[0] : "", args, table, handler);
}

}  // namespace toolcommon
