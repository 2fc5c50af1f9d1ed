// What the file systems under a watched tree mean for the user: network and pseudo file systems
// whose changes made elsewhere inotify never reports, and the numbers behind the watch limit.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libwatch/watcher.hpp>

namespace toolcommon {

// The name of a file system type whose changes made by other machines (or by the server) inotify
// cannot see ("nfs", "cifs", "fuse.sshfs", "9p", ...), from statfs(2)'s f_type; nullopt for the
// others.
std::optional<std::string_view> remote_fs_name(std::int64_t f_type) noexcept;
// The same from the type named in /proc/self/mountinfo ("nfs4", "fuse.sshfs"): true when remote.
bool remote_fs_type(std::string_view type) noexcept;

struct RemoteMount {
  std::string path;  // the mount point as the user would type it (the operand, or below it)
  std::string type;  // its file system type
};
// The mount points strictly below the directory real (a canonical path) that carry a remote file
// system, from the text of /proc/self/mountinfo, shown below operand (how the user named real).
std::vector<RemoteMount> remote_mounts_below(std::string_view mountinfo, const std::string& real,
                                             const std::string& operand);

// The warning lines for a watched operand: its own file system and, when recursive, every remote
// mount inside its tree. Each line names the path, the type and what to do. Empty when all is
// local (or the operand cannot be looked at: the watch itself reports that).
std::vector<std::string> remote_fs_warnings(const std::string& operand, bool recursive);
std::string remote_fs_warning(const std::string& path, std::string_view type);

// For the message when -r ran into max_user_watches: how many directories the tree holds
// (counted without watching them, for at most `budget`), the limit, the watches this user already
// holds (when it can be read), and the sysctl that makes room, rounded up with headroom.
struct WatchNeeds {
  std::uint64_t directories = 0;
  bool complete = true;                                // false: the count stopped at the budget ("at least")
  std::optional<std::uint64_t> limit;                  // /proc/sys/fs/inotify/max_user_watches
  std::optional<std::uint64_t> in_use;                 // inotify watches of this user's processes
  std::string sysctl = "fs.inotify.max_user_watches";  // the setting that holds limit
};
WatchNeeds count_watch_needs(const std::string& operand, std::chrono::milliseconds budget);
// The value to suggest: everything needed (at least the limit that was hit) plus a quarter,
// rounded up to a multiple of 10,000.
std::uint64_t suggested_limit(const WatchNeeds& needs) noexcept;
// The added line, newline included: "The tree big holds 3 directories; the limit is 2 watches per
// user, 0 in use: `sysctl fs.inotify.max_user_watches=10000` raises it until the next boot, a line
// `fs.inotify.max_user_watches=10000` in /etc/sysctl.d/90-inotify-watches.conf makes it last.\n"
// With filesystem_mark (this process could place one, filesystem_mark_possible()), the line ends
// " Or use -S: a fanotify filesystem mark needs no watch per directory."
std::string watch_limit_line(const std::string& operand, const WatchNeeds& needs, bool filesystem_mark = false);

// Whether this process may put a fanotify filesystem mark (-S) on path's file system: tried on
// a fanotify group of its own, closed at once.
bool filesystem_mark_possible(const std::string& path);

// How a tool words a failed add(): under which backend, whether -r was given (only then does
// the watch limit get the line with the tree's numbers), "Failed to watch" first (inotifywatch),
// and whether that line may name -S as the way out.
struct AddFailureWording {
  libwatch::BackendKind backend = libwatch::BackendKind::inotify;
  bool recursive = false;
  bool failed_prefix = false;
  bool mark_hint = true;
};
// The whole message, newline included, of an add() of operand that failed with err.
std::string add_error_message(const std::string& operand, int err, const AddFailureWording& how);

}  // namespace toolcommon
