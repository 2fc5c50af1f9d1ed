#include "walker.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "masks.hpp"
#include "walk_state.hpp"

namespace libwatch {
namespace {

// The reader is pumped every this many directories: at some 10 us per directory that is well
// under a millisecond, while even a producer running flat out needs several milliseconds to fill
// the kernel's default queue (max_queued_events, 16384). A pump that finds nothing costs one
// read(2).
constexpr unsigned kPumpEveryDirs = 64;
// getdents64(2) buffer: some 1,000 entries per call. Not zeroed: only the pages the kernel
// writes become resident (most directories need one).
constexpr std::size_t kDentsBytes = 32 * 1024;
// Below this many subdirectories of the root a second thread costs more than it saves.
constexpr std::size_t kParallelMin = 8;

struct Dirent64 {
  std::uint64_t d_ino;
  std::int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

bool is_dot_or_dotdot(const char* n) { return n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0)); }

}  // namespace

Walker::State::State() : dents_(new char[kDentsBytes]) {
  // Room for a deep, wide walk up front (reserved, not touched), allocated by the thread that
  // creates the state: a walker on a helper thread needs no heap of its own.
  path.reserve(PATH_MAX);
  child_names.reserve(16 * 1024);
  child_offs.reserve(1024);
  stack.reserve(64);
}

void Walker::State::reset() noexcept {
  stack.clear();
  child_offs.clear();
  child_names.clear();
}

bool Walker::State::excluded(const Shared& sh) const {
  if (sh.spec.prune && *sh.spec.prune && (*sh.spec.prune)(path)) return true;
  if (!sh.spec.exclude) return false;
  for (const auto& e : *sh.spec.exclude)
    if (e == path) return true;
  return false;
}

void Walker::State::skip_warning(int err) {
  if (vanished(err)) return;  // gone or replaced since it was listed: nothing to say
  warnings.push_back(Warning{.kind = Warning::Kind::unreadable_subdir, .error = err, .path = path + '/'});
}

// Give a watch its full mask, by path (after the close, so that the close is not reported). If the
// path no longer leads to that directory, the call may have created a stray watch: remove it.
void Walker::State::upgrade(Shared& sh, int fd, int expect_wd, bool nofollow) {
  Walker& w = sh.owner;
  int wd = w.watch_dir(path, fd, sh.spec.mask | IN_ONLYDIR, nofollow, false);
  if (wd < 0 || wd == expect_wd) return;
  std::unique_lock<std::mutex> l;
  if (sh.table_lock) l = std::unique_lock(*sh.table_lock);
  if (w.table_.find(wd) == kNoWatch) w.backend_.remove_watch(wd);
}

// wd comes from the caller, not the table: helper threads change the table under table_lock.
void Walker::State::read_entries(Shared& sh, int fd, WatchId id, int wd) {
  for (;;) {
    long n = ::syscall(SYS_getdents64, fd, dents_.get(), kDentsBytes);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // the end, or the directory went away while it was read (ENOENT)
    }
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<Dirent64*>(dents_.get() + off);
      off += d->d_reclen;
      const char* name = d->d_name;
      if (is_dot_or_dotdot(name)) continue;
      unsigned type = d->d_type;
      if (type == DT_UNKNOWN) {
        // Only some file systems leave d_type out; ask them, without following links.
        struct stat st;
        if (::fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
      }
      std::size_t len = std::strlen(name);
      if (sh.synth) sh.synth->push(id, wd, type == DT_DIR ? (IN_CREATE | IN_ISDIR) : IN_CREATE, {name, len});
      if (type == DT_DIR) {
        child_offs.emplace_back(static_cast<std::uint32_t>(child_names.size()), static_cast<std::uint16_t>(len));
        child_names.append(name, len + 1);
      }
    }
  }
}

bool Walker::State::enter(Shared& sh, int pfd, const char* open_name, WatchId parent, std::string_view node_name) {
  if (sh.stop && sh.stop->load(std::memory_order_relaxed)) throw WalkAbort{.error = ECANCELED, .path = path};
  Walker& w = sh.owner;
  const bool is_root = parent == kNoWatch;
  Fd fd(::openat(pfd, open_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (is_root ? 0 : O_NOFOLLOW)));
  if (!fd) {
    int err = errno;
    if (is_root || hard_limit(err)) throw WalkAbort{.error = err, .path = path};
    skip_warning(err);
    return false;
  }
  const Mask full = sh.spec.mask | IN_ONLYDIR;
  // A directory that appeared at run time is watched through its descriptor: the path may already
  // lead elsewhere. The other walks take the faster path lookup.
  int wd = w.watch_dir(path, fd.get(), sh.upgrade ? without_self_bits(full) : full, !is_root,
                       sh.spec.kind == WalkKind::arrival);
  if (wd < 0) {
    if (is_root || hard_limit(-wd)) throw WalkAbort{.error = -wd, .path = path};
    skip_warning(-wd);
    return false;
  }
  bool existed;
  WatchId id;
  {
    std::unique_lock<std::mutex> l;
    if (sh.table_lock) l = std::unique_lock(*sh.table_lock);
    WatchTable& t = w.table_;
    existed = t.find(wd) != kNoWatch;
    id = is_root ? t.add_root(wd, node_name, true) : t.add_child(wd, parent, node_name);
    // A directory already watched, found by a scan: the disk is right about where it is (it was
    // renamed while events were lost, or moved into a directory that had no watch yet).
    if (existed && sh.spec.kind != WalkKind::setup && !is_root && !t.is_root(id)) t.move(id, parent, node_name);
    t.mark(id);
  }
  if (top == kNoWatch) top = id;
  if (existed && sh.spec.kind != WalkKind::rescan) {
    // Already watched (another operand, or a directory that came back): one walk is enough.
    fd.reset();
    if (sh.upgrade) upgrade(sh, -1, wd, !is_root);
    return false;
  }
  const std::size_t names_size = child_names.size();
  const std::size_t begin = child_offs.size();
  read_entries(sh, fd.get(), id, wd);
  stack.push_back(Frame{.fd = std::move(fd),
                        .id = id,
                        .wd = wd,
                        .path_len = path.size(),
                        .child_begin = begin,
                        .child_next = begin,
                        .child_end = child_offs.size(),
                        .names_size = names_size,
                        .is_new = !existed,
                        .root = is_root});
  w.count_entered();
  if (pumps && ++since_pump_ >= kPumpEveryDirs) {
    since_pump_ = 0;
    w.pump();
    w.report_progress(sh);
  }
  return true;
}

void Walker::State::finish(Shared& sh, Frame& f) {
  path.resize(f.path_len);
  if (sh.upgrade && path.size() >= PATH_MAX) {
    sh.owner.watch_dir(path, f.fd.get(), sh.spec.mask | IN_ONLYDIR, false, true);  // only the fd names it
    f.fd.reset();
  } else {
    f.fd.reset();
    if (sh.upgrade) upgrade(sh, -1, f.wd, !f.root);
  }
  // Post-order, like the reference's watch descriptors: inotifywatch sorts ties by it.
  if (f.is_new && sh.owner.table_.keeps_order()) {
    std::unique_lock<std::mutex> l;
    if (sh.table_lock) l = std::unique_lock(*sh.table_lock);
    sh.owner.table_.set_order(f.id, ++order);
  }
  child_offs.resize(f.child_begin);
  child_names.resize(f.names_size);
}

void Walker::State::run(Shared& sh) {
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.child_next == f.child_end) {
      finish(sh, f);
      stack.pop_back();
      continue;
    }
    auto [off, len] = child_offs[f.child_next++];
    const int dir_fd = f.fd.get();
    const WatchId dir_id = f.id;
    path.resize(f.path_len);
    if (path.empty() || path.back() != '/') path += '/';
    path.append(child_names.data() + off, len);
    if (excluded(sh)) continue;
    // child_names may grow while the child is entered: copy the name out first.
    char name[NAME_MAX + 1];
    std::memcpy(name, child_names.data() + off, len);
    name[len] = 0;
    enter(sh, dir_fd, name, dir_id, std::string_view(name, len));
  }
}

// ---- Walker ----

Walker::Walker(Backend& backend, WatchTable& table, bool hide_own_reads)
    : backend_(backend), table_(table), hide_own_reads_(hide_own_reads), main_(std::make_unique<State>()) {
  main_->pumps = true;
}

Walker::~Walker() = default;

std::vector<Warning> Walker::take_warnings() {
  std::vector<Warning> out;
  out.swap(main_->warnings);
  return out;
}

bool Walker::pump() { return pump_ && pump_(); }

void Walker::report_progress(const Shared& sh) const {
  if (sh.spec.progress && *sh.spec.progress) (*sh.spec.progress)(entered_.load(std::memory_order_relaxed));
}

int Walker::watch_dir(const std::string& path, int fd, Mask mask, bool nofollow, bool by_fd) {
  if (path.size() < PATH_MAX && !(by_fd && fd >= 0)) {
    int wd = backend_.add_watch(path.c_str(), mask | (nofollow ? IN_DONT_FOLLOW : 0));
    if (wd >= 0 || fd < 0 || !(vanished(-wd) || wd == -ENAMETOOLONG)) return wd;
    // Renamed since it was opened: the open descriptor still names the right directory.
  }
  if (fd < 0) return -ENAMETOOLONG;
  return backend_.add_watch_fd(fd, mask);
}

WalkResult Walker::run_walk(Shared& sh, State& s, int pfd, const char* open_name, WatchId parent,
                            std::string_view node_name, bool parallel) {
  WalkResult r;
  s.top = kNoWatch;
  try {
    if (s.enter(sh, pfd, open_name, parent, node_name)) {
      const State::Frame& f = s.stack.back();
      if (parallel && f.child_end - f.child_begin >= kParallelMin && std::thread::hardware_concurrency() > 1)
        walk_children_in_parallel(sh, s);
      s.run(sh);
    }
  } catch (const WalkAbort& a) {
    r.error = a.error;
    r.error_path = a.path;
  }
  s.reset();
  r.top = s.top;
  return r;
}

WalkResult Walker::walk_root(const WalkSpec& spec, const std::string& operand, bool parallel) {
  const bool upgrade = hide_own_reads_ && backend_.reports_own_reads() && ((spec.mask | IN_ONLYDIR) & kSelfBits);
  Shared sh{.owner = *this, .spec = spec, .upgrade = upgrade};
  State& s = *main_;
  s.order = order_seq_;
  entered_.store(0, std::memory_order_relaxed);
  s.path = operand;
  if (s.path.empty() || s.path.back() != '/') s.path += '/';
  WalkResult r = run_walk(sh, s, AT_FDCWD, operand.c_str(), kNoWatch, operand, parallel);
  order_seq_ = s.order;
  return r;
}

WalkResult Walker::walk_child(const WalkSpec& spec, int parent_fd, WatchId parent, const std::string& parent_path,
                              std::string_view name, SyntheticQueue& synth) {
  const bool upgrade = hide_own_reads_ && backend_.reports_own_reads() && ((spec.mask | IN_ONLYDIR) & kSelfBits);
  Shared sh{.owner = *this, .spec = spec, .upgrade = upgrade, .synth = &synth};
  State& s = *main_;
  s.order = order_seq_;
  s.path = parent_path;
  s.path.append(name);
  const std::string leaf(name);
  WalkResult r = run_walk(sh, s, parent_fd, leaf.c_str(), parent, leaf, false);
  order_seq_ = s.order;
  return r;
}

}  // namespace libwatch
