#include "batcher.hpp"

#include <algorithm>

namespace inotifybatch {

void Moves::record(const std::string& old_path, const std::string& new_path, bool is_dir) {
  std::string origin = old_path;
  if (auto it = origin_.find(old_path); it != origin_.end()) {
    origin = std::move(it->second);
    origin_.erase(it);
  } else if (origin_.size() >= kLimit) {
    return;
  }
  if (is_dir) {
    const std::string prefix = old_path + '/';
    std::vector<std::pair<std::string, std::string>> relabelled;
    for (auto it = origin_.begin(); it != origin_.end();) {
      if (it->first.starts_with(prefix)) {
        relabelled.emplace_back(new_path + '/' + it->first.substr(prefix.size()), std::move(it->second));
        it = origin_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [k, v] : relabelled) origin_[k] = std::move(v);
  }
  if (origin != new_path) origin_[new_path] = std::move(origin);
}

void Batcher::add(const std::string& rel, Clock::time_point now) {
  if (paths_.empty()) first_ = now;
  last_ = now;
  if (seen_.insert(rel).second) paths_.push_back(rel);
}

bool Batcher::due(Clock::time_point now) const noexcept {
  if (paths_.empty()) return false;
  if (paths_.size() >= timing_.max_batch) return true;
  const auto at = first_ + timing_.delay;
  if (now < at) return false;
  const auto hold = std::max<std::chrono::microseconds>(timing_.delay, std::chrono::seconds(1));
  return now - last_ >= timing_.quiet || now >= at + hold;
}

std::optional<Clock::time_point> Batcher::wake_at(Clock::time_point now) const noexcept {
  if (paths_.empty()) return std::nullopt;
  const auto at = first_ + timing_.delay;
  if (now < at) return at;
  const auto hold = std::max<std::chrono::microseconds>(timing_.delay, std::chrono::seconds(1));
  return std::min(last_ + timing_.quiet, at + hold);
}

Taken Batcher::take() {
  Taken t{std::move(paths_), std::move(moves_)};
  clear();
  return t;
}

void Batcher::clear() {
  paths_.clear();
  seen_.clear();
  moves_.clear();
}

void CookieJar::moved_from(std::uint32_t cookie, std::string rel) {
  if (from_.size() >= kLimit) from_.clear();
  from_[cookie] = std::move(rel);
}

std::optional<std::string> CookieJar::moved_to(std::uint32_t cookie) {
  auto it = from_.find(cookie);
  if (it == from_.end()) return std::nullopt;
  std::string rel = std::move(it->second);
  from_.erase(it);
  return rel;
}

bool Batcher::under_pending(const std::string& rel) const {
  if (seen_.empty()) return false;
  std::string above;
  for (std::size_t i = rel.find('/'); i != std::string::npos; i = rel.find('/', i + 1)) {
    above.assign(rel, 0, i);
    if (seen_.contains(above)) return true;
  }
  return false;
}

}  // namespace inotifybatch
