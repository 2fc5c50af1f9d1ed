// Command-line parsing by glibc getopt_long(3), as inotify-tools does it.
//
// inotify-tools' scripts depend on getopt_long's syntax and on its diagnostics byte for byte, so
// glibc's getopt_long does the scan: permuted operands (or a stop at the first operand when
// POSIXLY_CORRECT is set), "--", unambiguous long-option prefixes, "--opt=v" and "--opt v",
// bundled short flags ("-mrq"), attached values ("-t5"), and its own messages with argv[0] as
// invoked, caught in memory and handed back. It stops at the first error, as the tools do. Every
// occurrence goes to the caller's handler in command-line order; the tools convert and check the
// values themselves, with the reference's quirks. Not reentrant: getopt's state is global.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace toolcommon {

enum class ArgKind {
  none,      // a flag: "-m", "--monitor"
  required,  // "-t5", "-t 5", "--timeout=5", "--timeout 5"
  optional,  // long form only takes a value with '=' ("--live=2"); short form only attached
};

struct OptionSpec {
  int id;                      // handed back to the handler
  char short_name;             // 0: no short form
  std::string_view long_name;  // without "--"; empty: no long form
  ArgKind arg = ArgKind::none;
  // The long name must be given in full: no abbreviation selects it, and it takes no part in
  // deciding whether an abbreviation is ambiguous. For additions whose name shares a prefix with an
  // option of the reference ("--version" beside inotifywatch's "--verbose"): every abbreviation a
  // script may use with the reference keeps its meaning and its diagnostic.
  bool exact_only = false;
};

// One option occurrence. value is nullopt for a flag (or an optional argument not given).
using OptionHandler = std::function<void(int id, const std::optional<std::string>& value)>;

struct ParseResult {
  // Non-option arguments in order (getopt permutes them after the options). Complete only when
  // error is false: the tools exit before using operands when an option was invalid.
  std::vector<std::string> operands;
  // getopt found an invalid option (unknown, ambiguous, missing or unexpected argument). Parsing
  // stopped there; options to the left were delivered to the handler.
  bool error = false;
  // The getopt diagnostic, newline included ("inotifywait: invalid option -- 'x'\n"); empty when
  // there is no error. The caller prints it to stderr.
  std::string diagnostic;
};

// The option table is the order of the reference's long-option table: it decides the order of
// the "possibilities" listed for an ambiguous prefix. args is argv without argv[0]; argv0 is used
// verbatim as the prefix of diagnostics. The handler may throw (for example Failure, see
// messages.hpp) to stop parsing: the exception propagates out of parse_command_line.
ParseResult parse_command_line(std::string_view argv0, std::span<const std::string> args,
                               std::span<const OptionSpec> table, const OptionHandler& handler);

// Convenience for main(): args taken from argv[1..argc).
ParseResult parse_command_line(int argc, char** argv, std::span<const OptionSpec> table, const OptionHandler& handler);

}  // namespace toolcommon
