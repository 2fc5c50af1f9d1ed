// rsync-style exclude rules, the subset inotifysync filters events with ("- " prefix, trailing /
// = directories only, leading / = anchored, a / or ** inside = matched against the path's tail,
// * ? [..] \ as rsync's wildmatch). Any other rule ("+ ", "!", merge rules, modifiers) turns the
// whole filter off: rsync then applies the rules alone, and events are never dropped wrongly.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace inotifybatch {

// One glob against one string: * and ? never match '/', ** matches anything.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

class ExcludeRules {
 public:
  // Adds one rule as rsync reads it from --exclude or a --exclude-from line (comments and blank
  // lines are the caller's). An unsupported rule disables the filter for good.
  void add(std::string_view rule);
  // Lines of an --exclude-from file: blank lines and lines starting with # or ; are skipped,
  // a trailing \r removed. False when the file cannot be read.
  bool add_file(const std::string& file);
  bool active() const noexcept { return enabled_ && !rules_.empty(); }
  // rel: a path relative to the source, no leading or trailing '/'. True when it or one of its
  // parent directories is excluded.
  bool excluded(std::string_view rel, bool is_dir) const noexcept;

 private:
  enum class Mode { name, anchored, tail };
  struct Rule {
    std::string pattern;
    Mode mode;
    bool dir_only;
  };
  bool matches_one(std::string_view path, bool is_dir) const noexcept;
  std::vector<Rule> rules_;
  bool enabled_ = true;
};

}  // namespace inotifybatch
