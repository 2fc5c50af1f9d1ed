#include "fanotify.hpp"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "masks.hpp"
#include "watch_table.hpp"

namespace libwatch {
namespace {

// fanotify(7) kept inotify's values for the events both have: a mask maps bit for bit.
static_assert(FAN_ACCESS == IN_ACCESS && FAN_MODIFY == IN_MODIFY && FAN_ATTRIB == IN_ATTRIB &&
              FAN_CLOSE_WRITE == IN_CLOSE_WRITE && FAN_CLOSE_NOWRITE == IN_CLOSE_NOWRITE && FAN_OPEN == IN_OPEN &&
              FAN_CREATE == IN_CREATE && FAN_DELETE == IN_DELETE && FAN_DELETE_SELF == IN_DELETE_SELF &&
              FAN_MOVE_SELF == IN_MOVE_SELF && FAN_Q_OVERFLOW == IN_Q_OVERFLOW && FAN_ONDIR == IN_ISDIR);

constexpr Mask kOnObject = IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN;
constexpr Mask kSelf = IN_DELETE_SELF | IN_MOVE_SELF;
constexpr Mask kDirent = IN_CREATE | IN_DELETE;
// inotify(7) reports an event on a directory's entry to the directory's watch for these only
// (fsnotify's FS_EVENTS_POSS_ON_CHILD).
constexpr Mask kToParent = kOnObject;
// The order inotify delivers what one object went through, for splitting a merged record: a new
// file is opened, read or written, closed; deletion comes last. (A rename is a record of its own.)
constexpr Mask kOrder[] = {IN_MOVED_FROM, IN_MOVED_TO,    IN_CREATE,        IN_OPEN,   IN_ACCESS,    IN_MODIFY,
                           IN_ATTRIB,     IN_CLOSE_WRITE, IN_CLOSE_NOWRITE, IN_DELETE, IN_MOVE_SELF, IN_DELETE_SELF};
// A rename in one record with both names (5.17+), and the child's handle in every record: the
// flags without which renames cannot be paired.
constexpr unsigned kInitFlags = FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME_TARGET;

// What the kernel is asked for to report mask (IN_* bits) on a directory or a file. DELETE_SELF
// always: it is how we learn that the kernel dropped the mark (our IN_IGNORED).
std::uint64_t kernel_mask(Mask mask, bool dir) {
  std::uint64_t k = (mask & (kOnObject | kSelf)) | FAN_DELETE_SELF;
  if (!dir) return k;
  k |= (mask & kDirent) | FAN_EVENT_ON_CHILD | FAN_ONDIR;
  if (mask & (IN_MOVED_FROM | IN_MOVED_TO)) k |= FAN_RENAME;
  return k;
}

// What a directory's mark ignores: the read bits it was not asked for. A directory's own events
// also reach us through its parent's mark, but inotify reports them to a watch only if its mask
// has them at the time (D14: the walk adds a mark without them and upgrades it once read); an
// ignore mask is applied when the event happens, as inotify's mask is.
std::uint64_t ignore_mask(Mask mask, bool dir) { return dir ? (kSelfBits & ~mask) : 0; }

}  // namespace

int key_of(int fd, std::string& key) {
  alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ];
  auto* fh = reinterpret_cast<file_handle*>(storage);
  fh->handle_bytes = MAX_HANDLE_SZ;
  int mount_id = 0;
  if (::name_to_handle_at(fd, "", fh, &mount_id, AT_EMPTY_PATH) != 0) {
#ifdef AT_HANDLE_FID
    // A file system that cannot open by handle can still name its objects (fanotify's own case).
    fh->handle_bytes = MAX_HANDLE_SZ;
    if (errno != EOPNOTSUPP || ::name_to_handle_at(fd, "", fh, &mount_id, AT_EMPTY_PATH | AT_HANDLE_FID) != 0)
      return errno;
#else
    return errno;
#endif
  }
  struct statfs sfs;
  if (::fstatfs(fd, &sfs) != 0) return errno;
  key.assign(reinterpret_cast<const char*>(&sfs.f_fsid), sizeof sfs.f_fsid);
  key.append(reinterpret_cast<const char*>(&fh->handle_type), sizeof fh->handle_type);
  key.append(reinterpret_cast<const char*>(fh->f_handle), fh->handle_bytes);
  return 0;
}

FanotifyBackend::FanotifyBackend(bool filesystem, bool lazy)
    : fd_(::fanotify_init(kInitFlags, O_RDONLY | O_LARGEFILE), "fanotify_init"),
      filesystem_(filesystem),
      lazy_(filesystem && lazy) {}

std::unique_ptr<Backend> make_fanotify_backend(bool filesystem, bool lazy) {
  return std::make_unique<FanotifyBackend>(filesystem, lazy);
}

int FanotifyBackend::cover_filesystem(const std::string& key, std::uint64_t kernel_bits, const char* target,
                                      unsigned follow) {
  // Events on children need no FAN_EVENT_ON_CHILD on a filesystem mark: every inode reports.
  kernel_bits = (kernel_bits & ~static_cast<std::uint64_t>(FAN_EVENT_ON_CHILD)) | FAN_ONDIR | FAN_DELETE_SELF;
  std::uint64_t& have = fs_masks_[key.substr(0, sizeof(__kernel_fsid_t))];
  if ((kernel_bits & ~have) == 0) return 0;
  // Bits are only added: each watch's own mask decides what is reported (emit()).
  if (::fanotify_mark(fd_.get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM | follow, kernel_bits | have, AT_FDCWD, target) !=
      0)
    return -errno;
  have |= kernel_bits;
  return 0;
}

int FanotifyBackend::add_watch(const char* path, Mask mask) {
  // O_PATH: opening reports nothing and needs no read permission; the mark is then put on what
  // this descriptor names, so the handle and the mark are of one object even if path changes.
  const int flags =
      O_PATH | O_CLOEXEC | ((mask & IN_DONT_FOLLOW) ? O_NOFOLLOW : 0) | ((mask & IN_ONLYDIR) ? O_DIRECTORY : 0);
  Fd f(::open(path, flags));
  if (!f) return -errno;
  return mark(f.get(), mask, (mask & IN_DONT_FOLLOW) ? path : nullptr);
}

int FanotifyBackend::add_watch_fd(int fd, Mask mask) {
  return mark(fd, mask & ~static_cast<Mask>(IN_DONT_FOLLOW), nullptr);
}

int FanotifyBackend::mark(int fd, Mask mask, const char* nofollow_path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return -errno;
  const bool dir = S_ISDIR(st.st_mode);
  if ((mask & IN_ONLYDIR) && !dir) return -ENOTDIR;
  std::string key;
  if (int err = key_of(fd, key)) return -err;
  // fanotify_mark(2) takes no O_PATH descriptor as dirfd (EBADF); the magic link names the same
  // object. A symbolic link watched itself (IN_DONT_FOLLOW) is named by its path.
  char proc[32];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  const char* target = proc;
  unsigned follow = 0;
  if (S_ISLNK(st.st_mode) && nofollow_path) {
    target = nofollow_path;
    follow = FAN_MARK_DONT_FOLLOW;
  }
  const Mask want = mask & IN_ALL_EVENTS;
  if (filesystem_) {
    self_pid_.store(::getpid(), std::memory_order_relaxed);
    std::lock_guard l(lock_);
    if (int err = cover_filesystem(key, kernel_mask(want, true), target, follow)) return err;
    if (auto it = by_key_.find(key); it != by_key_.end()) {
      Mark& m = marks_.at(it->second);
      m.mask = (mask & IN_MASK_ADD) ? m.mask | want : want;
      if (int err = cover_filesystem(key, kernel_mask(m.mask, true), target, follow)) return err;
      return it->second;
    }
    const int wd = next_wd_++;
    by_key_.emplace(key, wd);
    marks_.emplace(wd, Mark{.key = std::move(key), .mask = want, .dir = dir});
    return wd;
  }
  // Whether the parent's mark reports an open of this directory now (see fresh_).
  std::string parent_key;
  if (dir && ignore_mask(want, dir) && any_open_.load(std::memory_order_relaxed)) {
    const Fd parent(::openat(fd, "..", O_PATH | O_CLOEXEC | O_DIRECTORY));
    if (!parent || key_of(parent.get(), parent_key) != 0) parent_key.clear();
  }
  if (want & IN_OPEN) any_open_.store(true, std::memory_order_relaxed);
  std::lock_guard l(lock_);
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    Mark& m = marks_.at(it->second);
    const Mask now = (mask & IN_MASK_ADD) ? m.mask | want : want;
    const std::uint64_t old_k = kernel_mask(m.mask, m.dir), new_k = kernel_mask(now, m.dir);
    // FAN_MARK_ADD only adds bits: what the new mask lacks is removed (never all of them:
    // DELETE_SELF stays, so the mark survives).
    if (old_k & ~new_k) ::fanotify_mark(fd_.get(), FAN_MARK_REMOVE | follow, old_k & ~new_k, AT_FDCWD, target);
    if (::fanotify_mark(fd_.get(), FAN_MARK_ADD | follow, new_k, AT_FDCWD, target) != 0) return -errno;
    set_ignore(ignore_mask(m.mask, m.dir), ignore_mask(now, m.dir), follow, target);
    m.mask = now;
    return it->second;
  }
  if (::fanotify_mark(fd_.get(), FAN_MARK_ADD | follow | (dir ? FAN_MARK_ONLYDIR : 0), kernel_mask(want, dir), AT_FDCWD,
                      target) != 0)
    return -errno;
  set_ignore(0, ignore_mask(want, dir), follow, target);
  const int wd = next_wd_++;
  if (!parent_key.empty())
    if (auto p = by_key_.find(parent_key); p != by_key_.end() && (marks_.at(p->second).mask & IN_OPEN))
      fresh_.insert(wd);
  by_key_.emplace(key, wd);
  marks_.emplace(wd, Mark{.key = std::move(key), .mask = want, .dir = dir});
  return wd;
}

void FanotifyBackend::set_ignore(std::uint64_t was, std::uint64_t now, unsigned follow, const char* target) {
  // FAN_MARK_IGNORE (6.0): FAN_ONDIR in it means the directory's own events.
  if (was & ~now)
    ::fanotify_mark(fd_.get(), FAN_MARK_REMOVE | FAN_MARK_IGNORE | follow, (was & ~now) | (now ? 0 : FAN_ONDIR),
                    AT_FDCWD, target);
  if (now & ~was)
    ::fanotify_mark(fd_.get(), FAN_MARK_ADD | FAN_MARK_IGNORE_SURV | follow, now | FAN_ONDIR, AT_FDCWD, target);
}

void FanotifyBackend::drop_mark(int wd) {
  auto it = marks_.find(wd);
  if (it == marks_.end()) return;
  std::erase_if(lazy_roots_, [wd](const LazyRoot& r) { return r.wd == wd; });
  by_key_.erase(it->second.key);
  marks_.erase(it);
  fresh_.erase(wd);
}

void FanotifyBackend::remove_watch(int wd) {
  std::lock_guard l(lock_);
  auto it = marks_.find(wd);
  if (it == marks_.end()) return;
  if (filesystem_) {  // no mark of its own: forgetting the handle is all
    drop_mark(wd);
    return;
  }
  // The kernel wants the object itself. As with inotify, no IN_IGNORED is passed on: the core
  // has let go of wd. A mark that cannot be reached stays until its inode goes; its events carry
  // a handle no wd has any more and are dropped.
  Fd f = open_marked(wd, it->second.key);
  if (f) {
    char proc[32];
    std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", f.get());
    // The mark goes when neither its mask nor its ignore mask has a bit left.
    set_ignore(ignore_mask(it->second.mask, it->second.dir), 0, 0, proc);
    ::fanotify_mark(fd_.get(), FAN_MARK_REMOVE, kernel_mask(it->second.mask, it->second.dir), AT_FDCWD, proc);
  }
  drop_mark(wd);
}

Fd FanotifyBackend::open_marked(int wd, const std::string& key) {
  const WatchId id = table_ ? table_->find(wd) : kNoWatch;
  if (id == kNoWatch) return {};
  // The table's path, while it still leads to the object.
  Fd f(::open(table_->path(id).c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW));
  std::string at;
  if (f && key_of(f.get(), at) == 0 && at == key) return f;
  // Moved away (out of the tree): by handle, on the file system of its root, which needs
  // CAP_DAC_READ_SEARCH (open_by_handle_at(2)). The mount is named by a descriptor that is not
  // O_PATH (EBADF): the root's parent's, whose opening no watch of the tree reports.
  WatchId top = id;
  for (WatchId p = table_->parent(top); p != kNoWatch; p = table_->parent(top)) top = p;
  const Fd mount(::open((table_->path(top) + "/..").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  constexpr std::size_t kHead = sizeof(__kernel_fsid_t) + sizeof(int);
  if (!mount || key.size() < kHead || key.size() - kHead > MAX_HANDLE_SZ) return {};
  alignas(file_handle) unsigned char storage[sizeof(file_handle) + MAX_HANDLE_SZ];
  auto* fh = reinterpret_cast<file_handle*>(storage);
  fh->handle_bytes = static_cast<unsigned>(key.size() - kHead);
  std::memcpy(&fh->handle_type, key.data() + sizeof(__kernel_fsid_t), sizeof(int));
  std::memcpy(fh->f_handle, key.data() + kHead, fh->handle_bytes);
  return Fd(::open_by_handle_at(mount.get(), fh, O_PATH | O_CLOEXEC));
}

void FanotifyBackend::forget(int wd) {
  std::lock_guard l(lock_);
  drop_mark(wd);
}

int FanotifyBackend::watch_of(int fd) {
  std::string key;
  if (key_of(fd, key) != 0) return -1;
  const int wd = lookup(key);
  return wd >= 0 && table_ && table_->find(wd) != kNoWatch ? wd : -1;
}

int FanotifyBackend::lookup(const std::string& key) {
  std::lock_guard l(lock_);
  auto it = by_key_.find(key);
  return it == by_key_.end() ? -1 : it->second;
}

ssize_t FanotifyBackend::read(char* buf, std::size_t room) { return read_ready(fd_.get(), buf, room); }

void FanotifyBackend::emit(int wd, Mask bits, std::uint32_t cookie, std::string_view name) {
  Mask asked;
  {
    std::lock_guard l(lock_);
    auto it = marks_.find(wd);
    if (it == marks_.end()) return;
    asked = it->second.mask;
  }
  const Mask isdir = bits & IN_ISDIR;
  for (Mask bit : kOrder) {
    if (!(bits & asked & bit)) continue;
    // inotify never set IN_ISDIR on a watch's own MOVE_SELF and DELETE_SELF (and fsnotify masks
    // it out for inotify since it reports it to fanotify).
    const Mask out = bit | ((bit & kSelf) ? 0 : isdir);
    pending_.push_back(Pending{.wd = wd, .mask = out, .cookie = cookie, .name = std::string(name)});
  }
  if (name.empty() && (bits & IN_DELETE_SELF)) {
    // The kernel dropped the mark with the inode: that is the wd's end (backend.hpp, point 1).
    pending_.push_back(Pending{.wd = wd, .mask = IN_IGNORED, .cookie = 0, .name = {}});
    std::lock_guard l(lock_);
    drop_mark(wd);
  }
}

void FanotifyBackend::emit_self(int wd, Mask bits, bool parent_only) {
  if (table_ && (bits & kToParent)) {
    const WatchId id = table_->find(wd);
    const WatchId parent = id == kNoWatch ? kNoWatch : table_->parent(id);
    if (parent != kNoWatch && table_->find(table_->wd(parent)) == parent)
      emit(table_->wd(parent), (bits & kToParent) | IN_ISDIR, 0, table_->name(id));
  }
  if (!parent_only) emit(wd, bits, 0, {});
}

int FanotifyBackend::dir_wd(const std::string& key, std::span<const char> after, int depth) {
  const int wd = lookup(key);
  return wd >= 0 || !lazy_ ? wd : resolve(key, after, depth);
}

void FanotifyBackend::decode_record(std::span<const char> record, std::span<const char> after) {
  fanotify_event_metadata md;
  std::memcpy(&md, record.data(), sizeof md);
  const Fd event_fd(md.fd >= 0 ? md.fd : -1);  // none with fid reporting; closed if ever given
  if (md.vers != FANOTIFY_METADATA_VERSION) return;
  if (md.mask & FAN_Q_OVERFLOW) {
    pending_.push_back(Pending{.wd = -1, .mask = IN_Q_OVERFLOW, .cookie = 0, .name = {}});
    return;
  }
  // A filesystem mark hears this process's own walks: its reads of directories are dropped (what
  // else this process does to the tree is reported, as inotify would).
  constexpr std::uint64_t kDirRead = FAN_OPEN | FAN_ACCESS | FAN_CLOSE_NOWRITE | FAN_ONDIR;
  if (filesystem_ && (md.mask & FAN_ONDIR) && !(md.mask & ~kDirRead) &&
      md.pid == self_pid_.load(std::memory_order_relaxed))
    return;
  RecordFids f;
  parse_record(record, f);
  const FidInfo &dir = f.dir, &object = f.object, &from = f.from, &to = f.to;
  const Mask isdir = (md.mask & FAN_ONDIR) ? IN_ISDIR : 0;
  if (md.mask & FAN_RENAME) {
    // One record, both names (the old one only when the old directory is marked, the new one
    // likewise): inotify's pair, adjacent, with one cookie (inotify(7), rename() events).
    if (++next_cookie_ == 0) ++next_cookie_;
    const int from_wd = from.present ? dir_wd(from.key, after) : -1;
    const int to_wd = to.present ? dir_wd(to.key, after) : -1;
    if (lazy_ && isdir) {
      // A directory may have moved into a tree: what was outside may be inside now.
      outside_.clear();
      if (from_wd >= 0 && to_wd >= 0 && object.present) place_renamed(object.key, from_wd, from.name, to_wd, to.name);
    }
    if (from_wd >= 0) emit(from_wd, IN_MOVED_FROM | isdir, next_cookie_, from.name);
    if (to_wd >= 0) emit(to_wd, IN_MOVED_TO | isdir, next_cookie_, to.name);
    return;
  }
  const Mask bits = (md.mask & (IN_ALL_EVENTS & ~(IN_MOVED_FROM | IN_MOVED_TO))) | isdir;
  if (lazy_ && isdir && (md.mask & FAN_DELETE) && dir.present && object.present)
    remember_removed(object.key, dir.key, dir.name);
  // An event on a directory itself comes with the directory's own handle and the name ".".
  if (dir.present && dir.name == ".") {
    const int wd = dir_wd(dir.key, after);
    if (wd < 0) return;
    // A walk opens a directory before it marks it: our own read that comes first, by the
    // directory's handle, predates the mark, and inotify would report it to the parent only.
    bool before_mark;
    {
      std::lock_guard l(lock_);
      before_mark = fresh_.erase(wd) && md.pid == ::getpid() && !(bits & ~(kSelfBits | IN_ISDIR));
    }
    emit_self(wd, bits, before_mark);
    return;
  }
  const int in_wd = dir.present ? dir_wd(dir.key, after) : -1;
  if (in_wd >= 0 && !dir.name.empty()) emit(in_wd, bits, 0, dir.name);
  // A file watched itself (an operand) hears of what happened to it after its directory does.
  if (object.present && !isdir)
    if (int wd = lookup(object.key); wd >= 0 && wd != in_wd) emit(wd, bits & ~kDirent, 0, {});
}

std::optional<RawEvent> FanotifyBackend::decode(std::span<const char>& bytes) {
  // A record stays in bytes until its last event is out, so the Reader counts it as unread (and
  // the core resolves nothing against the table) while some of its events are still to come.
  while (pending_.empty()) {
    if (bytes.size() < sizeof(fanotify_event_metadata)) return std::nullopt;
    fanotify_event_metadata md;
    std::memcpy(&md, bytes.data(), sizeof md);
    if (md.event_len < sizeof md || md.event_len > bytes.size()) {
      bytes = {};  // not a record (read(2) returns whole ones): nothing after it can be trusted
      return std::nullopt;
    }
    decode_record(bytes.first(md.event_len), bytes.subspan(md.event_len));
    record_len_ = md.event_len;
    if (pending_.empty()) bytes = bytes.subspan(record_len_);
  }
  Pending& p = pending_.front();
  name_ = std::move(p.name);
  RawEvent ev{.wd = p.wd, .mask = p.mask, .cookie = p.cookie, .name = name_};
  pending_.pop_front();
  if (pending_.empty()) bytes = bytes.subspan(record_len_);
  return ev;
}

}  // namespace libwatch
