#include "toolcommon/filesystems.hpp"

#include "toolcommon/messages.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <libwatch/fd.hpp>

namespace toolcommon {
namespace {

// statfs(2) magic numbers (linux/magic.h and the file systems' own headers).
struct Magic {
  std::int64_t f_type;
  std::string_view name;
};
constexpr Magic kRemote[] = {
    {0x6969, "nfs"},      {0xFF534D42, "cifs"},  {0xFE534D42, "smb2"}, {0x517B, "smb"},      {0x65735546, "fuse"},
    {0x01021997, "9p"},   {0x00C36400, "ceph"},  {0x5346414F, "afs"},  {0x73757245, "coda"}, {0x0BD00BD0, "lustre"},
    {0x47504653, "gpfs"}, {0x013111A8, "ibrix"}, {0x6B414653, "kafs"}, {0x564C, "ncp"},      {0xBEEFDEAD, "snfs"},
};

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && s.size() - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<std::uint64_t> read_number(const char* file) {
  std::ifstream f(file);
  std::uint64_t n = 0;
  if (f >> n) return n;
  return std::nullopt;
}

// inotify watches held by the processes of this user: the "inotify wd:" lines of their inotify
// descriptors' fdinfo. nullopt when /proc cannot be read.
std::optional<std::uint64_t> watches_in_use(std::chrono::steady_clock::time_point deadline) {
  DIR* proc = ::opendir("/proc");
  if (!proc) return std::nullopt;
  const uid_t me = ::getuid();
  std::uint64_t n = 0;
  while (dirent* e = ::readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (std::chrono::steady_clock::now() > deadline) {
      ::closedir(proc);
      return std::nullopt;
    }
    const std::string base = std::string("/proc/") + e->d_name;
    struct stat st {};
    if (::stat(base.c_str(), &st) != 0 || st.st_uid != me) continue;
    DIR* fds = ::opendir((base + "/fd").c_str());
    if (!fds) continue;
    while (dirent* f = ::readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      char target[64];
      const ssize_t len = ::readlink((base + "/fd/" + f->d_name).c_str(), target, sizeof target - 1);
      if (len <= 0 || std::string_view(target, static_cast<std::size_t>(len)) != "anon_inode:inotify") continue;
      std::ifstream info(base + "/fdinfo/" + f->d_name);
      for (std::string line; std::getline(info, line);)
        if (line.rfind("inotify wd:", 0) == 0) ++n;
    }
    ::closedir(fds);
  }
  ::closedir(proc);
  return n;
}

std::string with_commas(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

}  // namespace

std::optional<std::string_view> remote_fs_name(std::int64_t f_type) noexcept {
  for (const Magic& m : kRemote)
    if (m.f_type == f_type) return m.name;
  return std::nullopt;
}

bool remote_fs_type(std::string_view type) noexcept {
  // fuse.* : sshfs, rclone, s3fs, ... (fuseblk is a local disk, e.g. ntfs-3g; fusectl is a control fs).
  if (type.rfind("fuse.", 0) == 0) return type != "fuse.lxcfs" && type != "fuse.portal";
  for (std::string_view t : {"fuse", "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "afs", "coda", "lustre",
                             "gpfs", "glusterfs", "ncpfs", "davfs", "ocfs2", "gfs2"})
    if (type == t) return true;
  return false;
}

std::vector<RemoteMount> remote_mounts_below(std::string_view mountinfo, const std::string& real,
                                             const std::string& operand) {
  std::vector<RemoteMount> out;
  const std::string prefix = real == "/" ? "/" : real + "/";
  std::istringstream in{std::string(mountinfo)};
  for (std::string line; std::getline(in, line);) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    std::istringstream fields(line);
    std::string id, parent, dev, root, point;
    if (!(fields >> id >> parent >> dev >> root >> point)) continue;
    std::string word, type;
    while (fields >> word)
      if (word == "-") {
        fields >> type;
        break;
      }
    point = unescape(point);
    if (type.empty() || point.size() <= prefix.size() || point.compare(0, prefix.size(), prefix) != 0) continue;
    if (!remote_fs_type(type)) continue;
    std::string shown = operand;
    if (shown.empty() || shown.back() != '/') shown += '/';
    shown += point.substr(prefix.size());
    out.push_back(RemoteMount{.path = shown, .type = type});
  }
  return out;
}

std::string remote_fs_warning(const std::string& path, std::string_view type) {
  return fmt::format(
      "Warning: {} is on a network file system ({}): inotify sees only the changes made on this machine, not "
      "those made by other clients or the server; run the watcher on the machine that exports it, or add "
      "periodic full syncs (inotifysync --full-sync-interval).\n",
      path, type);
}

std::vector<std::string> remote_fs_warnings(const std::string& operand, bool recursive) {
  std::vector<std::string> lines;
  struct statfs fs {};
  if (::statfs(operand.c_str(), &fs) != 0) return lines;
  if (auto name = remote_fs_name(static_cast<std::int64_t>(fs.f_type)))
    lines.push_back(remote_fs_warning(operand, *name));
  if (!recursive) return lines;
  char* real = ::realpath(operand.c_str(), nullptr);
  if (!real) return lines;
  const std::string canonical(real);
  std::free(real);
  std::ifstream f("/proc/self/mountinfo");
  std::stringstream text;
  text << f.rdbuf();
  for (const RemoteMount& m : remote_mounts_below(text.str(), canonical, operand))
    lines.push_back(remote_fs_warning(m.path, m.type));
  return lines;
}

WatchNeeds count_watch_needs(const std::string& operand, std::chrono::milliseconds budget) {
  WatchNeeds needs;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  needs.limit = read_number("/proc/sys/fs/inotify/max_user_watches");
  // In a user namespace its own limit may be the lower one (in the first namespace both are one).
  if (auto ns = read_number("/proc/sys/user/max_inotify_watches"); ns && (!needs.limit || *ns < *needs.limit)) {
    needs.limit = ns;
    needs.sysctl = "user.max_inotify_watches";
  }
  // Depth first with one open descriptor per level (a deep tree is bounded by RLIMIT_NOFILE like
  // the watch itself); a directory that cannot be read still counts as one watch.
  struct Level {
    DIR* dir;
  };
  std::vector<Level> stack;
  int fd = ::open(operand.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return needs;
  DIR* top = ::fdopendir(fd);
  if (!top) {
    ::close(fd);
    return needs;
  }
  needs.directories = 1;
  stack.push_back({top});
  std::uint64_t steps = 0;
  while (!stack.empty()) {
    if ((++steps & 1023) == 0 && std::chrono::steady_clock::now() > deadline) {
      needs.complete = false;
      break;
    }
    dirent* e = ::readdir(stack.back().dir);
    if (!e) {
      ::closedir(stack.back().dir);
      stack.pop_back();
      continue;
    }
    if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
    bool is_dir = e->d_type == DT_DIR;
    const int parent = ::dirfd(stack.back().dir);
    if (e->d_type == DT_UNKNOWN) {
      struct stat st {};
      is_dir = ::fstatat(parent, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (!is_dir) continue;
    ++needs.directories;
    const int child = ::openat(parent, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (child < 0) continue;
    if (DIR* d = ::fdopendir(child))
      stack.push_back({d});
    else
      ::close(child);
  }
  for (Level& l : stack) ::closedir(l.dir);
  needs.in_use = watches_in_use(deadline + budget);
  return needs;
}

std::uint64_t suggested_limit(const WatchNeeds& needs) noexcept {
  std::uint64_t need = needs.directories + needs.in_use.value_or(0);
  // The count cannot be less than what did not fit (an uncounted part, or watches of other users
  // in this namespace): never suggest less than the limit that was hit.
  if (needs.limit && need < *needs.limit) need = *needs.limit;
  const std::uint64_t with_headroom = need + need / 4;
  return (with_headroom / 10000 + 1) * 10000;
}

bool filesystem_mark_possible(const std::string& path) {
  const libwatch::Fd group(::fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_REPORT_DFID_NAME_TARGET, O_RDONLY));
  if (!group) return false;
  return ::fanotify_mark(group.get(), FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_CREATE | FAN_ONDIR, AT_FDCWD,
                         path.c_str()) == 0;
}

std::string watch_limit_line(const std::string& operand, const WatchNeeds& needs, bool filesystem_mark) {
  const std::uint64_t n = suggested_limit(needs);
  std::string limit = needs.limit ? fmt::format("the limit is {} watches per user", with_commas(*needs.limit))
                                  : std::string("the limit could not be read");
  std::string used = needs.in_use ? fmt::format(", {} in use", with_commas(*needs.in_use)) : std::string();
  return fmt::format(
      "The tree {} holds {}{} directories; {}{}: `sysctl {}={}` makes room until the next boot, a line `{}={}` in "
      "/etc/sysctl.d/90-inotify-watches.conf makes it last.{}\n",
      operand, needs.complete ? "" : "at least ", with_commas(needs.directories), limit, used, needs.sysctl, n,
      needs.sysctl, n, filesystem_mark ? " Or use -S: a fanotify filesystem mark needs no watch per directory." : "");
}

std::string add_error_message(const std::string& operand, int err, const AddFailureWording& how) {
  // Counting a tree for the watch-limit line stops after this long (one pass over a million
  // directories on a warm cache takes about this long): a message must not wait on a huge tree.
  constexpr std::chrono::seconds kCountBudget{3};
  const bool filesystem = how.backend == libwatch::BackendKind::fanotify_filesystem;
  std::string text = filesystem ? filesystem_mark_error_message(operand, err, how.failed_prefix)
                                : watch_error_message(operand, err, how.failed_prefix);
  if (err == ENOSPC && how.recursive)
    text += watch_limit_line(
        operand, count_watch_needs(operand, kCountBudget),
        how.mark_hint && how.backend == libwatch::BackendKind::inotify && filesystem_mark_possible(operand));
  return text;
}

}  // namespace toolcommon
