// The lazy filesystem mode of the fanotify backend: one FAN_MARK_FILESYSTEM mark, the roots
// registered at setup, no walk; a directory is registered in the watch table when an event first
// names it.
//
// State and caching rules:
//   registered  by_key_/marks_ and the table hold the directory (key -> wd -> {parent, name}), with
//               its root's mask. From then on it is an ordinary entry: the MoveTracker relabels it
//               (and its registered subtree) on renames, drops it when it moves out, releases it on
//               its DELETE_SELF (our IN_IGNORED). Roots are registered by add(); the rest here.
//   unknown     A record names a handle not registered: resolve() opens it by handle on a root's
//               mount (open_by_handle_at(2), CAP_DAC_READ_SEARCH), reads /proc/self/fd for its
//               path and, when that is below a root, walks ".." up to the nearest registered
//               directory, registering each step with the name the path gives it (the parent is
//               known by handle, not by name, so a rename still queued does not misplace it; the
//               path is read again after the walk and the walk retried if it changed). Each step
//               must be in scope (the Tree: -r, '@' exclusions, prune). The path of what is
//               resolved is where the kernel has it at the time of reading: an event queued before
//               a rename of a directory not registered yet is shown under its new path.
//   renamed     A FAN_RENAME of a directory inside the trees: the directory is made to stand under
//               its old name (registered there, or moved back there when an earlier event resolved
//               it after the rename) so that the MoveTracker pairs and relabels it: no scan, no
//               CREATE for what it holds. A rename into the trees from outside is a lone
//               IN_MOVED_TO: an arrival, scanned (D1) as in inotify mode.
//   gone        ESTALE, or a path marked " (deleted)" that no longer leads to the handle: the
//               directory was removed before its event was read. Its place is taken from the record
//               that removed or renamed it: one read earlier (graveyard_), or one read after it in
//               the same batch (find_naming). It is then registered there like any other, so its
//               DELETE_SELF comes out as inotify's. Found nowhere: the record is dropped and
//               counted (unresolved()). "(deleted)" is never printed.
//   outside     Resolved to a place outside every root, or out of scope: the key goes into a
//               bounded negative cache (OutsideCache) so that the rest of the file system costs
//               one lookup per event. It is emptied whenever a directory is renamed anywhere on the
//               file system (it may have moved into a tree), when a root is added, and by repair().
//   overflow    IN_Q_OVERFLOW: repair() empties the caches; the Tree's repair walks nothing: it
//               keeps each registered directory whose table path still leads to its handle and
//               releases the others (moved or removed while events were lost), which are
//               registered again as events name them.
//   arriving    A directory created or moved in is a placeholder in the table until the core's scan
//               registers it and reports what it holds (D1, as in inotify mode); an event inside it
//               read before that scan is left to the scan (dropped here, not cached as outside).
// New directories would need no scan for events (the filesystem mark reports everything inside
// them from the moment they exist); the scan is kept for inotify's output (D1) and costs one walk
// of what appeared only.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "fanotify.hpp"
#include "watch_table.hpp"

namespace libwatch {
namespace {

// A directory resolved through more gone ancestors than this is given up (a cycle cannot form,
// but a record naming itself as its own parent must not loop).
constexpr int kMaxGoneDepth = 64;
// Attempts at resolving a directory whose path changes while it is walked up.
constexpr int kAttempts = 3;
// register_dir() failed: the directory is not in a tree (cached as outside), or waits for its scan.
constexpr int kOutOfScope = -2;
constexpr int kArriving = -3;
// Directories removed, by key, remembered from their DELETE records for a DELETE_SELF read after.
constexpr std::size_t kGraveyard = 4096;

std::string link_of(int fd) {
  char proc[32];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  std::string out(PATH_MAX, '\0');
  const ssize_t n = ::readlink(proc, out.data(), out.size());
  if (n <= 0 || static_cast<std::size_t>(n) >= out.size()) return {};
  out.resize(static_cast<std::size_t>(n));
  return out;
}

}  // namespace

void FanotifyBackend::root_added(int wd) {
  if (!lazy_ || !table_) return;
  const WatchId id = table_->find(wd);
  if (id == kNoWatch) return;
  for (const LazyRoot& r : lazy_roots_)
    if (r.wd == wd) return;
  // open_by_handle_at(2) takes no O_PATH descriptor as mount_fd. Our own open is not reported.
  Fd mount(::open(table_->path(id).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::string key;
  if (!mount || key_of(mount.get(), key) != 0) return;  // a file operand: nothing below it
  std::string path = link_of(mount.get());
  if (path.empty()) return;
  lazy_roots_.push_back(LazyRoot{
      .wd = wd, .fsid = key.substr(0, sizeof(__kernel_fsid_t)), .path = std::move(path), .mount = std::move(mount)});
  outside_.clear();
}

void FanotifyBackend::repair() {
  outside_.clear();
  graveyard_.clear();
}

void FanotifyBackend::remember_removed(const std::string& key, const std::string& parent_key, std::string_view name) {
  if (graveyard_.size() >= kGraveyard) graveyard_.clear();
  graveyard_[key] = Naming{.parent_key = parent_key, .name = std::string(name)};
}

Fd FanotifyBackend::open_by_key(const std::string& key, const LazyRoot*& root) {
  constexpr std::size_t kHead = sizeof(__kernel_fsid_t) + sizeof(int);
  errno = EXDEV;
  if (key.size() < kHead || key.size() - kHead > MAX_HANDLE_SZ) return {};
  alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ];
  auto* fh = reinterpret_cast<file_handle*>(storage);
  fh->handle_bytes = static_cast<unsigned>(key.size() - kHead);
  std::memcpy(&fh->handle_type, key.data() + sizeof(__kernel_fsid_t), sizeof(int));
  std::memcpy(fh->f_handle, key.data() + kHead, fh->handle_bytes);
  const std::string_view fsid(key.data(), sizeof(__kernel_fsid_t));
  for (const LazyRoot& r : lazy_roots_) {
    if (r.fsid != fsid) continue;
    root = &r;
    return Fd(::open_by_handle_at(r.mount.get(), fh, O_PATH | O_CLOEXEC));
  }
  errno = EXDEV;
  return {};
}

int FanotifyBackend::resolve(const std::string& key, std::span<const char> after, int depth) {
  if (outside_.contains(key)) return -1;
  const LazyRoot* root = nullptr;
  const Fd fd = open_by_key(key, root);
  if (!fd) {
    if (errno == ESTALE || errno == ENOENT) return resolve_gone(key, after, depth);
    outside_.insert(key);  // another file system, or a handle this process cannot open
    return -1;
  }
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const std::string path = link_of(fd.get());
    if (path.empty()) return -1;
    if (path.ends_with(kDeletedSuffix)) {
      // Or a name that really ends so: then the path still leads to the handle.
      const Fd again(::open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
      std::string at;
      if (!again || key_of(again.get(), at) != 0 || at != key) return resolve_gone(key, after, depth);
    }
    std::vector<std::string_view> parts;
    bool below = false;
    for (const LazyRoot& r : lazy_roots_)
      if (r.fsid == root->fsid && components_below(r.path, path, parts)) {
        below = true;
        break;
      }
    if (!below) {
      outside_.insert(key);
      return -1;
    }
    // Up to the nearest registered directory: (key, name) of each step, deepest first.
    std::vector<std::pair<std::string, std::string_view>> chain;
    Fd holder;
    int cur = fd.get();
    std::string cur_key = key;
    int known = -1;
    for (std::size_t i = parts.size(); i-- > 0;) {
      chain.emplace_back(cur_key, parts[i]);
      Fd up(::openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
      std::string up_key;
      if (!up || key_of(up.get(), up_key) != 0) return -1;
      if ((known = lookup(up_key)) >= 0) break;
      holder = std::move(up);
      cur = holder.get();
      cur_key = std::move(up_key);
    }
    // The names are those of the path read before the walk: it must not have changed meanwhile.
    if (known < 0 || link_of(fd.get()) != path) continue;
    int wd = known;
    for (auto it = chain.rbegin(); it != chain.rend() && wd >= 0; ++it) wd = register_dir(wd, it->second, it->first);
    if (wd == kOutOfScope) outside_.insert(key);
    return wd < 0 ? -1 : wd;
  }
  return -1;
}

int FanotifyBackend::resolve_gone(const std::string& key, std::span<const char> after, int depth) {
  if (depth >= kMaxGoneDepth) return -1;
  std::optional<Naming> n;
  if (auto it = graveyard_.find(key); it != graveyard_.end()) n = it->second;
  if (!n) n = find_naming(after, key);
  if (!n || n->parent_key == key) {
    ++unresolved_;
    return -1;
  }
  const int parent = dir_wd(n->parent_key, after, depth + 1);
  const int wd = parent < 0 ? -1 : register_dir(parent, n->name, key);
  return wd < 0 ? -1 : wd;
}

void FanotifyBackend::place_renamed(const std::string& key, int from_wd, std::string_view from, int to_wd,
                                    std::string_view to) {
  const int wd = lookup(key);
  // Not registered yet: registered under its old name, so that the pair relabels it as any other
  // (rather than taking it for an arrival from outside, scanned and reported as new).
  if (wd < 0) {
    register_dir(from_wd, from, key);
    return;
  }
  // Registered at its new place already: resolved from the kernel after this rename, by an event
  // queued before it. Put back where the rename found it, for the same reason.
  const WatchId id = table_->find(wd), old_parent = table_->find(from_wd), new_parent = table_->find(to_wd);
  if (id == kNoWatch || old_parent == kNoWatch || (old_parent == new_parent && from == to)) return;
  if (table_->parent(id) == new_parent && table_->name(id) == to && table_->find_child(new_parent, to) == id &&
      table_->find_child(old_parent, from) == kNoWatch)
    table_->move(id, old_parent, from);
}

int FanotifyBackend::register_dir(int parent_wd, std::string_view name, const std::string& key) {
  const WatchId parent = table_ ? table_->find(parent_wd) : kNoWatch;
  if (parent == kNoWatch || name.empty()) return -1;
  if (!scope_ || !scope_(parent, name)) return kOutOfScope;
  // A directory that appeared (created, moved in) waits for its scan, which reports what it holds
  // (D1) and registers it: its events until then are left to that scan, as inotify would.
  const WatchId named = table_->find_child(parent, name);
  if (named != kNoWatch && table_->is_placeholder(named)) return kArriving;
  int wd;
  {
    std::lock_guard l(lock_);
    if (auto it = by_key_.find(key); it != by_key_.end()) return it->second;
    auto p = marks_.find(parent_wd);
    if (p == marks_.end()) return -1;
    wd = next_wd_++;
    by_key_.emplace(key, wd);
    marks_.emplace(wd, Mark{.key = key, .mask = p->second.mask, .dir = true});
  }
  // The kernel has this directory under that name now: an older entry still so named in the
  // table is displaced (its own queued events keep its path; its IN_IGNORED releases it).
  if (named != kNoWatch) table_->unname(named);
  table_->add_child(wd, parent, name);
  ++lazily_registered_;
  return wd;
}

}  // namespace libwatch
