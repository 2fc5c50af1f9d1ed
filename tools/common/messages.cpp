#include "toolcommon/messages.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <utility>

#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <fmt/format.h>

#ifndef TOOLCOMMON_VERSION
#error "TOOLCOMMON_VERSION must be defined by the build"
#endif

namespace toolcommon {

std::string_view version() noexcept { return TOOLCOMMON_VERSION; }

std::string version_text(std::string_view program) { return fmt::format("{} (libwatch) {}\n", program, version()); }

void print_version(std::string_view program) {
  const std::string text = version_text(program);
  if (std::fputs(text.c_str(), stdout) == EOF || std::fflush(stdout) != 0)
    throw Failure(fmt::format("Couldn't write the version: {}\n", error_text(errno)));
}

std::string error_text(int err) { return std::strerror(err); }

std::string invalid_event_message(std::string_view arg) {
  return fmt::format("'{}' is not a valid event!  Run with the '--help' option to see a list of events.\n", arg);
}

std::string watch_error_message(std::string_view operand, int err, bool failed_prefix) {
  if (err == ENOSPC) {
    return fmt::format(
        "Failed to watch {}; upper limit on inotify watches reached!\n"
        "Please increase the amount of inotify watches allowed per user via "
        "`/proc/sys/fs/inotify/max_user_watches'.\n",
        operand);
  }
  return fmt::format("{} {}: {}\n", failed_prefix ? "Failed to watch" : "Couldn't watch", operand, error_text(err));
}

namespace {

// The file systems fanotify hears nothing on, or that have no file handles, by statfs f_type.
std::string_view pseudo_fs_name(std::string_view operand) {
  struct statfs sfs;
  if (::statfs(std::string(operand).c_str(), &sfs) != 0) return {};
  switch (static_cast<unsigned long>(sfs.f_type)) {
    case PROC_SUPER_MAGIC:
      return "proc";
    case SYSFS_MAGIC:
      return "sysfs";
    case CGROUP2_SUPER_MAGIC:
      return "cgroup2";
    case DEBUGFS_MAGIC:
      return "debugfs";
    case TRACEFS_MAGIC:
      return "tracefs";
    case DEVPTS_SUPER_MAGIC:
      return "devpts";
    case FUSE_SUPER_MAGIC:
      return "fuse";
    default:
      return {};
  }
}

}  // namespace

std::string filesystem_mark_error_message(std::string_view operand, int err, bool failed_prefix) {
  const std::string_view verb = failed_prefix ? "Failed to watch" : "Couldn't watch";
  if (err == EPERM || err == EACCES)
    return fmt::format("{} {}: -S (a filesystem mark) needs CAP_SYS_ADMIN; -F and -I watch without it\n", verb,
                       operand);
  if (err == EOPNOTSUPP || err == ENODEV || err == EXDEV) {
    const std::string_view fs = pseudo_fs_name(operand);
    return fmt::format("{} {}: {} ({} file system has no file handles fanotify can report; -I uses inotify)\n", verb,
                       operand, error_text(err), fs.empty() ? std::string("its") : fmt::format("the {}", fs));
  }
  return watch_error_message(operand, err, failed_prefix);
}

std::string init_error_message(int err) {
  std::string m = fmt::format("Couldn't initialize inotify: {}\n", error_text(err));
  if (err == EMFILE) m += "Try increasing the value of /proc/sys/fs/inotify/max_user_instances\n";
  return m;
}

std::string fanotify_init_error_message(int err) {
  // EINVAL: a kernel without FAN_RENAME and FAN_REPORT_TARGET_FID.
  const char* hint = err == EINVAL   ? "needs Linux 5.17 or later"
                     : err == EMFILE ? "see /proc/sys/fs/fanotify/max_user_groups"
                                     : nullptr;
  if (hint) return fmt::format("Couldn't initialize fanotify: {} ({}; -I uses inotify)\n", error_text(err), hint);
  return fmt::format("Couldn't initialize fanotify: {} (-I uses inotify)\n", error_text(err));
}

void write_stderr(std::string_view line) noexcept {
  while (!line.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    line.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::optional<std::string> warning_message(const libwatch::Warning& warning) {
  using Kind = libwatch::Warning::Kind;
  switch (warning.kind) {
    case Kind::new_directory: {
      std::string p = warning.path;
      if (p.empty() || p.back() != '/') p += '/';
      return fmt::format("Couldn't watch new directory {}: {}\n", p, error_text(warning.error));
    }
    case Kind::rescan_failed:
      return fmt::format("Couldn't watch {}: {}\n", warning.path, error_text(warning.error));
    case Kind::unreadable_subdir:
      break;  // skipped silently, as the reference skips them
  }
  return std::nullopt;
}

std::unique_ptr<libwatch::Watcher> make_watcher(libwatch::WatcherOptions options) {
  try {
    return std::make_unique<libwatch::Watcher>(options);
  } catch (const std::system_error& e) {
    if (options.backend != libwatch::BackendKind::inotify) throw Failure(fanotify_init_error_message(e.code().value()));
    throw Failure(init_error_message(e.code().value()));
  }
}

}  // namespace toolcommon
