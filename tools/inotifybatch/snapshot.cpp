#include "snapshot.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>
#include <memory>

namespace inotifybatch {
namespace {

struct DirCloser {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

bool stat_of(const std::string& path, Snapshot::Stat& out) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return false;
  out.ino = st.st_ino;
  out.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  out.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  out.size = static_cast<std::uint64_t>(st.st_size);
  out.mode = st.st_mode;
  return true;
}

}  // namespace

bool Snapshot::walk(const std::string& rel, Entries& out) const {
  // Depth first with an explicit stack: deep trees do not grow the call stack.
  std::vector<std::string> todo{rel};
  while (!todo.empty()) {
    const std::string dir = std::move(todo.back());
    todo.pop_back();
    DirPtr d(::opendir((source_ + dir).c_str()));
    if (!d) continue;  // vanished or unreadable: its events (or the next diff) tell
    while (const dirent* e = ::readdir(d.get())) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      std::string path = dir.empty() ? std::string(e->d_name) : dir + '/' + e->d_name;
      Stat st;
      if (!stat_of(source_ + path, st)) continue;
      const bool is_dir = S_ISDIR(st.mode);
      if (excluded_ && excluded_(path, is_dir)) continue;
      if (out.size() >= budget_) return false;
      if (is_dir) todo.push_back(path);
      out.insert_or_assign(std::move(path), st);
    }
  }
  return true;
}

void Snapshot::invalidate() {
  entries_.clear();
  valid_ = false;
}

void Snapshot::build() {
  Entries fresh;
  if (!walk("", fresh)) return invalidate();
  entries_ = std::move(fresh);
  valid_ = true;
}

void Snapshot::erase_below(const std::string& rel) {
  const std::string prefix = rel + '/';
  auto it = entries_.lower_bound(prefix);
  while (it != entries_.end() && it->first.starts_with(prefix)) it = entries_.erase(it);
}

void Snapshot::refresh(const std::vector<std::string>& paths) {
  if (!valid_) return;
  for (const auto& p : paths) {
    Stat st;
    erase_below(p);
    if (!stat_of(source_ + p, st) || (excluded_ && excluded_(p, S_ISDIR(st.mode)))) {
      entries_.erase(p);
      continue;
    }
    entries_.insert_or_assign(p, st);
    if (S_ISDIR(st.mode) && !walk(p, entries_)) return invalidate();
    if (entries_.size() > budget_) return invalidate();
  }
}

std::vector<std::string> Snapshot::diff() {
  std::vector<std::string> changed;
  Entries now;
  if (!walk("", now)) {
    invalidate();
    return changed;
  }
  // Both maps are sorted: one merge pass finds the new, the changed and the gone.
  auto a = entries_.begin();
  auto b = now.begin();
  while (a != entries_.end() || b != now.end()) {
    if (b == now.end() || (a != entries_.end() && a->first < b->first)) {
      changed.push_back(a->first), ++a;
    } else if (a == entries_.end() || b->first < a->first) {
      changed.push_back(b->first), ++b;
    } else {
      if (!(a->second == b->second)) changed.push_back(b->first);
      ++a, ++b;
    }
  }
  entries_ = std::move(now);
  return changed;
}

}  // namespace inotifybatch
