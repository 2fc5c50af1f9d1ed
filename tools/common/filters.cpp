#include "toolcommon/filters.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "toolcommon/messages.hpp"

namespace toolcommon {

void RegexOptions::add_exclude_file(const std::string& file) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "re"), &std::fclose);
  if (!f) throw Failure(fmt::format("Couldn't read --exclude-from file {}: {}\n", file, error_text(errno)));
  char* line = nullptr;
  std::size_t cap = 0;
  long number = 0;
  ssize_t n;
  errno = 0;
  while ((n = ::getline(&line, &cap, f.get())) >= 0) {
    ++number;
    std::string_view text(line, static_cast<std::size_t>(n));
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    std::size_t first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos || text[first] == '#') continue;
    std::string origin = fmt::format("{}:{}", file, number);
    if (text.find('\0') != std::string_view::npos) {
      std::free(line);
      throw Failure(
          fmt::format("Error in --exclude-from file {}, line {}: the line holds a NUL byte.\n", file, number));
    }
    excludes.push_back({std::string(text), false, std::move(origin)});
  }
  const int err = errno;
  std::free(line);
  if (std::ferror(f.get()))
    throw Failure(fmt::format("Couldn't read --exclude-from file {}: {}\n", file, error_text(err)));
}

std::string RegexOptions::conflict() const {
  if (exclude_given && excludei_given) return "--exclude and --excludei cannot both be specified.\n";
  if (include_given && includei_given) return "--include and --includei cannot both be specified.\n";
  if ((exclude_given || excludei_given) && (include_given || includei_given))
    return "include and exclude regexp cannot both be specified.\n";
  return {};
}

RegexList::~RegexList() {
  for (auto& re : res_) ::regfree(&re);
}

RegexList::RegexList(RegexList&& other) noexcept : res_(std::exchange(other.res_, {})) {}

RegexList& RegexList::operator=(RegexList&& other) noexcept {
  if (this != &other) {
    for (auto& re : res_) ::regfree(&re);
    res_ = std::exchange(other.res_, {});
  }
  return *this;
}

bool RegexList::add(const Pattern& p, std::string* error) {
  regex_t re{};
  int rc = ::regcomp(&re, p.regex.c_str(), REG_EXTENDED | REG_NOSUB | (p.icase ? REG_ICASE : 0));
  if (rc != 0) {
    if (error) {
      char buf[256];
      ::regerror(rc, &re, buf, sizeof buf);
      *error = buf;
    }
    return false;
  }
  res_.push_back(re);
  return true;
}

bool RegexList::matches(const char* path) const noexcept {
  for (const auto& re : res_)
    if (::regexec(&re, path, 0, nullptr, 0) == 0) return true;
  return false;
}

namespace {

void compile_into(RegexList& list, const std::vector<Pattern>& patterns, std::string_view word) {
  for (const Pattern& p : patterns) {
    std::string why;
    if (list.add(p, &why)) continue;
    if (p.origin.empty()) throw Failure(fmt::format("Error in `{}' regular expression.\n", word));
    std::size_t colon = p.origin.rfind(':');
    throw Failure(
        fmt::format("Error in --exclude-from file {}, line {}: '{}' is not a valid regular expression ({}).\n",
                    p.origin.substr(0, colon), p.origin.substr(colon + 1), p.regex, why));
  }
}

}  // namespace

Filter::Filter(const RegexOptions& opts) {
  // The reference compiles exclude before include; so do we, for the order of the messages.
  compile_into(excludes_, opts.excludes, "exclude");
  compile_into(includes_, opts.includes, "include");
}

RegexList compile_prune(const std::vector<std::string>& patterns) {
  RegexList list;
  for (const std::string& p : patterns) {
    std::string why;
    if (!list.add(Pattern{p, false, {}}, &why))
      throw Failure(fmt::format("'{}' is not a valid regular expression for --prune ({}).\n", p, why));
  }
  return list;
}

std::function<bool(std::string_view)> prune_predicate(const RegexList& prune) {
  return [&prune](std::string_view path) { return prune.matches(std::string(path).c_str()); };
}

}  // namespace toolcommon
