// --exclude / --excludei / --include / --includei / --exclude-from, and --prune.
//
// D18: every pattern counts. An event is dropped when any exclude pattern matches its "%w%f";
// when include patterns are given, it is kept only if at least one of them matches; excludes win
// over includes. The reference keeps only the last of each option; its three rejections of
// combinations given on the command line stay as they are (same messages, exit 1). Patterns read
// with --exclude-from are not part of those rejections (the reference has no such option), so
// they combine with --include.
//
// Patterns are POSIX extended regular expressions (regcomp REG_EXTENDED | REG_NOSUB, REG_ICASE for
// the 'i' forms), unanchored.
#pragma once

#include <functional>
#include <string_view>

#include <regex.h>

#include <string>
#include <string_view>
#include <vector>

namespace toolcommon {

struct Pattern {
  std::string regex;
  bool icase = false;
  std::string origin;  // where it came from, for errors: "" (command line) or "FILE:LINE"
};

// The options as given, in command-line order.
struct RegexOptions {
  std::vector<Pattern> excludes, includes;
  // Which of the reference's options appeared on the command line (for its rejections).
  bool exclude_given = false, excludei_given = false, include_given = false, includei_given = false;

  void set_exclude(std::string v) { excludes.push_back({std::move(v), false, {}}), exclude_given = true; }
  void set_excludei(std::string v) { excludes.push_back({std::move(v), true, {}}), excludei_given = true; }
  void set_include(std::string v) { includes.push_back({std::move(v), false, {}}), include_given = true; }
  void set_includei(std::string v) { includes.push_back({std::move(v), true, {}}), includei_given = true; }
  // --exclude-from FILE: one pattern per line; blank lines and lines whose first non-blank
  // character is '#' are skipped; a trailing '\r' is removed (files written on Windows). Failure
  // "Couldn't read --exclude-from file FILE: <strerror>\n" if it cannot be read.
  void add_exclude_file(const std::string& file);

  // The first of the reference's rejections, in its order, or empty:
  //   "--exclude and --excludei cannot both be specified.\n"
  //   "--include and --includei cannot both be specified.\n"
  //   "include and exclude regexp cannot both be specified.\n"
  std::string conflict() const;
};

// A compiled list of patterns: matches() is true when any of them matches.
class RegexList {
 public:
  RegexList() = default;
  ~RegexList();
  RegexList(RegexList&& other) noexcept;
  RegexList& operator=(RegexList&& other) noexcept;
  RegexList(const RegexList&) = delete;
  RegexList& operator=(const RegexList&) = delete;

  // Compiles p; false (and nothing added) if it does not compile. error: regerror(3)'s text.
  bool add(const Pattern& p, std::string* error = nullptr);
  bool empty() const noexcept { return res_.empty(); }
  // path: NUL-terminated (regexec(3) takes a C string). Safe to call from several threads.
  bool matches(const char* path) const noexcept;

 private:
  std::vector<regex_t> res_;
};

// The print filter (D18). Compiling throws Failure:
//   a command-line pattern: the reference's "Error in `exclude' regular expression.\n" (or
//   `include');
//   a --exclude-from line: "Error in --exclude-from file F, line N: '<regex>' is not a valid
//   regular expression (<regerror text>).\n"
class Filter {
 public:
  Filter() = default;
  explicit Filter(const RegexOptions& opts);  // call after RegexOptions::conflict() came back empty

  bool active() const noexcept { return !excludes_.empty() || !includes_.empty(); }
  bool passes(const char* path) const noexcept {
    if (excludes_.matches(path)) return false;
    return includes_.empty() || includes_.matches(path);
  }
  bool passes(const std::string& path) const noexcept { return passes(path.c_str()); }

 private:
  RegexList excludes_, includes_;
};

// --prune REGEX (repeatable; an addition): under -r, subdirectories whose path ("%w%f" of the
// event that would announce them: operand, '/', names; no trailing '/') matches are not watched,
// at setup, when they appear later, or in a rescan. Compiling throws Failure
// "'<regex>' is not a valid regular expression for --prune (<regerror text>).\n".
RegexList compile_prune(const std::vector<std::string>& patterns);
// The predicate for libwatch::AddOptions::prune; prune must outlive the Watcher.
std::function<bool(std::string_view)> prune_predicate(const RegexList& prune);

}  // namespace toolcommon
