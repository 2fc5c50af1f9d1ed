// Helpers for the inotifywatch integration tests: waiting until a running watcher has taken in
// every queued event (a fact read from the kernel, not a sleep), and running one scenario with our
// program and the reference side by side.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "support.hpp"

namespace iwtest {

using namespace std::chrono_literals;
using testsupport::Exit;
using testsupport::Process;
using testsupport::TempDir;

// The program as run by the tests: argv[0] is "inotifywatch" for both ours and the reference, so
// that getopt's messages ("inotifywatch: invalid option -- 'x'") compare equal.
std::string ours();
std::optional<std::string> reference();
inline constexpr const char* kArgv0 = "inotifywatch";

// Waits until process pid has read everything its inotify instances queued and all its threads
// are asleep (for a while, so that a wake-up in flight is not missed). True when it got there.
// Knowing how much an inotify instance holds needs pidfd_getfd(2) (Linux 5.6, same user or
// CAP_SYS_PTRACE); without it only the sleeping threads are checked, for longer.
bool wait_idle(pid_t pid, std::chrono::milliseconds timeout = testsupport::kDeadline);

// True when `unshare -U -r` works here (the tests that set an inotify limit in a user namespace).
bool user_namespaces_work();

// Bytes queued on the inotify instances of pid, or nullopt when that cannot be read here.
std::optional<std::size_t> queued_inotify_bytes(pid_t pid);

// Starts program with args in cwd (argv[0] = "inotifywatch").
Process start(const std::string& program, const std::vector<std::string>& args, const std::string& cwd,
              std::optional<std::string> stdin_data = std::nullopt);

// Everything a run produced.
struct Outcome {
  std::string out;
  std::string err;
  Exit exit;
  std::string description;
};

// One side-by-side scenario. Both programs run at the same time, each in its own copy of the tree
// (so paths in args are relative and the outputs can be compared byte for byte).
struct Scenario {
  std::string name;                                      // test name (letters, digits, '_')
  std::function<void(const std::string& root)> prepare;  // build the tree (may be empty)
  std::vector<std::string> args;
  std::optional<std::string> stdin_data;
  // Run after "Finished establishing watches" (skipped when the program ends before that). Each
  // step acts on both trees, waits until both programs are idle (every event taken in), then
  // sends its signal and waits for idle again.
  struct Step {
    std::function<void(const std::string& root)> act;  // file-system actions (may be empty)
    int signal = 0;                                    // then this signal to the program (0: none)
  };
  std::vector<Step> steps;
  enum class End { sigint, sigterm, sighup, by_itself } end = End::sigint;
  // What the reference must produce for the scenario to test what it means to (guards against a
  // scenario that silently tests nothing): substrings of stdout and stderr, and the exit status.
  std::string expect_out;
  std::string expect_err;
  int expect_status = 0;
  bool needs_mount = false;  // prepare mounts a file system (root with CAP_SYS_ADMIN only)
};

// Test names print the scenario's name, not its bytes.
inline void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

// Runs the scenario with one program in root.
Outcome run_one(const std::string& program, const Scenario& s, const std::string& root);

// Runs both programs on the scenario at the same time.
struct Pair {
  Outcome ref;
  Outcome ours;
};
Pair run_pair(const std::string& reference_program, const Scenario& s, const TempDir& dir);

}  // namespace iwtest
