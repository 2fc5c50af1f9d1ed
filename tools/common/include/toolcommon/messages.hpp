// Errors, exit statuses and the messages both tools share, worded as inotify-tools words them.
#pragma once

#include <memory>
#include <optional>

#include <libwatch/watcher.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace toolcommon {

// Exit statuses of inotifywait (inotifywatch uses 0 and 1).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitTimeout = 2;

// A problem that ends the program: message (zero or more complete lines, each ending in '\n')
// goes to stderr, then the program exits with status. Thrown by the parsers below and by option
// handlers; main() catches it in one place.
class Failure : public std::runtime_error {
 public:
  explicit Failure(std::string message, int status = kExitFailure)
      : std::runtime_error(std::move(message)), status_(status) {}
  int status() const noexcept { return status_; }
  std::string_view message() const noexcept { return what(); }

 private:
  int status_;
};

// "0.1.0": the project version, for --help (D16).
std::string_view version() noexcept;

// What --version prints (an addition; the reference has none): "<program> (libwatch) 0.1.0\n",
// the same line that begins --help.
std::string version_text(std::string_view program);

// Writes version_text(program) to stdout and flushes it; throws Failure (status 1) if that fails,
// so that "--version >/dev/full" does not exit 0.
void print_version(std::string_view program);

// Shared message texts, newline included.
inline constexpr std::string_view kNoFilesMessage = "No files specified to watch!\n";

// "'<arg>' is not a valid event!  Run with the '--help' option to see a list of events.\n"
std::string invalid_event_message(std::string_view arg);

// The messages for a watch that could not be set up for operand (errno err), as inotifywait
// prints them:
//   ENOSPC: "Failed to watch <operand>; upper limit on inotify watches reached!\n"
//           "Please increase the amount of inotify watches allowed per user via
//            `/proc/sys/fs/inotify/max_user_watches'.\n"
//   other:  "Couldn't watch <operand>: <strerror>\n"
// inotifywatch uses "Failed to watch <operand>: <strerror>\n" for the second case: pass
// failed_prefix = true.
std::string watch_error_message(std::string_view operand, int err, bool failed_prefix = false);

// The same for a watch that failed under -S (a fanotify filesystem mark), in one line: EPERM says
// that it needs CAP_SYS_ADMIN and names -F/-I; a file system without file handles or fanotify
// events (EOPNOTSUPP, ENODEV, EXDEV) is named and -I suggested; anything else as above.
std::string filesystem_mark_error_message(std::string_view operand, int err, bool failed_prefix = false);

// inotify_init failure: "Couldn't initialize inotify: <strerror>\n", plus for EMFILE
// "Try increasing the value of /proc/sys/fs/inotify/max_user_instances\n".
std::string init_error_message(int err);

// strerror(err) as glibc words it ("No such file or directory").
std::string error_text(int err);

// All of line to stderr, unbuffered, retried after EINTR; async-signal-safe (the tools' signal
// handlers use it). A stderr that fails is given up on silently: there is nowhere to say so.
void write_stderr(std::string_view line) noexcept;

// What a libwatch warning prints, as the reference words it ("Couldn't watch new directory
// d/n/: Permission denied\n"); nullopt for the warnings the reference keeps silent.
std::optional<std::string> warning_message(const libwatch::Warning& warning);

// One line for -F when fanotify_init(2) fails: the errno text, why, and -I as the way out.
std::string fanotify_init_error_message(int err);

// A Watcher, or the Failure (exit 1) with the reference's inotify_init message (for -F: the
// fanotify one above).
std::unique_ptr<libwatch::Watcher> make_watcher(libwatch::WatcherOptions options = {});

}  // namespace toolcommon
