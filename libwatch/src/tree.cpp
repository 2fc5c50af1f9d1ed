#include "tree.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <climits>

#include "masks.hpp"

namespace libwatch {
namespace {

bool is_directory(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string with_slash(std::string s) {
  if (s.empty() || s.back() != '/') s += '/';
  return s;
}

bool excluded(const std::vector<std::string>& exclude, const std::string& path) {
  for (const auto& e : exclude)
    if (e == path) return true;
  return false;
}

}  // namespace

Tree::Tree(Backend& backend, WatchTable& table, SyntheticQueue& synth, bool hide_own_reads)
    : backend_(backend), table_(table), synth_(synth), walker_(backend, table, hide_own_reads) {
  backend_.set_scope([this](WatchId parent, std::string_view name) { return admits(parent, name); });
}

bool Tree::admits(WatchId parent, std::string_view name) const {
  const Root* root = root_for(parent);
  if (!root || !(root->options.recursive || root->options.track)) return false;
  if (root->exclude.empty() && !root->options.prune) return true;
  std::string path;
  table_.append_path(parent, path);
  path += name;
  return !excluded(root->exclude, path) && !(root->options.prune && root->options.prune(path));
}

// ---- roots ----

WatchId Tree::add(std::string_view path, const AddOptions& options) {
  Root root{.id = kNoWatch,
            .operand = std::string(path),
            .options = options,
            .kmask = options.mask | (options.track ? kTrackBits : 0),
            .walked = false,
            .exclude = {}};
  for (const auto& e : options.exclude) {
    std::string x = e;
    if (!x.empty() && x.back() == '/') x.pop_back();
    root.exclude.push_back(std::move(x));
  }
  const bool walk = (options.recursive || options.track) && backend_.watches_each_directory();
  WatchId id = walk ? walk_operand(root) : kNoWatch;
  root.options.progress = nullptr;  // setup only: the caller's handler need not outlive add()
  root.walked = id != kNoWatch;
  if (!root.walked) id = watch_operand(root);  // a file, or an operand that is not walked
  register_root(std::move(root), id);
  return id;
}

// kNoWatch when the operand is a file (a file given to -r is watched as a file).
WatchId Tree::walk_operand(const Root& root) {
  const WalkResult r = walk_tracking_fresh(root);
  flush_warnings();
  bool nothing_added = true;
  // Nothing half-done: forget (and unwatch) what this call added before it failed.
  table_.take_fresh([&](WatchId id) {
    if (!r.error) return;
    nothing_added = false;
    backend_.remove_watch(table_.wd(id));
    table_.release(id);
  });
  if (!r.error) return r.top;
  if (r.error == ENOTDIR && nothing_added) return kNoWatch;
  // The operand itself, or the directory deeper in the tree where the walk had to stop.
  std::string where = r.error_path == with_slash(root.operand) ? root.operand : r.error_path;
  throw WatchError(r.error, root.operand, where);
}

// The setup walk of an operand, with the entries it adds marked fresh (for a roll-back).
WalkResult Tree::walk_tracking_fresh(const Root& root) {
  struct Tracking {
    WatchTable& table;
    explicit Tracking(WatchTable& t) : table(t) { table.track_fresh(true); }
    ~Tracking() { table.track_fresh(false); }
    Tracking(const Tracking&) = delete;
    Tracking& operator=(const Tracking&) = delete;
  } tracking(table_);
  return walker_.walk_root(WalkSpec{.kind = WalkKind::setup,
                                    .mask = root.kmask,
                                    .exclude = &root.exclude,
                                    .prune = &root.options.prune,
                                    .progress = &root.options.progress},
                           root.operand, true);
}

WatchId Tree::watch_operand(const Root& root) {
  const Mask mask = root.kmask | (root.options.dont_follow ? IN_DONT_FOLLOW : 0);
  const int wd = backend_.add_watch(root.operand.c_str(), mask);
  if (wd < 0) throw WatchError(-wd, root.operand, root.operand);
  const bool existed = table_.find(wd) != kNoWatch;
  const WatchId id = table_.add_root(wd, root.operand, is_directory(root.operand));
  if (!existed) {
    walker_.set_order_seq(walker_.order_seq() + 1);
    table_.set_order(id, walker_.order_seq());
  }
  backend_.root_added(wd);
  return id;
}

void Tree::register_root(Root root, WatchId id) {
  // Another spelling of a directory already watched shares its watches (the first one wins).
  if (id == kNoWatch || root_index_.count(id) || !table_.is_root(id)) return;
  root.id = id;
  if (!roots_.empty()) {
    const Root& first = roots_.front();
    if (first.kmask != root.kmask || first.options.track != root.options.track ||
        first.options.dont_follow != root.options.dont_follow)
      uniform_roots_ = false;
  }
  root_index_[id] = roots_.size();
  roots_.push_back(std::move(root));
}

void Tree::rekey(Root& root, WatchId id) {
  if (id == kNoWatch || id == root.id) return;
  root_index_.erase(root.id);
  root.id = id;
  root_index_[id] = static_cast<std::size_t>(&root - roots_.data());
}

const Tree::Root* Tree::root_for(WatchId id) const {
  if (roots_.empty()) return nullptr;
  if (uniform_roots_) return &roots_.front();
  WatchId top = id;
  for (WatchId p = table_.parent(top); p != kNoWatch; p = table_.parent(top)) top = p;
  auto it = root_index_.find(top);
  return it == root_index_.end() ? nullptr : &roots_[it->second];
}

// ---- repair ----

void Tree::repair() {
  backend_.repair();
  table_.begin_epoch();
  for (Root& root : roots_) rescan_root(root);
  // Directories learned from events (nothing walks them): kept while their path leads to them.
  if (!backend_.watches_each_directory())
    table_.for_each([&](WatchId id) {
      if (!table_.marked(id) && still_at_path(id)) table_.mark(id);
    });
  // What no walk reached is gone from the disk.
  std::vector<WatchId> stale;
  table_.for_each([&](WatchId id) {
    if (!table_.marked(id)) stale.push_back(id);
  });
  for (WatchId id : stale) {
    if (!table_.contains(id) || table_.find(table_.wd(id)) != id) continue;
    if (on_remove) on_remove(id);
    unwatch(id);
    table_.release(id);
  }
}

void Tree::rescan_root(Root& root) {
  if (!root.walked) {
    const int wd =
        backend_.add_watch(root.operand.c_str(), root.kmask | (root.options.dont_follow ? IN_DONT_FOLLOW : 0));
    if (wd < 0) {
      if (!vanished(-wd)) warn(Warning::Kind::rescan_failed, -wd, root.operand);
      return;
    }
    const WatchId id = table_.add_root(wd, root.operand, is_directory(root.operand));
    table_.mark(id);
    rekey(root, id);
    backend_.root_added(wd);
    return;
  }
  const WalkResult r = walker_.walk_root(
      WalkSpec{.kind = WalkKind::rescan, .mask = root.kmask, .exclude = &root.exclude, .prune = &root.options.prune},
      root.operand, false);
  flush_warnings();
  if (r.error) {
    if (!vanished(r.error)) warn(Warning::Kind::rescan_failed, r.error, with_slash(root.operand));
    return;
  }
  rekey(root, r.top);
}

void Tree::stray(int wd) {
  backend_.remove_watch(wd);
  repair();
}

// ---- what the MoveTracker asks ----

bool Tree::follows(WatchId id) {
  const Root* root = root_for(id);
  return root && root->options.track;
}

bool Tree::still_at_path(WatchId id) {
  Fd fd = open_dir_path(table_.path(id));
  return fd && backend_.watch_of(fd.get()) == table_.wd(id);
}

void Tree::unwatch(WatchId id) {
  const int wd = table_.wd(id);
  backend_.remove_watch(wd);  // its IN_IGNORED is not passed on
  backend_.forget(wd);
}

void Tree::drop_subtree(WatchId id) {
  table_.drop_subtree(id, [this](WatchId w, int) {
    if (on_remove) on_remove(w);
    unwatch(w);
  });
}

void Tree::releasing(WatchId id) {
  if (on_remove) on_remove(id);
  backend_.forget(table_.wd(id));
}

// Watch a directory that appeared, then scan it, reporting every entry already inside (D1),
// recursively. Retry when the parent is not (yet) where the table says.
Tree::Resolve Tree::resolve_arrival(WatchId placeholder, bool last_try) {
  const WatchId parent = table_.parent(placeholder);
  const Root* root = root_for(parent);
  const std::string leaf(table_.name(placeholder));
  std::string parent_path;
  table_.append_path(parent, parent_path);
  if (!root || excluded(root->exclude, parent_path + leaf) ||
      (root->options.prune && root->options.prune(parent_path + leaf))) {
    table_.discard_placeholder(placeholder);
    return Resolve::done;
  }
  // The parent's path must lead to the parent's watch before anything inside it is looked at.
  Fd pfd = open_dir_path(parent_path);
  if (!pfd || backend_.watch_of(pfd.get()) != table_.wd(parent)) {
    if (!last_try) return Resolve::retry;
    table_.discard_placeholder(placeholder);
    return Resolve::done;
  }
  table_.discard_placeholder(placeholder);
  const WalkResult r = walker_.walk_child(
      WalkSpec{
          .kind = WalkKind::arrival, .mask = root->kmask, .exclude = &root->exclude, .prune = &root->options.prune},
      pfd.get(), parent, parent_path, leaf, synth_);
  flush_warnings();
  if (r.error && !vanished(r.error))  // (vanished: gone before it was reached)
    warn(Warning::Kind::new_directory, r.error, with_slash(r.error_path));
  return Resolve::done;
}

// ---- helpers ----

void Tree::flush_warnings() {
  for (Warning& w : walker_.take_warnings())
    if (on_warning) on_warning(w);
}

void Tree::warn(Warning::Kind kind, int err, std::string path) {
  if (on_warning) on_warning(Warning{.kind = kind, .error = err, .path = std::move(path)});
}

Fd Tree::open_dir_path(const std::string& p) {
  constexpr int kFlags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  if (p.size() < PATH_MAX) return Fd(::open(p.c_str(), kFlags));
  Fd holder;
  int cur = AT_FDCWD;
  std::size_t i = 0;
  if (p[0] == '/') {
    holder = Fd(::open("/", kFlags));
    cur = holder.get();
    i = 1;
  }
  while (i < p.size() && (cur == AT_FDCWD || holder)) {
    // The longest run of whole components that fits in half of PATH_MAX.
    std::size_t end = i, last = i;
    while (end < p.size() && end - i < PATH_MAX / 2) {
      std::size_t slash = p.find('/', end);
      if (slash == std::string::npos) slash = p.size();
      last = slash;
      end = slash + 1;
    }
    const std::string piece = p.substr(i, last - i);
    holder = Fd(::openat(cur, piece.empty() ? "." : piece.c_str(), kFlags));
    cur = holder.get();
    i = end;
  }
  return holder;
}

}  // namespace libwatch
