#include "snapshot.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace inotifybatch {
namespace {

struct DirCloser {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

Snapshot::Record to_stat(const struct stat& st) {
  Snapshot::Record out{};
  out.ino = st.st_ino;
  out.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  out.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.mode = st.st_mode;
  return out;
}

bool stat_of(const std::string& path, Snapshot::Record& out) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return false;
  out = to_stat(st);
  return true;
}

std::string join(std::string_view dir, std::string_view name) {
  std::string p;
  p.reserve(dir.size() + 1 + name.size());
  p.append(dir);
  if (!dir.empty()) p.push_back('/');
  p.append(name);
  return p;
}

// One directory of a walk: its entries, sorted by name, and the next one to record.
struct Level {
  std::string dir;
  std::vector<std::pair<std::string, Snapshot::Record>> kids;
  std::size_t next = 0;
};

// A directory with at least this many entries below it, most of them listed, is listed itself
// instead: rsync -r walks a directory for a fraction of what it spends on each of its files
// named in --files-from (300 directories of 1,000 new files: 1.9 client CPU-s against 4.4).
constexpr std::size_t kCollapseMin = 100;

// The directory above each path of changed that may stand for its subtree (the highest one
// with at least kCollapseMin entries below it in now, at least half of them listed), and the
// list with that directory in place of the paths below it.
std::vector<std::string> collapse(std::vector<std::string> changed, const auto& now) {
  std::unordered_map<std::string_view, std::size_t> below, listed;
  std::vector<std::string_view> open;  // the directories above the current entry
  for (std::size_t i = 0; i < now.size(); ++i) {
    const std::string_view p = now.path(i);
    while (!open.empty() && !is_below(p, open.back())) open.pop_back();
    for (const auto d : open) ++below[d];
    if (S_ISDIR(now.records[i].mode)) open.push_back(p);
  }
  const auto top_dir = [&](std::string_view p) -> std::string_view {
    for (std::size_t k = p.find('/'); k != std::string_view::npos; k = p.find('/', k + 1)) {
      const auto it = below.find(p.substr(0, k));
      if (it != below.end() && it->second >= kCollapseMin && listed[it->first] * 2 >= it->second) return it->first;
    }
    return {};
  };
  for (const auto& p : changed)
    for (std::size_t k = p.find('/'); k != std::string::npos; k = p.find('/', k + 1))
      if (const auto it = below.find(std::string_view(p).substr(0, k)); it != below.end()) ++listed[it->first];
  std::vector<std::string> out;
  std::unordered_set<std::string_view> sent;
  for (auto& p : changed) {
    const std::string_view d = top_dir(p);
    if (d.empty())
      out.push_back(std::move(p));
    else if (sent.insert(d).second)
      out.emplace_back(d);
  }
  return out;
}

}  // namespace

int tree_compare(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] == b[i]) continue;
    const int ca = a[i] == '/' ? 0 : static_cast<unsigned char>(a[i]) + 1;
    const int cb = b[i] == '/' ? 0 : static_cast<unsigned char>(b[i]) + 1;
    return ca - cb;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

bool is_below(std::string_view a, std::string_view dir) noexcept {
  if (dir.empty()) return !a.empty();
  return a.size() > dir.size() && a[dir.size()] == '/' && a.starts_with(dir);
}

bool Snapshot::walk(const std::string& rel, Entries& out) const {
  // Depth first with an explicit stack (deep trees do not grow the call stack); each
  // directory's names sorted, a directory's subtree right after it: tree order.
  std::vector<Level> stack;
  const auto enter = [&](std::string dir) {
    Level level{std::move(dir), {}, 0};
    DirPtr d(::opendir((source_ + level.dir).c_str()));
    if (d) {  // else vanished or unreadable: its events (or the next diff) tell
      while (const dirent* e = ::readdir(d.get())) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        struct stat st {};
        if (::fstatat(::dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        level.kids.emplace_back(e->d_name, to_stat(st));
      }
    }
    std::sort(level.kids.begin(), level.kids.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    stack.push_back(std::move(level));
  };
  enter(rel);
  while (!stack.empty()) {
    Level& top = stack.back();
    if (top.next == top.kids.size()) {
      stack.pop_back();
      continue;
    }
    const auto& [name, st] = top.kids[top.next++];
    std::string path = join(top.dir, name);
    const bool is_dir = S_ISDIR(st.mode);
    if (excluded_ && excluded_(path, is_dir)) continue;
    if (out.size() >= budget_) return false;
    out.add(path, st);
    if (is_dir) enter(std::move(path));  // invalidates top
  }
  return true;
}

void Snapshot::invalidate() {
  entries_ = Entries{};
  valid_ = false;
}

void Snapshot::build() {
  Entries fresh;
  if (!walk("", fresh)) return invalidate();
  fresh.shrink();
  entries_ = std::move(fresh);
  valid_ = true;
}

void Snapshot::refresh(const std::vector<std::string>& paths) {
  if (!valid_ || paths.empty()) return;
  // The paths in tree order, without those below another one (its walk records them).
  std::vector<std::string_view> todo(paths.begin(), paths.end());
  std::sort(todo.begin(), todo.end(), [](std::string_view a, std::string_view b) { return tree_compare(a, b) < 0; });
  std::vector<std::string_view> tops;
  for (const auto p : todo)
    if (tops.empty() || (p != tops.back() && !is_below(p, tops.back()))) tops.push_back(p);
  // One merge: the old records before each path, then the path and its subtree as they are now.
  Entries fresh;
  fresh.records.reserve(entries_.records.size());
  fresh.arena.reserve(entries_.arena.size());
  std::size_t i = 0;
  const std::size_t n = entries_.size();
  for (const auto p : tops) {
    for (; i < n && tree_compare(entries_.path(i), p) < 0; ++i) fresh.append(entries_, i);
    while (i < n && (entries_.path(i) == p || is_below(entries_.path(i), p))) ++i;
    const std::string rel(p);
    Record st;
    if (!stat_of(source_ + rel, st) || (excluded_ && excluded_(rel, S_ISDIR(st.mode)))) continue;
    if (fresh.size() >= budget_) return invalidate();
    fresh.add(rel, st);
    if (S_ISDIR(st.mode) && !walk(rel, fresh)) return invalidate();
  }
  for (; i < n; ++i) fresh.append(entries_, i);
  if (fresh.size() > budget_) return invalidate();
  fresh.shrink();
  entries_ = std::move(fresh);
}

std::vector<std::string> Snapshot::diff() {
  std::vector<std::string> changed;
  Entries now;
  // About the old size: the tree rarely shrinks or grows by much between two diffs.
  now.records.reserve(entries_.size() + entries_.size() / 8);
  now.arena.reserve(entries_.arena.size() + entries_.arena.size() / 8);
  if (!walk("", now)) {
    invalidate();
    return changed;
  }
  // Both are in tree order: one merge pass finds the new, the changed and the gone.
  // covered: the last directory reported as new, gone or replaced (its subtree goes with it);
  // held: directories (ancestors of the current path) whose attributes changed, reported
  // only if nothing below them is.
  std::string_view covered;
  bool covering = false;
  std::vector<std::string_view> held;
  const auto report = [&](std::string_view p, bool dir) {
    changed.emplace_back(p);
    held.clear();  // ancestors of p: sent with it as implied directories
    covered = p, covering = dir;
  };
  const Entries& old = entries_;
  std::size_t i = 0, j = 0;
  while (i < old.size() || j < now.size()) {
    const int c = i == old.size() ? 1 : (j == now.size() ? -1 : tree_compare(old.path(i), now.path(j)));
    const std::string_view p = c < 0 ? old.path(i) : now.path(j);
    const Record* was = c <= 0 ? &old.records[i] : nullptr;
    const Record* is = c >= 0 ? &now.records[j] : nullptr;
    if (c <= 0) ++i;
    if (c >= 0) ++j;
    if (covering && is_below(p, covered)) continue;
    covering = false;
    while (!held.empty() && !is_below(p, held.back())) changed.emplace_back(held.back()), held.pop_back();
    if (was && is && was->same(*is)) continue;
    const bool was_dir = was && S_ISDIR(was->mode);
    const bool is_dir = is && S_ISDIR(is->mode);
    if (was_dir && is_dir && was->ino == is->ino) {
      held.push_back(p);
      continue;
    }
    report(p, was_dir || is_dir);
  }
  while (!held.empty()) changed.emplace_back(held.back()), held.pop_back();
  changed = collapse(std::move(changed), now);
  now.shrink();
  entries_ = std::move(now);  // after the last use of the views into both
  return changed;
}

}  // namespace inotifybatch
