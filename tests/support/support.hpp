// Test support: temporary directories, child processes with deadlines, file helpers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace testsupport {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Generous by default: CI machines are loaded. Tests wait on facts, this only bounds a hang.
inline constexpr std::chrono::seconds kDeadline{30};

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it on destruction
// (permissions are restored first so that unreadable subdirectories go too).
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "libwatch-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(std::string_view rel) const { return path_ + "/" + std::string(rel); }

 private:
  std::string path_;
};

void write_file(const std::string& path, std::string_view content);
std::string read_file(const std::string& path);
void touch(const std::string& path);
void mkdir_p(const std::string& path);
void remove_all(const std::string& path);

// Lowers the calling thread (only it) to the lowest CPU priority (nice 19). A test's event
// producer calls it so that the consumer under test wins the CPU on a loaded machine: a producer
// given more CPU than its consumer fills any bounded kernel queue, whatever the consumer does.
void lower_this_thread_priority();

// Path of a program built by this project (build/bin/NAME).
std::string bin(std::string_view name);

// Our stderr without the line we add after the reference's two watch-limit lines ("The tree X
// holds N directories; ... sysctl ..."), for comparing with the reference byte for byte. found:
// whether there was one, well formed.
std::string without_watch_limit_line(const std::string& err, bool* found = nullptr);
// Path of the reference inotify-tools program (/usr/bin/NAME) if installed, else nullopt.
std::optional<std::string> reference_bin(std::string_view name);

struct Exit {
  bool exited = false;  // normal exit
  int code = -1;        // exit status when exited
  int signal = 0;       // terminating signal otherwise
  bool timed_out = false;
};

// A child process with its stdout and stderr captured through pipes (stdin: /dev/null unless
// stdin_data is given). Killed (SIGKILL) and reaped on destruction if still running.
class Process {
 public:
  struct Options {
    std::string cwd;                         // empty: inherit
    std::map<std::string, std::string> env;  // added to / overriding the environment
    std::optional<std::string> stdin_data;   // written then closed
    std::string argv0;                       // override argv[0] (exec -a)
    int stderr_fd = -1;  // >= 0: the child's stderr is this fd, read by the caller (err() stays empty)
  };
  explicit Process(std::vector<std::string> argv);
  Process(std::vector<std::string> argv, Options options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Wait until stderr (or stdout) contains needle. False at the deadline or if the child exits first
  // without having printed it.
  bool wait_stderr(std::string_view needle, std::chrono::milliseconds timeout = kDeadline);
  bool wait_stdout(std::string_view needle, std::chrono::milliseconds timeout = kDeadline);
  // Wait until stdout holds at least n lines ('\n'-terminated).
  bool wait_stdout_lines(std::size_t n, std::chrono::milliseconds timeout = kDeadline);
  void signal(int sig);
  // Wait for the child to end; on timeout kill it and report timed_out.
  Exit wait(std::chrono::milliseconds timeout = kDeadline);
  // Everything read so far (call pump() or a wait_* to read more).
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }
  // Read what is available now without blocking (or up to timeout for something to arrive).
  void pump(std::chrono::milliseconds timeout = 0ms);
  // Stop reading stdout for a while: leave the pipe unread (for slow-reader tests).
  std::vector<std::string> out_lines() const;
  // A description for failure messages: argv, exit, stdout and stderr.
  std::string describe() const;

 private:
  bool wait_for(const std::string& buf_name, std::string_view needle, std::chrono::milliseconds timeout);
  bool running();
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  std::optional<Exit> exit_;
};

// Run to completion and capture everything.
struct RunResult {
  Exit exit;
  std::string out;
  std::string err;
};
RunResult run(std::vector<std::string> argv, Process::Options options = {},
              std::chrono::milliseconds timeout = kDeadline);

}  // namespace testsupport
