#include "patterns.hpp"

#include <fstream>

namespace inotifybatch {
namespace {

// The end of a [..] class starting at p[i] == '[', or npos when it is not closed (then '[' is
// literal, as bash's translation in the driver had it).
std::size_t class_end(std::string_view p, std::size_t i) noexcept {
  std::size_t j = i + 1;
  if (j < p.size() && (p[j] == '!' || p[j] == '^')) ++j;
  if (j < p.size() && p[j] == ']') ++j;
  while (j < p.size() && p[j] != ']') ++j;
  return j < p.size() ? j : std::string_view::npos;
}

bool class_matches(std::string_view cls, char c) noexcept {  // cls: between [ and ]
  bool negate = false;
  std::size_t i = 0;
  if (!cls.empty() && (cls[0] == '!' || cls[0] == '^')) negate = true, i = 1;
  bool hit = false;
  for (; i < cls.size(); ++i) {
    if (i + 2 < cls.size() && cls[i + 1] == '-') {
      if (c >= cls[i] && c <= cls[i + 2]) hit = true;
      i += 2;
    } else if (cls[i] == c) {
      hit = true;
    }
  }
  return hit != negate && c != '/';
}

}  // namespace

bool glob_match(std::string_view p, std::string_view t) noexcept {
  std::size_t pi = 0, ti = 0;
  while (pi < p.size()) {
    const char c = p[pi];
    if (c == '*') {
      const bool any = pi + 1 < p.size() && p[pi + 1] == '*';
      std::size_t rest = pi + (any ? 2 : 1);
      while (rest < p.size() && p[rest] == '*') ++rest;
      for (std::size_t k = ti;; ++k) {
        if (glob_match(p.substr(rest), t.substr(k))) return true;
        if (k >= t.size() || (!any && t[k] == '/')) return false;
      }
    }
    if (ti >= t.size()) return false;
    if (c == '?') {
      if (t[ti] == '/') return false;
      ++pi, ++ti;
    } else if (c == '[' && class_end(p, pi) != std::string_view::npos) {
      const std::size_t end = class_end(p, pi);
      if (!class_matches(p.substr(pi + 1, end - pi - 1), t[ti])) return false;
      pi = end + 1, ++ti;
    } else {
      char lit = c;
      if (c == '\\' && pi + 1 < p.size()) lit = p[++pi];
      if (t[ti] != lit) return false;
      ++pi, ++ti;
    }
  }
  return ti == t.size();
}

void ExcludeRules::add(std::string_view r) {
  if (r.starts_with("- ")) {
    r.remove_prefix(2);
  } else if (r.starts_with("+ ") || r.starts_with("!") || r.starts_with("-,") || r.starts_with("+,") ||
             r.starts_with(". ") || r.starts_with(": ")) {
    enabled_ = false;
    return;
  }
  if (r.empty()) return;
  Rule rule{{}, Mode::name, false};
  if (r.back() == '/') rule.dir_only = true, r.remove_suffix(1);
  if (!r.empty() && r.front() == '/') {
    rule.mode = Mode::anchored;
    r.remove_prefix(1);
  } else if (r.find('/') != std::string_view::npos || r.find("**") != std::string_view::npos) {
    rule.mode = Mode::tail;
  }
  rule.pattern = r;
  rules_.push_back(std::move(rule));
}

bool ExcludeRules::add_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    add(line);
  }
  return !in.bad();
}

bool ExcludeRules::matches_one(std::string_view q, bool is_dir) const noexcept {
  const std::size_t slash = q.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? q : q.substr(slash + 1);
  for (const Rule& r : rules_) {
    if (r.dir_only && !is_dir) continue;
    switch (r.mode) {
      case Mode::name:
        if (glob_match(r.pattern, name)) return true;
        break;
      case Mode::anchored:
        if (glob_match(r.pattern, q)) return true;
        break;
      case Mode::tail:
        if (glob_match(r.pattern, q)) return true;
        for (std::size_t i = q.find('/'); i != std::string_view::npos; i = q.find('/', i + 1))
          if (glob_match(r.pattern, q.substr(i + 1))) return true;
        break;
    }
  }
  return false;
}

bool ExcludeRules::excluded(std::string_view rel, bool is_dir) const noexcept {
  if (!active()) return false;
  while (!rel.empty()) {
    if (matches_one(rel, is_dir)) return true;
    const std::size_t slash = rel.rfind('/');
    if (slash == std::string_view::npos) return false;
    rel = rel.substr(0, slash);
    is_dir = true;
  }
  return false;
}

}  // namespace inotifybatch
