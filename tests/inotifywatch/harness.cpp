#include "harness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

namespace iwtest {
namespace {

using Clock = std::chrono::steady_clock;

// Directory entries of a /proc directory (numbers only).
std::vector<std::string> numeric_entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) out.push_back(name);
  }
  ::closedir(d);
  return out;
}

std::vector<int> inotify_fds(pid_t pid) {
  std::vector<int> fds;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& name : numeric_entries(dir)) {
    char target[PATH_MAX];
    ssize_t n = ::readlink((dir + "/" + name).c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    if (std::string_view(target, static_cast<std::size_t>(n)) == "anon_inode:inotify") fds.push_back(std::stoi(name));
  }
  return fds;
}

// True when every thread of pid sleeps interruptibly (state S in /proc/PID/task/TID/stat).
bool threads_sleeping(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  auto tids = numeric_entries(dir);
  if (tids.empty()) return false;
  for (const auto& tid : tids) {
    std::ifstream f(dir + "/" + tid + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto paren = stat.rfind(')');
    if (paren == std::string::npos || paren + 2 >= stat.size()) return false;
    if (stat[paren + 2] != 'S') return false;
  }
  return true;
}

}  // namespace

std::string ours() { return testsupport::bin("inotifywatch"); }
std::optional<std::string> reference() { return testsupport::reference_bin("inotifywatch"); }

std::optional<std::size_t> queued_inotify_bytes(pid_t pid) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return std::nullopt;
  std::size_t total = 0;
  bool ok = true;
  for (int fd : inotify_fds(pid)) {
    int local = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, fd, 0));
    if (local < 0) {
      ok = false;
      break;
    }
    int n = 0;
    if (::ioctl(local, FIONREAD, &n) != 0) ok = false;
    ::close(local);
    if (!ok) break;
    total += static_cast<std::size_t>(n);
  }
  ::close(pidfd);
  if (!ok) return std::nullopt;
  return total;
}

bool user_namespaces_work() {
  auto r = testsupport::run({"/usr/bin/unshare", "-U", "-r", "/bin/true"});
  return r.exit.exited && r.exit.code == 0;
}

bool wait_idle(pid_t pid, std::chrono::milliseconds timeout) {
  const bool can_count = queued_inotify_bytes(pid).has_value();
  // Without the queue size, only sleeping threads can be seen: ask for a longer quiet spell.
  const int needed = can_count ? 5 : 30;
  auto deadline = Clock::now() + timeout;
  int quiet = 0;
  while (Clock::now() < deadline) {
    bool idle = threads_sleeping(pid);
    if (idle && can_count) {
      auto q = queued_inotify_bytes(pid);
      idle = q && *q == 0;
    }
    quiet = idle ? quiet + 1 : 0;
    if (quiet >= needed) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

Process start(const std::string& program, const std::vector<std::string>& args, const std::string& cwd,
              std::optional<std::string> stdin_data) {
  std::vector<std::string> argv{program};
  argv.insert(argv.end(), args.begin(), args.end());
  Process::Options o;
  o.cwd = cwd;
  o.argv0 = kArgv0;
  o.stdin_data = std::move(stdin_data);
  return Process(std::move(argv), std::move(o));
}

namespace {

int end_signal(Scenario::End e) {
  switch (e) {
    case Scenario::End::sigint:
      return SIGINT;
    case Scenario::End::sigterm:
      return SIGTERM;
    case Scenario::End::sighup:
      return SIGHUP;
    case Scenario::End::by_itself:
      return 0;
  }
  return 0;
}

constexpr std::string_view kReady = "Finished establishing watches";

Outcome outcome(Process& p) {
  Outcome o;
  o.exit = p.wait();
  o.out = p.out();
  o.err = p.err();
  o.description = p.describe();
  return o;
}

}  // namespace

Outcome run_one(const std::string& program, const Scenario& s, const std::string& root) {
  Process p = start(program, s.args, root, s.stdin_data);
  if (p.wait_stderr(kReady)) {
    for (const auto& step : s.steps) {
      if (step.act) step.act(root);
      EXPECT_TRUE(wait_idle(p.pid())) << "not idle: " << p.describe();
      if (step.signal) {
        p.signal(step.signal);
        EXPECT_TRUE(wait_idle(p.pid())) << "not idle: " << p.describe();
      }
    }
    if (int sig = end_signal(s.end)) {
      EXPECT_TRUE(wait_idle(p.pid())) << "not idle: " << p.describe();
      p.signal(sig);
    }
  }
  return outcome(p);
}

Pair run_pair(const std::string& reference_program, const Scenario& s, const TempDir& dir) {
  const std::string ref_root = dir / "ref";
  const std::string our_root = dir / "ours";
  testsupport::mkdir_p(ref_root);
  testsupport::mkdir_p(our_root);
  if (s.prepare) {
    s.prepare(ref_root);
    s.prepare(our_root);
  }
  Process ref = start(reference_program, s.args, ref_root, s.stdin_data);
  Process our = start(ours(), s.args, our_root, s.stdin_data);
  const bool ref_ready = ref.wait_stderr(kReady);
  const bool our_ready = our.wait_stderr(kReady);
  if (ref_ready && our_ready) {
    auto idle = [&] {
      EXPECT_TRUE(wait_idle(ref.pid())) << "reference not idle: " << ref.describe();
      EXPECT_TRUE(wait_idle(our.pid())) << "ours not idle: " << our.describe();
    };
    for (const auto& step : s.steps) {
      if (step.act) {
        step.act(ref_root);
        step.act(our_root);
      }
      idle();  // everything the action caused has been counted
      if (step.signal) {
        ref.signal(step.signal);
        our.signal(step.signal);
        idle();
      }
    }
  }
  if (int sig = end_signal(s.end)) {
    // Idle first: the reference installs its handlers only after "Finished establishing
    // watches", so a SIGINT right after that line still finds the setup-time handler.
    if (ref_ready) {
      EXPECT_TRUE(wait_idle(ref.pid())) << "reference not idle: " << ref.describe();
      ref.signal(sig);
    }
    if (our_ready) {
      EXPECT_TRUE(wait_idle(our.pid())) << "ours not idle: " << our.describe();
      our.signal(sig);
    }
  }
  return Pair{outcome(ref), outcome(our)};
}

}  // namespace iwtest
